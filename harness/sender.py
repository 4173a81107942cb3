"""Send one built request: attach the OAuth token, respect the rate limit, retry what is safe.

Retry rules follow DrChrono's error table: a 401 is answered by one token refresh and one resend;
5xx, timeouts and connection errors are retried with backoff and jitter for idempotent methods
only (a retried POST creates a second patient); 429 is retried for every method (the server did not
process it), waiting for ``Retry-After`` when given. Every attempt is recorded for the report.
"""

from __future__ import annotations

import random
import re
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Protocol, runtime_checkable
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
# A response extension: True when a cassette answered (its patient data is pseudonymised), also
# in a recording run that replays what an existing cassette holds.
REPLAYED_EXTENSION = "harness_replayed"
# httpcore's request extension for the request line's target (used instead of the URL's path).
TARGET_EXTENSION = "target"
_DOT_SEGMENT = re.compile(r"/\.\.?(?=/|$)")
MAX_REDIRECTS = 10  # postman-request's default; protocolProfileBehavior.maxRedirects overrides it
# A request the run's --timeout stopped: not sent at all, or cut short waiting for its response.
RUN_TIMEOUT_NOT_SENT = "not run: the run's --timeout passed before it was sent"
RUN_TIMEOUT_CUT = "not finished: the run's --timeout passed while waiting for the response"
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
# Node's http client (so Newman) ends a bodiless request with Content-Length: 0 unless its
# method is one of these (lib/_http_client.js useChunkedEncodingByDefault): custom methods too.
_NO_IMPLICIT_LENGTH = frozenset({"GET", "HEAD", "DELETE", "OPTIONS", "TRACE", "CONNECT"})
RETRYABLE_STATUS = frozenset({500, 502, 503, 504})


class TokenSource(Protocol):
    """What the sender needs from the OAuth engine (``harness.auth.TokenManager``)."""

    @property
    def placement(self) -> TokenPlacement: ...

    def access_token(self) -> str: ...

    def refresh_after_401(self, rejected: str) -> str: ...


@runtime_checkable
class AcceptanceAware(Protocol):
    """A token source that wants to know when the API accepted a token (any answer but 401):
    ``TokenManager`` refuses to refresh in a loop only for tokens the API never accepted."""

    def accepted(self, token: str) -> None: ...


# The run's token source for a request's oauth2 block, its variables resolved by the resolver.
TokensFor = Callable[[Auth, Resolver], TokenSource]


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 2  # extra attempts after the first
    backoff_s: float = 0.25  # first delay; doubles each attempt, with jitter
    max_wait_s: float = 60.0  # never sleep longer than this for one attempt (Retry-After included)


