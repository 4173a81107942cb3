"""The token store across processes: rotation over restarts, one refresh for many, crashes.

Each worker is a fresh Python process that builds a TokenManager on a shared store file and talks
to the sandbox over HTTP, as parallel CI jobs or pytest-xdist workers would.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from drchrono_sandbox import Sandbox, SandboxConfig
from harness.auth import OAuth2Settings, StoredToken, TokenManager, TokenStore
from harness.redaction import SecretRegistry
from tests.conftest import PROJECT
from tests.crash_helpers.crash_at import CRASH_EXIT_CODE

# Many processes sharing one token store: slow on 2 cores. `make test-slow` (and CI) runs it.
pytestmark = pytest.mark.slow

WORKER = r"""
import hashlib, json, os, sys, time
import httpx
from harness.auth import OAuth2Settings, TokenManager, TokenStore
from harness.errors import HarnessError
from harness.redaction import SecretRegistry

store_path, mode, go_file = sys.argv[1], sys.argv[2], sys.argv[3]
if os.environ.get("CRASH_AT"):
    from tests.crash_helpers.crash_at import arm
    arm(os.environ["CRASH_AT"])
params = json.loads(os.environ["WORKER_PARAMS"])
while go_file != "-" and not os.path.exists(go_file):
    time.sleep(0.005)
try:
    with httpx.Client(timeout=20) as client:
        manager = TokenManager(OAuth2Settings.from_postman(params), store=TokenStore(store_path),
                               client=client, secrets=SecretRegistry(),
                               refresh_token=os.environ.get("DRCHRONO_REFRESH_TOKEN") or None)
        token = manager.refresh().access_token if mode == "refresh" else manager.access_token()
except HarnessError as err:
    print(f"error: {err}", file=sys.stderr)
    sys.exit(2)
