"""Shared fixtures: a sandbox on loopback and a way to run the real CLI in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from drchrono_sandbox import Sandbox, SandboxConfig

PROJECT = Path(__file__).resolve().parent.parent


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120
) -> CliResult:
    """Run ``harness`` exactly as a user would, in a fresh process."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DRCHRONO_")}
    environment.update({"CI": "1", "NO_COLOR": "1"})
    environment.update(env or {})
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        cwd=cwd or PROJECT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return CliResult(done.returncode, done.stdout, done.stderr)


def refresh_grant(http: httpx.Client, sb: Sandbox, token: str, **extra: str) -> httpx.Response:
    """POST the refresh-token grant for ``token`` to the sandbox's token endpoint."""
    return http.post(
        "/o/token/",
        data={
            "grant_type": "refresh_token",
            "refresh_token": token,
            "client_id": sb.client_id,
            "client_secret": sb.client_secret,
            **extra,
        },
    )


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=7), host="127.0.0.1", port=0) as running:
        yield running


@pytest.fixture
def sandbox_env(sandbox: Sandbox, tmp_path: Path) -> Path:
    """A Postman environment file pointing at the test's own sandbox (target 'live' rules apply)."""
    path = tmp_path / "sandbox-env.json"
    sandbox.write_environment(path)
    return path


def secret_values_in_store(store: Path) -> set[str]:
    """Every token the run stored (access and rotated refresh tokens)."""
    found: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key in ("access_token", "refresh_token") and isinstance(inner, str):
                    found.add(inner)
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(json.loads(store.read_text()))
    return found