class RunPace:
    """The run-wide timing of requests, shared by every sender of a run (thread-safe): Newman's
    ``--delay-request`` (a pause between one request's end and the next one's start) and
    ``--timeout`` (a deadline for the whole run, which also cuts the request in flight short)."""

    def __init__(
        self,
        *,
        delay_s: float = 0.0,
        time_limit_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.delay_s = delay_s
        self.time_limit_s = time_limit_s
        self._clock = clock
        self._sleep = sleep
        self._deadline: float | None = None
        self._last_done: float | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """The run begins: its time limit counts from now (a second call changes nothing)."""
        with self._lock:
            if self.time_limit_s is not None and self._deadline is None:
                self._deadline = self._clock() + self.time_limit_s

    def remaining(self) -> float | None:
        """Seconds left before the run's deadline (never below 0); None without ``--timeout``."""
        if self._deadline is None:
            return None
        return max(0.0, self._deadline - self._clock())

    @property
    def expired(self) -> bool:
        remaining = self.remaining()
        # A socket timeout set to the time left may fire a hair before the clock says so.
        return remaining is not None and remaining <= 0.005

    def before_request(self) -> None:
        """Wait out ``--delay-request`` since the previous request ended (not past the deadline)."""
        if self.delay_s <= 0:
            return
        with self._lock:  # concurrent units take turns, each waiting its delay
            if self._last_done is None:
                return
            wait = self._last_done + self.delay_s - self._clock()
            remaining = self.remaining()
            if remaining is not None:
                wait = min(wait, remaining)
            if wait > 0:
                self._sleep(wait)

    def after_request(self) -> None:
        with self._lock:
            self._last_done = self._clock()


# What `ssl` says of a certificate it refused -> what it means and what to do, in words a user
# triages by (OpenSSL's verify messages, as Python reports them in verify_message).
_TLS_TRUST_HINT = (
    "Trust the CA that signed it with --ssl-extra-ca-certs FILE (PEM), or turn certificate "
    "checks off with -k/--insecure (test servers only)."
)
_SKIP_HINT = "or -k/--insecure to skip the check (test servers only)"
_TLS_PROBLEMS = (
    (
        "expired",
        "the server's certificate has expired",
        f"Renew the server's certificate, {_SKIP_HINT}",
    ),
    (
        "not yet valid",
        "the server's certificate is not valid yet",
        f"Check the server's and this machine's clocks, {_SKIP_HINT}",
    ),
    (
        "self-signed certificate in certificate chain",
        "the certificate chain ends in a self-signed CA this machine does not trust",
        _TLS_TRUST_HINT,
    ),
    (
        "self-signed",
        "the server's certificate is self-signed",
        "Trust it with --ssl-extra-ca-certs FILE (the certificate itself, PEM), " + _SKIP_HINT,
    ),
    (
        "hostname mismatch",
        "the server's certificate is for another host name",
        f"Use the host name the certificate names, {_SKIP_HINT}",
    ),
    (
        "ip address mismatch",
        "the server's certificate is for another address",
        f"Use the host name the certificate names, {_SKIP_HINT}",
    ),
    (
        "unable to get local issuer",
        "the server's certificate is signed by an unknown CA",
        _TLS_TRUST_HINT,
    ),
    (
        "unable to get issuer",
        "the server's certificate is signed by an unknown CA",
        _TLS_TRUST_HINT,
    ),
)


def tls_problem(exc: BaseException) -> str | None:
    """A one-paragraph account of a TLS failure behind ``exc`` (an httpx transport error), or
    None when it is not one. Such a failure is not retried: the next attempt would fail alike."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, ssl.SSLCertVerificationError):
            said = str(cause.verify_message or cause.reason or cause)
            lowered = said.lower()
            for marker, problem, todo in _TLS_PROBLEMS:
                if marker in lowered:
                    return f"TLS: {problem} ({said}). {todo.rstrip('.')}."
            return f"TLS: the server's certificate was refused ({said}). {_TLS_TRUST_HINT}"
        if isinstance(cause, ssl.SSLError):
            said = str(cause.reason or cause)
            if "certificate" in said.lower() or "alert" in said.lower():
                return (
                    f"TLS: the server refused the handshake ({said}); it may want a client "
                    "certificate. Give one with --ssl-client-cert FILE (and --ssl-client-key, "
                    "--ssl-client-passphrase)."
                )
            return f"TLS: the handshake failed ({said})."
        cause = cause.__cause__ or cause.__context__
    return None


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
        pace: RunPace | None = None,
        follow_redirects: bool = True,
    ) -> None:
        self.client = client
        self.policy = policy
        self.limiter = limiter
        self._sleep = sleep
        self.pace = pace
        # --ignore-redirects makes this False; a request's protocolProfileBehavior still wins.
        self.follow_redirects = follow_redirects

    def send(self, built: BuiltRequest, tokens: TokenSource | None) -> Exchange:
        if self.pace is None:
            return self._send(built, tokens)
        self.pace.before_request()
        try:
            return self._send(built, tokens)
        finally:
            self.pace.after_request()

    def _send(self, built: BuiltRequest, tokens: TokenSource | None) -> Exchange:
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
            if self.pace is not None and self.pace.expired:
                exchange.response = None
                exchange.error_cause, exchange.error = Cause.TIMEOUT, RUN_TIMEOUT_NOT_SENT
                return exchange
            started = time.perf_counter()
            try:
                request = self._request(built, exchange.token, tokens)
                response = self._send_following_redirects(request, built)
            except httpx.TimeoutException:
                exchange.attempts.append(Attempt(None, _ms(started), _join(note, "timed out")))
                if self.pace is not None and self.pace.expired:
                    exchange.response = None
                    exchange.error_cause, exchange.error = Cause.TIMEOUT, RUN_TIMEOUT_CUT
                    return exchange
                cause, error = Cause.TIMEOUT, "the request timed out"
            except httpx.TooManyRedirects:
                exchange.attempts.append(Attempt(None, _ms(started), _join(note, "redirect loop")))
                exchange.error_cause, exchange.error = (
                    Cause.CONNECTION,
                    "redirect loop (too many redirects)",
                )
                return exchange
            except httpx.TransportError as exc:
                problem = tls_problem(exc)
                if problem is not None:  # certificates do not change between attempts
                    exchange.attempts.append(Attempt(None, _ms(started), _join(note, "TLS")))
                    exchange.response = None
                    exchange.error_cause, exchange.error = Cause.CONNECTION, problem
                    return exchange
                kind = type(exc).__name__
                exchange.attempts.append(Attempt(None, _ms(started), _join(note, kind)))
                cause, error = Cause.CONNECTION, f"connection failed ({kind})"
            else:
                exchange.attempts.append(Attempt(response.status_code, _ms(started), note))
                exchange.response = response
                if (
                    exchange.token
                    and response.status_code != 401
                    # last: a runtime Protocol check costs ~30 us, and most requests send no token
                    and isinstance(tokens, AcceptanceAware)
                ):
                    tokens.accepted(exchange.token)
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
        if not built.content and built.method not in _NO_IMPLICIT_LENGTH:
            framed = any(
                k.lower() in (b"content-length", b"transfer-encoding") for k, _ in raw_headers
            )
            if not framed:  # httpx adds it for POST, PUT and PATCH only
                raw_headers.append((b"Content-Length", b"0"))
        extensions: dict[str, object] = (
            {}
            if built.protocol.strict_ssl is None
            else {STRICT_SSL_EXTENSION: built.protocol.strict_ssl}
        )
        remaining = self.pace.remaining() if self.pace is not None else None
        timeout = (
            httpx.USE_CLIENT_DEFAULT
            if remaining is None
            else httpx.Timeout(min(remaining, self.client.timeout.read or remaining))
        )
        target = written_target(url, as_written=built.protocol.disable_url_encoding)
        if target is not None:
            extensions[TARGET_EXTENSION] = target
        return self.client.build_request(
            built.method,
            url,
            headers=raw_headers,
            content=built.content,
            extensions=extensions,
            timeout=timeout,
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
        follow = (
            self.follow_redirects if profile.follow_redirects is None else profile.follow_redirects
        )
        while follow and response.has_redirect_location:
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
        # A Location is resolved, dot segments and all (postman-url-encoder resolveNodeUrl).
        extensions = {k: v for k, v in previous.extensions.items() if k != TARGET_EXTENSION}
        return self.client.build_request(
            method, url, headers=headers, content=content or None, extensions=extensions
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


def written_target(url: str, *, as_written: bool = False) -> bytes | None:
    """The request target of ``url`` with its ``.`` and ``..`` path segments as written, or
    None when it has none. httpx removes them (RFC 3986 normalisation); Newman sends the path
    as the collection has it (postman-url-encoder's toNodeUrl encodes url.getPath() and
    nothing else), so the request line must carry it unchanged. ``as_written``
    (disableUrlEncoding): the path is not encoded either, as postman-url-encoder then leaves
    the whole URL alone; only bytes no request line can carry are escaped."""
    after_scheme = url.split("://", 1)[-1]
    authority_end = min(
        (i for i in (after_scheme.find(c) for c in "/?#") if i >= 0), default=len(after_scheme)
    )
    path_and_query = after_scheme[authority_end:].split("#", 1)[0]
    path = path_and_query.split("?", 1)[0]
    if as_written:
        target = path_and_query if path else "/" + path_and_query
        return b"".join(bytes([b]) if 0x20 < b < 0x7F else b"%%%02X" % b for b in target.encode())
    if path.startswith("//") or not _DOT_SEGMENT.search(path):
        return None  # nothing to keep (a '//' path would parse as a host below)
    return httpx.URL(path_and_query).raw_path  # relative: encoded as usual, not normalised


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
