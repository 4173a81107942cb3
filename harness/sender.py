"""Send one built request: attach the OAuth token, respect the rate limit, retry what is safe.

Retry rules follow DrChrono's error table: a 401 is answered by one token refresh and one resend;
5xx, timeouts and connection errors are retried with backoff and jitter for idempotent methods
only (a retried POST creates a second patient); 429 is retried for every method (the server did not
process it), waiting for ``Retry-After`` when given. Every attempt is recorded for the report.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from harness.build import BuiltRequest
from harness.collection import Auth, ProtocolProfile
from harness.errors import AccessTokenRejectedError, AuthError, InputError
from harness.loopback import is_loopback_url
from harness.oauth_attributes import TokenPlacement
from harness.ratelimit import ClientRateLimiter
from harness.results import Attempt, Cause
from harness.variables import Resolver

# A request extension: False when protocolProfileBehavior.strictSSL turns certificate checks off.
STRICT_SSL_EXTENSION = "harness_strict_ssl"
MAX_REDIRECTS = 10  # postman-request's default; protocolProfileBehavior.maxRedirects overrides it
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
RETRYABLE_STATUS = frozenset({500, 502, 503, 504})


class TokenSource(Protocol):
    """What the sender needs from the OAuth engine (``harness.auth.TokenManager``)."""

    @property
    def placement(self) -> TokenPlacement: ...

    def access_token(self) -> str: ...

    def refresh_after_401(self, rejected: str) -> str: ...


# The run's token source for a request's oauth2 block, its variables resolved by the resolver.
TokensFor = Callable[[Auth, Resolver], TokenSource]


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 2  # extra attempts after the first
    backoff_s: float = 0.25  # first delay; doubles each attempt, with jitter
    max_wait_s: float = 60.0  # never sleep longer than this for one attempt (Retry-After included)


@dataclass
class Exchange:
    """The outcome of sending: a final response, or the cause it could not be had."""

    response: httpx.Response | None
    attempts: list[Attempt] = field(default_factory=list)
    error_cause: Cause | None = None
    error: str = ""
    token: str | None = None  # the access token the final attempt carried (never reported)
    # The refresh after a 401 was refused for good (AuthError.credentials_refused): stop the run.
    credentials_refused: bool = False


class Sender:
    def __init__(
        self,
        client: httpx.Client,
        *,
        policy: RetryPolicy = RetryPolicy(),
        limiter: ClientRateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.policy = policy
        self.limiter = limiter
        self._sleep = sleep

    def send(self, built: BuiltRequest, tokens: TokenSource | None) -> Exchange:
        exchange = Exchange(response=None)
        if (
            tokens is not None
            and urlsplit(built.url).scheme != "https"
            and not is_loopback_url(built.url)
        ):
            raise InputError(
                f"Refusing to send an OAuth token over plain HTTP to {urlsplit(built.url).hostname}.",
                hint="Use an https:// base URL (only loopback addresses may use http).",
            )
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            if tokens is not None:
                exchange.token = tokens.access_token()
            note = ""
            if self.limiter is not None:
                waited = self.limiter.acquire()
                if waited > 0.05:
                    note = f"rate limiter held it {waited:.2f}s"
            started = time.perf_counter()
            try:
                request = self._request(built, exchange.token, tokens)
                response = self._send_following_redirects(request, built)
            except httpx.TimeoutException:
                exchange.attempts.append(Attempt(None, _ms(started), _join(note, "timed out")))
                cause, error = Cause.TIMEOUT, "the request timed out"
            except httpx.TooManyRedirects:
                exchange.attempts.append(Attempt(None, _ms(started), _join(note, "redirect loop")))
                exchange.error_cause, exchange.error = (
                    Cause.CONNECTION,
                    "redirect loop (too many redirects)",
                )
                return exchange
            except httpx.TransportError as exc:
                kind = type(exc).__name__
                exchange.attempts.append(Attempt(None, _ms(started), _join(note, kind)))
                cause, error = Cause.CONNECTION, f"connection failed ({kind})"
            else:
                exchange.attempts.append(Attempt(response.status_code, _ms(started), note))
                exchange.response = response
                if response.status_code == 401 and tokens is not None and not refreshed:
                    refreshed = True
                    try:
                        tokens.refresh_after_401(exchange.token or "")
                    except AuthError as exc:
                        # Keep the 401 attempt in the report: it is what started the refresh.
                        refusal = (
                            "401: the given token may not be refreshed"
                            if isinstance(exc, AccessTokenRejectedError)
                            else "401: token refresh failed"
                        )
                        exchange.attempts[-1] = Attempt(
                            401, exchange.attempts[-1].elapsed_ms, refusal
                        )
                        exchange.response = None
                        exchange.error_cause, exchange.error = Cause.AUTH, str(exc)
                        exchange.credentials_refused = exc.credentials_refused
                        return exchange
                    exchange.attempts[-1] = Attempt(
                        401, exchange.attempts[-1].elapsed_ms, "401: refreshed the token, resending"
                    )
                    attempt -= 1  # the refresh resend does not count against retries
                    continue
                wait = self._retry_wait(built.method, response, attempt)
                if wait is None:
                    return exchange
                self._note_wait(exchange, wait, response.status_code)
                continue
            # No response: retry idempotent methods only.
            if built.method in IDEMPOTENT and attempt <= self.policy.retries:
                wait = self._backoff(attempt)
                self._note_wait(exchange, wait, None)
                continue
            exchange.response = None
            exchange.error_cause, exchange.error = cause, error
            return exchange

    def _request(
        self, built: BuiltRequest, token: str | None, tokens: TokenSource | None
    ) -> httpx.Request:
        url, headers = built.url, built.headers
        if token is not None and tokens is not None:
            url, headers = tokens.placement.apply(url, headers, token)
        # Latin-1 bytes, as Node (so Newman) sends them; httpx would encode str values as ASCII.
        # build_request has checked that every value fits.
        raw_headers = [(k.encode("ascii"), v.encode("latin-1")) for k, v in headers]
        extensions = (
            {}
            if built.protocol.strict_ssl is None
            else {STRICT_SSL_EXTENSION: built.protocol.strict_ssl}
        )
        return self.client.build_request(
            built.method, url, headers=raw_headers, content=built.content, extensions=extensions
        )

    def _send_following_redirects(
        self, request: httpx.Request, built: BuiltRequest
    ) -> httpx.Response:
        """Send, then follow redirects as postman-request's lib/redirect.js does for Newman:
        every method follows (followAllRedirects) unless followRedirects is false; up to
        maxRedirects; 307/308 resend method and body, any other 3xx drops the body and turns the
        method into GET (HEAD stays HEAD) unless followOriginalHttpMethod keeps the method."""
        profile = built.protocol
        limit = MAX_REDIRECTS if profile.max_redirects is None else profile.max_redirects
        response = self.client.send(request, auth=built.auth, follow_redirects=False)
        response.read()
        followed = 0
        while profile.follow_redirects is not False and response.has_redirect_location:
            if followed >= limit:
                raise httpx.TooManyRedirects("Exceeded maxRedirects", request=request)
            followed += 1
            request = self._redirected(request, response, profile)
            response.close()
            response = self.client.send(request, auth=built.auth, follow_redirects=False)
            response.read()
        return response

    def _redirected(
        self, previous: httpx.Request, response: httpx.Response, profile: ProtocolProfile
    ) -> httpx.Request:
        url = previous.url.join(response.headers["Location"])
        headers = previous.headers.copy()
        method, content = previous.method, previous.content
        for name in ("Host", "Cookie", "Content-Length", "Transfer-Encoding"):
            headers.pop(name, None)  # recomputed for the new URL and body
        if url.host != previous.url.host:
            headers.pop("Authorization", None)  # no credentials to another host
        if response.status_code not in (307, 308):
            if not profile.follow_original_http_method and method != "HEAD":
                method = "GET"
            content = b""
            headers.pop("Content-Type", None)
        if not profile.remove_referer_header:
            headers["Referer"] = str(previous.url)
        return self.client.build_request(
            method, url, headers=headers, content=content or None, extensions=previous.extensions
        )

    def _retry_wait(self, method: str, response: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before retrying this response, or None to accept it as final."""
        status = response.status_code
        if attempt > self.policy.retries:
            return None
        if status == 429:
            after = _retry_after(response)
            wait = after if after is not None else self._backoff(attempt)
            return wait if wait <= self.policy.max_wait_s else None
        if status in RETRYABLE_STATUS and method in IDEMPOTENT:
            after = _retry_after(response) if status == 503 else None
            wait = after if after is not None else self._backoff(attempt)
            return wait if wait <= self.policy.max_wait_s else None
        return None

    def _backoff(self, attempt: int) -> float:
        base = self.policy.backoff_s * (2 ** (attempt - 1))
        return min(self.policy.max_wait_s, base * (0.5 + random.random()))

    def _note_wait(self, exchange: Exchange, wait: float, status: int | None) -> None:
        last = exchange.attempts[-1]
        reason = (
            "Retry-After"
            if status == 429
            and exchange.response is not None
            and _retry_after(exchange.response) is not None
            else "backoff"
        )
        exchange.attempts[-1] = Attempt(
            last.status, last.elapsed_ms, _join(last.note, f"retrying after {wait:.2f}s ({reason})")
        )
        self._sleep(wait)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _join(*notes: str) -> str:
    return "; ".join(n for n in notes if n)