print(hashlib.sha256(token.encode()).hexdigest())
"""


def start_sandbox(grace_s: float = 0.0) -> Sandbox:
    return Sandbox(SandboxConfig(refresh_grace_s=grace_s), port=0).start()


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    sandbox = start_sandbox()
    yield sandbox
    sandbox.stop()


@pytest.fixture(scope="module")
def graced() -> Iterator[Sandbox]:
    sandbox = start_sandbox(60)
    yield sandbox
    sandbox.stop()


def params(sb: Sandbox) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "accessTokenUrl": f"{sb.base_url}/o/token/",
        "clientId": sb.client_id,
        "clientSecret": sb.client_secret,
        "tokenName": "ci",
    }


def spawn(
    sb: Sandbox,
    store: Path,
    mode: str = "access",
    *,
    seed: str | None = None,
    crash_at: str | None = None,
    go_file: Path | None = None,
) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CRASH_AT", "DRCHRONO_REFRESH_TOKEN")}
    env["WORKER_PARAMS"] = json.dumps(params(sb))
    env["PYTHONPATH"] = str(PROJECT)  # for tests.crash_helpers
    if seed:
        env["DRCHRONO_REFRESH_TOKEN"] = seed
    if crash_at:
        env["CRASH_AT"] = crash_at
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, str(store), mode, str(go_file) if go_file else "-"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run(sb: Sandbox, store: Path, mode: str = "access", **kw: Any) -> tuple[int, str, str]:
    process = spawn(sb, store, mode, **kw)
    out, err = process.communicate(timeout=60)
    return process.returncode, out.strip(), err


def manager(sb: Sandbox, store: Path) -> TokenManager:
    return TokenManager(
        OAuth2Settings.from_postman(params(sb)),
        store=TokenStore(store),
        client=httpx.Client(),
        secrets=SecretRegistry(),
    )


def seed_expired_store(sb: Sandbox, path: Path) -> str:
    """A store whose access token has expired and whose refresh token is live."""
    refresh = sb.issue_refresh_token()
    now = time.time()
    TokenStore(path).put(
        StoredToken(
            token_name="ci",
            client_id=sb.client_id,
            token_url=f"{sb.base_url}/o/token/",
            access_token="expired-access-token",
            expires_at=now - 10,
            obtained_at=now - 3600,
            refresh_token=refresh,
        )
    )
    return refresh


def works(sb: Sandbox, store: Path, token_sha256: str) -> bool:
    entry = TokenStore(store).all()[0]
    assert entry.access_token is not None
    if hashlib.sha256(entry.access_token.encode()).hexdigest() != token_sha256:
        return False
    response = httpx.get(
        f"{sb.base_url}/api/users/current",
        follow_redirects=True,
        headers={"Authorization": f"Bearer {entry.access_token}"},
    )
    return response.status_code == 200


def test_rotation_survives_process_restarts(sb: Sandbox, tmp_path: Path) -> None:
    store = tmp_path / "tokens.json"
    seed = sb.issue_refresh_token()
    for _ in range(2):  # the second run still has the spent seed in its environment
        code, out, err = run(sb, store, "refresh", seed=seed)
        assert code == 0, err
        assert works(sb, store, out)
    assert not sb.store.has_refresh(seed)
    reauthorized = sb.issue_refresh_token()  # the user authorized again: the new seed wins
    code, out, err = run(sb, store, "refresh", seed=reauthorized)
    assert code == 0, err
    assert not sb.store.has_refresh(reauthorized)  # it was the one spent
    assert sb.store.has_refresh(TokenStore(store).all()[0].refresh_token or "")


def test_eight_processes_one_refresh(sb: Sandbox, tmp_path: Path) -> None:
    store = tmp_path / "tokens.json"
    seed_expired_store(sb, store)
    sb.reset_request_counts()
    go = tmp_path / "go"
    workers = [spawn(sb, store, go_file=go) for _ in range(8)]
    time.sleep(0.3)  # let them import and wait at the start line
    go.touch()
    outcomes = [w.communicate(timeout=60) for w in workers]
    assert [w.returncode for w in workers] == [0] * 8, [e for _, e in outcomes]
    tokens = {out.strip() for out, _ in outcomes}
    assert len(tokens) == 1
    assert sb.request_count("/o/token/") == 1
    assert works(sb, store, tokens.pop())


RECOVERS_WITHOUT_GRACE = ["before_request", "during_store_write", "after_store_write"]
NEEDS_GRACE = ["after_response", "store_write_partial"]


@pytest.mark.parametrize("point", RECOVERS_WITHOUT_GRACE)
def test_crash_during_refresh_leaves_a_usable_refresh_token(
    sb: Sandbox, tmp_path: Path, point: str
) -> None:
    assert_recovers(sb, tmp_path, point)


@pytest.mark.parametrize("point", NEEDS_GRACE)
def test_crash_after_rotation_recovers_within_a_grace_period(
    graced: Sandbox, tmp_path: Path, point: str
) -> None:
    assert_recovers(graced, tmp_path, point)


def assert_recovers(sb: Sandbox, tmp_path: Path, point: str) -> None:
    store = tmp_path / "tokens.json"
    seed_expired_store(sb, store)
    code, _, err = run(sb, store, crash_at=point)
    assert code == CRASH_EXIT_CODE, err
    code, out, err = run(sb, store)
    assert code == 0, err
    assert works(sb, store, out)
    # And the refresh token now stored is live: one more rotation succeeds.
    manager(sb, store).refresh()
    assert not list(tmp_path.glob(".tokens.json.*.tmp"))


@pytest.mark.parametrize("point", NEEDS_GRACE)
def test_crash_after_rotation_without_grace_explains_what_happened(
    sb: Sandbox, tmp_path: Path, point: str
) -> None:
    store = tmp_path / "tokens.json"
    refresh = seed_expired_store(sb, store)
    code, _, err = run(sb, store, crash_at=point)
    assert code == CRASH_EXIT_CODE
    code, _, err = run(sb, store)
    assert code == 2
    assert "was interrupted" in err and "harness auth login" in err
    assert "Traceback" not in err and refresh not in err and sb.client_secret not in err
