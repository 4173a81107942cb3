"""An httpx transport that records and replays through a VCR.py ``Cassette``.

``vcr.use_cassette`` patches httpx globally, which cannot serve several cassettes at once; the
runner has worker threads, each with its own cassette. This transport drives a VCR.py Cassette
directly (its matching, play counts, record modes and save logic) without patching anything.
"""

from __future__ import annotations

import enum
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from vcr.cassette import Cassette
from vcr.record_mode import RecordMode as VcrRecordMode
from vcr.request import Request as VcrRequest

from harness.cassettes.errors import CassetteError, CassetteMissError
from harness.cassettes.persister import GuardedPersister
from harness.cassettes.replay_matching import closest_difference, describe_request, matchers_for
from harness.cassettes.scrub import Scrubber
from harness.cassettes.serializer import readable_yaml
from harness.sender import REPLAYED_EXTENSION

# Extra response key: VCR keeps it, `cassettes show` prints it. Only the order of magnitude is
# written ("under 10 ms"): exact timings would change every interaction of every re-recording.
ELAPSED_KEY = "elapsed"


def coarse_elapsed(elapsed_ms: float) -> str:
    """The smallest power of ten (from 10 ms) above ``elapsed_ms``, as text."""
    bound = 10
    while elapsed_ms >= bound:
        bound *= 10
    return f"under {bound} ms" if bound < 1000 else f"under {bound // 1000} s"


class RecordMode(str, enum.Enum):
    """pytest-recording's modes: ``rewrite`` re-records from scratch, replacing the file."""

    NONE = "none"  # replay only; the network is never used
    ONCE = "once"  # record when the cassette does not exist, else replay only
    NEW_EPISODES = "new_episodes"  # replay what is recorded, record the rest
    ALL = "all"  # record everything, keep recorded interactions nobody re-sent
    REWRITE = "rewrite"  # record everything into a new cassette


_VCR_MODES = {
    RecordMode.NONE: VcrRecordMode.NONE,
    RecordMode.ONCE: VcrRecordMode.ONCE,
    RecordMode.NEW_EPISODES: VcrRecordMode.NEW_EPISODES,
    RecordMode.ALL: VcrRecordMode.ALL,
    RecordMode.REWRITE: VcrRecordMode.ALL,
}


class CassetteTransport(httpx.BaseTransport):
    """Records to / replays from one cassette file. Thread-safe; ``close()`` saves."""

    def __init__(
        self,
        path: Path,
        mode: RecordMode | str = RecordMode.ONCE,
        inner: httpx.BaseTransport | None = None,
        scrubber: Scrubber | None = None,
    ) -> None:
        self.path = Path(path)
        self.mode = RecordMode(mode)
        self.scrubber = scrubber if scrubber is not None else Scrubber()
        self._inner = inner
        self._owns_inner = inner is None
        self._lock = threading.Lock()
        self._closed = False
        options: dict[str, Any] = {
            "path": str(self.path),
            "serializer": readable_yaml,
            "persister": GuardedPersister(self.scrubber.secrets),
            "record_mode": _VCR_MODES[self.mode],
            "match_on": matchers_for(self.scrubber.fields),
            "before_record_request": self.scrubber.scrub_request,
            "before_record_response": self.scrubber.scrub_response,
            "after_load_interaction": self.scrubber.mark_loaded,
        }
        # REWRITE starts empty: the old file is only replaced once the new one is complete.
        self._cassette = (
            Cassette(**options) if self.mode is RecordMode.REWRITE else Cassette.load(**options)
        )

    @property
    def play_count(self) -> int:
        return self._cassette.play_count

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        vcr_request = VcrRequest(request.method, str(request.url), body, _headers_as_sent(request))
        with self._lock:
            if self._closed:
                raise CassetteError(f"The cassette transport for {self.path} is closed.")
            if self._cassette.can_play_response_for(vcr_request):
                return _replayed(self._cassette.play_response(vcr_request))
            if self._cassette.write_protected:
                raise self._miss(vcr_request)
        # Network I/O happens outside the lock so that one slow request does not serialise others.
        started = time.perf_counter()
        response = self._network().handle_request(request)
        stream = response.stream
        if not isinstance(stream, httpx.SyncByteStream):
            raise CassetteError(f"The transport under the cassette {self.path} is not synchronous.")
        try:
            raw = b"".join(stream)  # as sent (maybe compressed): the caller's client decodes it
        finally:
            stream.close()
        elapsed_ms = (time.perf_counter() - started) * 1000
        with self._lock:
            self._cassette.append(vcr_request, _recordable(response, raw, elapsed_ms))
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=httpx.ByteStream(raw),
            extensions=response.extensions,
        )

    def close(self, *, save: bool = True) -> None:
        """Write the cassette if anything new was recorded (``save=False`` discards it)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                if save and self._cassette.dirty:
                    self._cassette._save()
            finally:
                if self._owns_inner and self._inner is not None:
                    self._inner.close()

    def __enter__(self) -> CassetteTransport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        self.close(save=exc_type is None)  # a failed recording never replaces the cassette

    def _network(self) -> httpx.BaseTransport:
        if self._inner is None:
            self._inner = httpx.HTTPTransport()
        return self._inner

    def _miss(self, request: VcrRequest) -> CassetteMissError:
        fields = self.scrubber.fields
        why = (
            "replay only, the network is blocked"
            if self.mode is RecordMode.NONE
            else "the cassette exists, so nothing new is recorded"
        )
        return CassetteMissError(
            f"No recorded response for {describe_request(self.scrubber.scrub_request(request), fields)} "
            f"in cassette {self.path} (record mode {self.mode.value}: {why}). "
            + closest_difference(self._cassette, request, fields),
            hint=(
                "If the request is meant to change, re-record against the sandbox or DrChrono: "
                "`harness run --record new_episodes` adds it, `--record rewrite` records afresh "
                "(under pytest: --record-mode=new_episodes or rewrite)."
            ),
        )


def _headers_as_sent(request: httpx.Request) -> dict[str, str]:
    """Header names in the case they were sent (httpx lower-cases ``items()``)."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in request.headers.raw:
        name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def _recordable(response: httpx.Response, raw: bytes, elapsed_ms: float) -> dict[str, Any]:
    """VCR's response dict, with the body decoded so that the scrubber can read it."""
    decoded = httpx.Response(
        response.status_code, headers=response.headers, stream=httpx.ByteStream(raw)
    )
    content = decoded.read()
    headers: dict[str, list[str]] = {}
    for name, value in response.headers.multi_items():
        if name.lower() != "content-encoding":  # the body is stored decoded
            headers.setdefault(name, []).append(value)
    return {
        "status": {"code": response.status_code, "message": response.reason_phrase},
        "headers": headers,
        "body": {"string": content},
        ELAPSED_KEY: coarse_elapsed(elapsed_ms),
    }


def _replayed(recorded: dict[str, Any]) -> httpx.Response:
    body = recorded["body"]["string"]
    content = body.encode("utf-8") if isinstance(body, str) else (body or b"")
    message = recorded["status"].get("message")
    headers = [(name, str(v)) for name, values in recorded["headers"].items() for v in values]
    extensions: dict[str, Any] = {REPLAYED_EXTENSION: True}
    if message:
        extensions["reason_phrase"] = message.encode("ascii", "replace")
    return httpx.Response(
        recorded["status"]["code"],
        headers=headers,
        stream=httpx.ByteStream(content),
        extensions=extensions,
    )
