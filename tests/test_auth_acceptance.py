"""The guard against refreshing in a loop, now that the sender reports accepted tokens: a token
the API accepted and later rejects is refreshed (an expiry, a revocation); one rejected before
it was ever accepted still stops the run (wrong host, wrong application)."""

from __future__ import annotations

import pytest

from harness.auth import TokenStore
from harness.errors import AuthError
from tests.test_auth_store import FakeTokenEndpoint, manager


def test_a_token_the_api_accepted_is_refreshed_again_after_a_401() -> None:
    endpoint = FakeTokenEndpoint()
    tokens = manager(TokenStore.in_memory(), endpoint, seed="seed-refresh-token-0")
    first = tokens.access_token()
    renewed = tokens.refresh_after_401(first)
    tokens.accepted(renewed)  # the resend got a 200
    again = tokens.refresh_after_401(renewed)  # later expired: refreshing is right
    assert again not in (first, renewed) and endpoint.requests == 3
    with pytest.raises(AuthError, match="had just issued"):
        tokens.refresh_after_401(again)  # rejected before any success: refreshing cannot help
    assert endpoint.requests == 3
