"""Fault injection: make the next N matching requests fail the way real networks and APIs do.

Faults are matched by a glob on the request path (``/api/patients*``) and optionally by method,
and are applied by :class:`FaultMiddleware` in front of everything (OAuth routes included), so a
client meets them exactly where it would meet the real failure.
"""

from __future__ import annotations

import asyncio
import enum
import fnmatch
import itertools
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from drchrono_sandbox.errors import InvalidFault


class FaultKind(enum.StrEnum):
    SERVER_ERROR = "500"
    UNAVAILABLE = "503"
    THROTTLE = "429"
    DELAY = "delay"
    RESET = "reset"
    MALFORMED_JSON = "malformed_json"
    HTML_200 = "html_200"
    WRONG_CONTENT_TYPE = "wrong_content_type"
    REDIRECT_LOOP = "redirect_loop"
    TOKEN_ENDPOINT_ERROR = "token_endpoint_error"

    @classmethod
    def parse(cls, value: FaultKind | str) -> FaultKind:
        """Accept a member, its value (``"500"``) or its name in any case (``server_error``)."""
        if isinstance(value, FaultKind):
            return value
        text = str(value).strip()
        for kind in cls:
            if text == kind.value or text.upper().replace("-", "_") == kind.name:
                return kind
        names = ", ".join(k.name.lower() for k in cls)
        raise InvalidFault(f"Unknown sandbox fault kind {value!r}.", hint=f"Use one of: {names}.")


TOKEN_PATH = "/o/token/"


@dataclass
class Fault:
    id: int
    route: str
    kind: FaultKind
    remaining: int | None  # None: until cleared
    methods: frozenset[str] | None = None
    retry_after: int | None = None
    seconds: float = 5.0

    def matches(self, method: str, path: str) -> bool:
        if self.methods is not None and method.upper() not in self.methods:
            return False
        if self.kind is FaultKind.TOKEN_ENDPOINT_ERROR and not path.startswith(TOKEN_PATH):
            return False
        return fnmatch.fnmatchcase(path, self.route)


