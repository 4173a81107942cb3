"""State survives restarts; environment files, rate limits and the CLI behave."""

from __future__ import annotations

import argparse
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from drchrono_sandbox import Sandbox, SandboxConfig
from drchrono_sandbox import cli as sandbox_cli
from drchrono_sandbox.errors import SandboxError
from drchrono_sandbox.throttle import DrChronoThrottle


def refresh(sb: Sandbox, token: str) -> httpx.Response:
    return httpx.post(
        f"{sb.base_url}/o/token/",
        auth=(sb.client_id, sb.client_secret),
        data={"grant_type": "refresh_token", "refresh_token": token},
    )


def test_rotated_refresh_token_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "sandbox-state.json"
    config = SandboxConfig(seed=9, state_file=state, patients=4, appointments=4)
    with Sandbox(config) as first:
        ready = first.refresh_token
        rotated = refresh(first, ready).json()
        assert "refresh_token" in rotated
        access = rotated["access_token"]
        created = httpx.post(
            f"{first.base_url}/api/patients",
            headers={"Authorization": f"Bearer {access}"},
            json={
                "first_name": "Kept",
                "last_name": "Across",
                "gender": "Male",
                "doctor": first.doctor_id,
            },
        ).json()
        client = (first.client_id, first.client_secret)
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    text = state.read_text()
    for secret in (ready, rotated["refresh_token"], access, client[1]):
        assert secret not in text, "tokens and secrets are stored hashed"
    with Sandbox(config) as second:
        assert (second.client_id, second.client_secret) == client
        assert refresh(second, ready).json()["error"] == "invalid_grant"
        renewed = refresh(second, rotated["refresh_token"])
        assert renewed.status_code == 200
        headers = {"Authorization": f"Bearer {access}"}
        assert httpx.get(f"{second.base_url}/api/doctors", headers=headers).status_code == 401
        headers = {"Authorization": f"Bearer {renewed.json()['access_token']}"}
        kept = httpx.get(f"{second.base_url}/api/patients/{created['id']}", headers=headers)
        assert kept.json()["first_name"] == "Kept"
        # The seed's ready token was spent, so this run hands out a new working one.
        assert second.refresh_token != ready
        assert refresh(second, second.refresh_token).status_code == 200


def test_corrupt_state_file_is_a_clear_error(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text("{not json")
    with pytest.raises(SandboxError, match="state.json"):
        Sandbox(SandboxConfig(state_file=state))


def test_environment_file(tmp_path: Path) -> None:
    with Sandbox(SandboxConfig(seed=1, patients=2, appointments=2)) as sb:
        path = sb.write_environment(tmp_path / "sandbox.postman_environment.json")
        values = {v["key"]: v["value"] for v in json.loads(path.read_text())["values"]}
        assert values == sb.environment()
        assert values["base_url"] == values["auth_base_url"] == sb.base_url
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        office = httpx.get(
            f"{sb.base_url}/api/offices/{values['office_id']}",
            headers={
                "Authorization": f"Bearer {refresh(sb, values['refresh_token']).json()['access_token']}"
            },
        ).json()
        assert int(values["exam_room"]) in [room["index"] for room in office["exam_rooms"]]


def test_burst_limit_per_second_and_hourly_reset() -> None:
    now = [1000.0]
    limiter = DrChronoThrottle(hourly_limit=500, burst_limit=10, clock=lambda: now[0])
    assert all(limiter.allow("app") for _ in range(10))
    assert not limiter.allow("app")
    assert limiter.allow("other-app"), "limits are per application"
    now[0] += 1.01
    assert limiter.allow("app")
    hourly = DrChronoThrottle(hourly_limit=2, burst_limit=10, clock=lambda: now[0])
    assert hourly.allow("app") and hourly.allow("app") and not hourly.allow("app")
    now[0] = (now[0] // 3600 + 1) * 3600  # top of the next hour
    assert hourly.allow("app")


def test_cli_registers_the_sandbox_command() -> None:
    parser = argparse.ArgumentParser()
    sandbox_cli.register(parser.add_subparsers())
    args = parser.parse_args(
        [
            "sandbox",
            "--port",
            "0",
            "--fault",
            "/api/patients*:500:2",
            "--rate-limit",
            "--access-ttl",
            "60",
        ]
    )
    assert args.func is sandbox_cli.run
    assert (args.port, args.host, args.rate_limit, args.access_ttl) == (0, "127.0.0.1", True, 60)


def test_cli_serves_in_the_foreground(tmp_path: Path) -> None:
    env_file = tmp_path / "env.json"
    script = (
        "import argparse, sys\n"
        "from drchrono_sandbox import cli\n"
        "p = argparse.ArgumentParser(); cli.register(p.add_subparsers())\n"
        "a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))\n"
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            script,
            "sandbox",
            "--port",
            "0",
            "--env-file",
            str(env_file),
            "--fault",
            "/api/doctors:503:1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(2)]
        assert lines[0].startswith("DrChrono sandbox on http://127.0.0.1:")
        base_url = lines[0].split()[3]
        deadline = time.monotonic() + 10
        while not env_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        values = {v["key"]: v["value"] for v in json.loads(env_file.read_text())["values"]}
        assert values["base_url"] == base_url and lines[1].split()[-1] == values["client_id"]
        token = httpx.post(
            f"{base_url}/o/token/",
            data={
                "grant_type": "refresh_token",
                "refresh_token": values["refresh_token"],
                "client_id": values["client_id"],
                "client_secret": values["client_secret"],
            },
        )
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        assert httpx.get(f"{base_url}/api/doctors", headers=headers).status_code == 503
        assert httpx.get(f"{base_url}/api/doctors", headers=headers).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
