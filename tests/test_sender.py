"""Retry, refresh and refusal rules of the sender, through a swappable httpx transport."""

from __future__ import annotations

import httpx
import pytest

from harness.build import BuiltRequest
from harness.errors import InputError
from harness.oauth_attributes import TokenPlacement
from harness.results import Cause
from harness.sender import RetryPolicy, Sender


class Tokens:
    def __init__(self, placement: TokenPlacement | None = None) -> None:
        self.placement = placement or TokenPlacement()
        self.current = "tok-1"
        self.refreshes = 0

    def access_token(self) -> str:
        return self.current

    def refresh_after_401(self, rejected: str) -> str:
        self.refreshes += 1
        self.current = f"tok-{self.refreshes + 1}"
        return self.current


def sender(handler, retries: int = 2) -> tuple[Sender, list[float]]:
    slept: list[float] = []
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return Sender(
        client, policy=RetryPolicy(retries=retries, backoff_s=0.01), sleep=slept.append
    ), slept


def scripted(*statuses: int, headers: dict[str, str] | None = None):
    seen: list[httpx.Request] = []
    queue = list(statuses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            queue.pop(0) if len(queue) > 1 else queue[0], headers=headers or {}, json={}
        )

    return handler, seen


def test_500_is_retried_for_get_but_never_for_post() -> None:
    handler, seen = scripted(500, 500, 200)
    send, slept = sender(handler)
    exchange = send.send(BuiltRequest("GET", "http://127.0.0.1/api/x"), None)
    assert exchange.response is not None and exchange.response.status_code == 200
    assert len(seen) == 3 and len(slept) == 2
    handler, seen = scripted(500, 200)
    send, _ = sender(handler)
    exchange = send.send(BuiltRequest("POST", "http://127.0.0.1/api/x"), None)
    assert exchange.response is not None and exchange.response.status_code == 500
    assert len(seen) == 1  # a retried POST would create a second patient


def test_retries_are_bounded() -> None:
    handler, seen = scripted(503)
    send, _ = sender(handler, retries=2)
    exchange = send.send(BuiltRequest("GET", "http://127.0.0.1/x"), None)
    assert exchange.response is not None and exchange.response.status_code == 503
    assert len(seen) == 3 and len(exchange.attempts) == 3


def test_429_waits_for_retry_after_even_for_post() -> None:
    handler, seen = scripted(429, 201, headers={"Retry-After": "3"})
    send, slept = sender(handler)
    exchange = send.send(BuiltRequest("POST", "http://127.0.0.1/x"), None)
    assert exchange.response is not None and exchange.response.status_code == 201
    assert slept == [3.0]
    assert "Retry-After" in exchange.attempts[0].note


def test_401_refreshes_once_and_resends_with_the_new_token() -> None:
    handler, seen = scripted(401, 200)
    send, _ = sender(handler)
    tokens = Tokens()
    exchange = send.send(BuiltRequest("POST", "http://127.0.0.1/x"), tokens)
    assert exchange.response is not None and exchange.response.status_code == 200
    assert [r.headers["Authorization"] for r in seen] == ["Bearer tok-1", "Bearer tok-2"]
    assert tokens.refreshes == 1
    handler, seen = scripted(401)
    send, _ = sender(handler)
    exchange = send.send(BuiltRequest("GET", "http://127.0.0.1/x"), Tokens())
    assert exchange.response is not None and exchange.response.status_code == 401
    assert len(seen) == 2  # one refresh, one resend, then give up


def test_timeouts_and_resets_become_causes() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    send, _ = sender(timeout, retries=1)
    exchange = send.send(BuiltRequest("GET", "http://127.0.0.1/x"), None)
    assert exchange.response is None and exchange.error_cause is Cause.TIMEOUT
    assert len(exchange.attempts) == 2

    def reset(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("reset", request=request)

    send, _ = sender(reset, retries=1)
    exchange = send.send(BuiltRequest("POST", "http://127.0.0.1/x"), None)
    assert exchange.error_cause is Cause.CONNECTION and len(exchange.attempts) == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/x",
        # Names that only look local: DNS decides where they go (regression: these were loopback).
        "http://127.example.com/x",
        "http://127.0.0.1.nip.io/x",
    ],
)
def test_token_over_plain_http_to_a_remote_host_is_refused(url: str) -> None:
    handler, seen = scripted(200)
    send, _ = sender(handler)
    with pytest.raises(InputError, match="plain HTTP"):
        send.send(BuiltRequest("GET", url), Tokens())
    assert seen == []


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1/x", "http://127.1.2.3:8080/x", "http://[::1]/x", "http://localhost/x"]
)
def test_token_over_plain_http_to_this_machine_is_sent(url: str) -> None:
    handler, seen = scripted(200)
    send, _ = sender(handler)
    send.send(BuiltRequest("GET", url), Tokens())
    assert [r.headers["Authorization"] for r in seen] == ["Bearer tok-1"]


def test_token_goes_to_query_when_the_collection_says_so() -> None:
    handler, seen = scripted(200)
    send, _ = sender(handler)
    send.send(
        BuiltRequest("GET", "https://h/x?a=1"),
        Tokens(TokenPlacement(in_query=True)),
    )
    assert seen[0].url.params["access_token"] == "tok-1"
    assert "authorization" not in seen[0].headers