@dataclass
class FaultInjector:
    """Thread-safe registry; tests call it from their thread while the server runs in another."""

    _faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def inject(
        self,
        route: str = "*",
        kind: FaultKind | str = FaultKind.SERVER_ERROR,
        count: int | None = None,
        *,
        methods: Iterable[str] | None = None,
        retry_after: int | None = None,
        seconds: float | None = None,
    ) -> Fault:
        """Fail the next ``count`` requests whose path matches ``route`` (None: until cleared).

        Options: ``methods`` to limit by HTTP method, ``retry_after`` (seconds, THROTTLE),
        ``seconds`` (DELAY, default 5). TOKEN_ENDPOINT_ERROR only ever hits ``/o/token/``.
        """
        fault_kind = FaultKind.parse(kind)
        if count is not None and count < 1:
            raise InvalidFault(
                f"Fault count must be 1 or more (or None for 'until cleared'), not {count}."
            )
        fault = Fault(
            id=next(self._ids),
            route=route,
            kind=fault_kind,
            remaining=count,
            methods=None if methods is None else frozenset(m.upper() for m in methods),
            retry_after=retry_after,
            seconds=5.0 if seconds is None else float(seconds),
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """The first fault for this request, spending one of its uses."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining <= 0:
                            self._faults.remove(fault)
                    return fault
        return None


def parse_fault_flag(text: str) -> tuple[str, FaultKind, int | None]:
    """``ROUTE_GLOB:KIND[:COUNT]`` from the CLI, e.g. ``/api/patients*:500:3``."""
    head, _, last = text.rpartition(":")
    count: int | None = None
    if head and last.isdigit() and ":" in head:
        count = int(last)
        text = head
    route, sep, kind = text.rpartition(":")
    if not sep or not route:
        raise InvalidFault(
            f"--fault {text!r} is not ROUTE_GLOB:KIND[:COUNT].",
            hint="Example: --fault '/api/patients*:server_error:3'.",
        )
    return route, FaultKind.parse(kind), count


LOGIN_PAGE = (
    b"<!DOCTYPE html><html><head><title>Log In | DrChrono</title></head><body>"
    b"<form method='post' action='/accounts/login/'><h1>Log in to DrChrono</h1>"
    b"<input name='username'><input name='password' type='password'>"
    b"<button type='submit'>Log In</button></form></body></html>"
)


# A request carrying this header meets that fault once, whatever faults are injected: how a
# client that speaks only HTTP (a Postman collection) triggers a 429 or a 503 on purpose.
# Real DrChrono ignores the header, so the same request there just succeeds.
FAULT_HEADER = b"x-sandbox-fault"
RETRY_AFTER_HEADER = b"x-sandbox-retry-after"


def header_fault(scope: Scope) -> Fault | None:
    headers = dict(scope.get("headers") or [])
    raw = headers.get(FAULT_HEADER)
    if raw is None:
        return None
    wait = headers.get(RETRY_AFTER_HEADER, b"").decode("latin-1").strip()
    return Fault(
        id=0,
        route=scope["path"],
        kind=FaultKind.parse(raw.decode("latin-1")),
        remaining=1,
        retry_after=int(wait) if wait.isdigit() else None,
    )


class FaultMiddleware:
    def __init__(self, app: ASGIApp, faults: FaultInjector) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            fault = header_fault(scope) or self.faults.take(scope["method"], scope["path"])
        except InvalidFault as exc:
            body = json.dumps({"detail": f"{exc.message} {exc.hint or ''}".strip()}).encode()
            await _respond(send, 400, body, b"application/json")
            return
        if fault is None:
            await self.app(scope, receive, send)
            return
        kind = fault.kind
        if kind is FaultKind.DELAY:
            await asyncio.sleep(fault.seconds)
            await self.app(scope, receive, send)
        elif kind is FaultKind.RESET:
            await _drop_connection(send)
        elif kind is FaultKind.WRONG_CONTENT_TYPE:
            await self.app(scope, receive, _retype(send, b"text/plain; charset=utf-8"))
        elif kind is FaultKind.REDIRECT_LOOP:
            target = scope["path"] + (
                f"?{scope['query_string'].decode()}" if scope.get("query_string") else ""
            )
            await _respond(
                send, 302, b"", b"text/html; charset=utf-8", [(b"location", target.encode())]
            )
        elif kind is FaultKind.THROTTLE:
            detail = "Request was throttled."
            extra: list[tuple[bytes, bytes]] = []
            if fault.retry_after is not None:
                detail = (
                    f"Request was throttled. Expected available in {fault.retry_after} seconds."
                )
                extra.append((b"retry-after", str(fault.retry_after).encode()))
            await _respond(
                send, 429, json.dumps({"detail": detail}).encode(), b"application/json", extra
            )
        elif kind is FaultKind.MALFORMED_JSON:
            await _respond(
                send,
                200,
                b'{"previous": null, "results": [{"id": 1, "first_na',
                b"application/json",
            )
        elif kind is FaultKind.HTML_200:
            await _respond(send, 200, LOGIN_PAGE, b"text/html; charset=utf-8")
        elif kind is FaultKind.UNAVAILABLE:
            await _respond(
                send,
                503,
                b"<html><body><h1>503 Service Unavailable</h1>"
                b"No server is available to handle this request.</body></html>",
                b"text/html; charset=utf-8",
            )
        else:  # SERVER_ERROR, TOKEN_ENDPOINT_ERROR: Django's stock 500 page
            await _respond(send, 500, b"<h1>Server Error (500)</h1>", b"text/html; charset=utf-8")


async def _respond(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    all_headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": all_headers + list(headers or []),
        }
    )
    await send({"type": "http.response.body", "body": body})


def _retype(send: Send, content_type: bytes) -> Send:
    async def retyped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [
                (k, v) for k, v in message.get("headers", []) if k.lower() != b"content-type"
            ]
            message = {**message, "headers": [*headers, (b"content-type", content_type)]}
        await send(message)

    return retyped


async def _drop_connection(send: Send) -> None:
    """Close the socket without a byte of response, as a crashed proxy would.

    uvicorn hands the app its per-request cycle's bound ``send``; its transport is the socket.
    If that is not reachable (another server), start a response promising more body than is
    sent and fail, which uvicorn answers by closing the connection mid-response.
    """
    cycle: Any = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is not None and hasattr(cycle, "disconnected"):
        cycle.disconnected = True  # tell uvicorn not to write its own 500 afterwards
        transport.abort()
        return
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100000")]}
    )
    await send({"type": "http.response.body", "body": b"{", "more_body": True})
    raise ConnectionResetError("sandbox fault: connection reset")
