"""The refresh-token grace period, as django-oauth-toolkit's REFRESH_TOKEN_GRACE_PERIOD_SECONDS.

A client that crashed (or lost the answer) after its refresh rotated the token presents the
spent token again; within the grace period it gets the same pair, after it invalid_grant.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from drchrono_sandbox import Sandbox, SandboxConfig
from drchrono_sandbox import cli as sandbox_cli
from tests.conftest import refresh_grant as refresh

GRACE_S = 30.0


class FakeClock:
    """The store's clock, moved by hand so a test can step past the grace period."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture()
def sb(clock: FakeClock) -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=5, refresh_grace_s=GRACE_S)) as sandbox:
        sandbox.store.clock = clock
        yield sandbox


@pytest.fixture()
def http(sb: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sb.base_url, timeout=10) as client:
        yield client


def pair(response: httpx.Response) -> tuple[str, str]:
    assert response.status_code == 200, response.text
    body = response.json()
    return body["access_token"], body["refresh_token"]


def api_status(http: httpx.Client, access_token: str) -> int:
    return http.get("/api/doctors", headers={"Authorization": f"Bearer {access_token}"}).status_code


def test_spent_token_within_grace_gets_the_same_pair(
    http: httpx.Client, sb: Sandbox, clock: FakeClock
) -> None:
    spent = sb.issue_refresh_token()
    first = refresh(http, sb, spent)
    clock.now += GRACE_S - 1
    again = refresh(http, sb, spent)
    assert pair(again) == pair(first)
    assert again.json()["scope"] == first.json()["scope"]
    assert again.headers["cache-control"] == "no-store"
    access, renewed = pair(again)
    assert api_status(http, access) == 200
    # The pair is an ordinary one: its refresh token rotates, and has a grace of its own.
    third = pair(refresh(http, sb, renewed))
    assert third[1] not in (spent, renewed)
    assert pair(refresh(http, sb, renewed)) == third
    clock.now += GRACE_S + 1
    assert refresh(http, sb, renewed).json()["error"] == "invalid_grant"


def test_spent_token_after_grace_is_invalid_grant(
    http: httpx.Client, sb: Sandbox, clock: FakeClock
) -> None:
    spent = sb.issue_refresh_token()
    access, renewed = pair(refresh(http, sb, spent))
    clock.now += GRACE_S + 1
    late = refresh(http, sb, spent)
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"
    # The pair the rotation issued is untouched by the late attempt.
    assert api_status(http, access) == 200
    assert pair(refresh(http, sb, renewed))


def test_grace_ends_once_the_new_pair_is_spent(http: httpx.Client, sb: Sandbox) -> None:
    spent = sb.issue_refresh_token()
    _, renewed = pair(refresh(http, sb, spent))
    pair(refresh(http, sb, renewed))
    # Handing out the spent pair again would only lead to a 401; refuse it instead.
    assert refresh(http, sb, spent).json()["error"] == "invalid_grant"


def test_revoking_the_new_pair_or_the_spent_token_ends_the_grace(
    http: httpx.Client, sb: Sandbox
) -> None:
    spent = sb.issue_refresh_token()
    _, renewed = pair(refresh(http, sb, spent))
    assert sb.revoke(renewed)
    assert refresh(http, sb, spent).json()["error"] == "invalid_grant"

    spent = sb.issue_refresh_token()
    _, renewed = pair(refresh(http, sb, spent))
    revoked = http.post(
        "/o/revoke_token/",
        data={"token": spent, "client_id": sb.client_id, "client_secret": sb.client_secret},
    )
    assert revoked.status_code == 200
    assert refresh(http, sb, spent).json()["error"] == "invalid_grant"
    assert pair(refresh(http, sb, renewed))  # the pair itself still works


def test_grace_does_not_widen_scopes(http: httpx.Client, sb: Sandbox) -> None:
    spent = sb.issue_refresh_token(scopes=["patients:read"])
    first = refresh(http, sb, spent)
    wider = refresh(http, sb, spent, scope="patients:read calendar:write")
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    assert pair(refresh(http, sb, spent, scope="patients:read")) == pair(first)


def test_racing_refreshes_of_one_token_all_get_one_pair(sb: Sandbox) -> None:
    spent = sb.issue_refresh_token()

    def attempt(_: int) -> tuple[str, str]:
        with httpx.Client(base_url=sb.base_url, timeout=10) as client:
            return pair(refresh(client, sb, spent))

    with ThreadPoolExecutor(max_workers=6) as pool:
        pairs = set(pool.map(attempt, range(6)))
    assert len(pairs) == 1


def test_without_grace_the_spent_token_is_refused_at_once() -> None:
    with Sandbox(SandboxConfig(seed=5)) as sandbox, httpx.Client(base_url=sandbox.base_url) as http:
        spent = sandbox.issue_refresh_token()
        pair(refresh(http, sandbox, spent))
        assert refresh(http, sandbox, spent).json()["error"] == "invalid_grant"


def test_the_remembered_pair_stays_out_of_the_state_file_and_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    config = SandboxConfig(seed=5, refresh_grace_s=GRACE_S, state_file=state)
    with Sandbox(config) as sandbox, httpx.Client(base_url=sandbox.base_url) as http:
        spent = sandbox.issue_refresh_token()
        access, renewed = pair(refresh(http, sandbox, spent))
        assert pair(refresh(http, sandbox, spent)) == (access, renewed)
    text = state.read_text()
    assert access not in text and renewed not in text and spent not in text
    with Sandbox(config) as restarted, httpx.Client(base_url=restarted.base_url) as http:
        # Grace lives in memory only: after a restart the spent token is refused...
        assert refresh(http, restarted, spent).json()["error"] == "invalid_grant"
        # ...while the pair it was rotated into survives, as any rotation does.
        assert pair(refresh(http, restarted, renewed))


def test_cli_flag() -> None:
    parser = argparse.ArgumentParser()
    sandbox_cli.register(parser.add_subparsers())
    assert parser.parse_args(["sandbox"]).refresh_grace == 0.0
    assert parser.parse_args(["sandbox", "--refresh-grace", "2.5"]).refresh_grace == 2.5
    for bad in ("-1", "soon", "nan"):
        with pytest.raises(SystemExit):
            parser.parse_args(["sandbox", "--refresh-grace", bad])


def test_negative_grace_is_refused() -> None:
    with pytest.raises(ValueError, match="refresh_grace_s"):
        SandboxConfig(refresh_grace_s=-1)
