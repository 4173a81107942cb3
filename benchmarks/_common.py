"""Shared pieces of the benchmarks: servers in child processes, synthetic collections, tables.

Servers run in their own process so that the client being measured does not share the GIL with
them. Everything listens on 127.0.0.1 only.

    python benchmarks/_common.py static BODY_FILE [DELAY_MS]   # the static server (prints "PORT n")
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere, even without `pip install -e .`

from harness import paths  # noqa: E402

DRCHRONO = json.loads(paths.DEFAULT_COLLECTION.read_text())
API_HEADERS = {"X-DRC-API-Version": "v4"}
START_TIMEOUT_S = 20.0


# --- servers ---------------------------------------------------------------------------------


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[str]
    environment: dict[str, str]  # what the server tells clients (sandbox credentials)


class _StaticProtocol(asyncio.Protocol):
    """HTTP/1.1 keep-alive: answer every request with the same bytes, as fast as Python can."""

    def __init__(self, response: bytes, delay_s: float) -> None:
        self.response = response
        self.delay_s = delay_s
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            length = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", self.buffer[: end + 2])
            total = end + 4 + (int(length.group(1)) if length else 0)
            if len(self.buffer) < total:
                return
            self.buffer = self.buffer[total:]
            assert self.transport is not None
            if self.delay_s:  # stands in for network latency and server think time
                asyncio.get_running_loop().call_later(
                    self.delay_s, self.transport.write, self.response
                )
            else:
                self.transport.write(self.response)


def serve_static(body_file: Path, delay_ms: float = 0.0) -> None:
    """Child process entry point: serve ``body_file`` as JSON on a free loopback port."""
    body = body_file.read_bytes()
    response = (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
        + f"content-length: {len(body)}\r\n\r\n".encode()
        + body
    )
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: _StaticProtocol(response, delay_ms / 1000), sock=sock
        )
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        print(f"PORT {sock.getsockname()[1]}", flush=True)
        async with server:
            await stop.wait()

    asyncio.run(main())


def _read_line(process: subprocess.Popen[str], pattern: str) -> re.Match[str]:
    assert process.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        if match := re.search(pattern, line):
            return match
    process.kill()
    raise RuntimeError(f"server did not start (looked for {pattern!r})")


def _stop(process: subprocess.Popen[str], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def static_server(body: bytes, workdir: Path, *, delay_ms: float = 0.0) -> Iterator[Server]:
    body_file = workdir / "static-body.json"
    body_file.write_bytes(body)
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "static", str(body_file), str(delay_ms)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(_read_line(process, r"PORT (\d+)").group(1))
        yield Server(f"http://127.0.0.1:{port}", process, {})
    finally:
        _stop(process)


@contextmanager
def sandbox_server(workdir: Path) -> Iterator[Server]:
    """``harness sandbox`` in a child process; its Postman environment is read back."""
    env_file = workdir / "sandbox-env.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "sandbox",
            "--port",
            "0",
            "--env-file",
            str(env_file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    try:
        base_url = _read_line(process, r"sandbox on (http://\S+)").group(1)
        _read_line(process, r"environment\s")
        values = {v["key"]: v["value"] for v in json.loads(env_file.read_text())["values"]}
        yield Server(base_url, process, values)
    finally:
        _stop(process, signal.SIGINT)  # the sandbox saves nothing, but stops cleanly on Ctrl-C


def refresh_grant(server: Server) -> str:
    """An access token from the sandbox; the rotated refresh token replaces the spent one."""
    env = server.environment
    response = httpx.post(
        f"{server.base_url}/o/token/",
        data={
            "grant_type": "refresh_token",
            "refresh_token": env["refresh_token"],
            "client_id": env["client_id"],
            "client_secret": env["client_secret"],
        },
    )
    response.raise_for_status()
    data = response.json()
    env["refresh_token"] = data["refresh_token"]
    return str(data["access_token"])


def sample_patient(workdir: Path) -> bytes:
    """A real patient record from the sandbox, valid under the contract (the static body)."""
    with sandbox_server(workdir) as sandbox:
        auth = {"Authorization": f"Bearer {refresh_grant(sandbox)}", **API_HEADERS}
        listing = httpx.get(f"{sandbox.base_url}/api/patients?page_size=1", headers=auth)
        first = listing.json()["results"][0]["id"]
        return httpx.get(f"{sandbox.base_url}/api/patients/{first}", headers=auth).content


def rss_now_mib() -> float:
    """Resident set size right now (Linux), to show memory is given back, not just peaks."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


# --- collections and environments ------------------------------------------------------------


def request_item(name: str, path: str, *, status: int = 200, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "event": [
            {
                "listen": "test",
                "script": {
                    "type": "text/javascript",
                    "exec": [
                        f'pm.test("status is {status}", function () '
                        f"{{ pm.response.to.have.status({status}); }});"
                    ],
                },
            }
        ],
        "request": {
            "method": "GET",
            "header": [{"key": k, "value": v} for k, v in API_HEADERS.items()],
            "url": {"raw": "{{base_url}}" + path},
            **extra,
        },
        "response": [],
    }


def synthetic_collection(
    target: Path, paths_by_folder: Sequence[Sequence[str]], *, oauth2: bool
) -> Path:
    """Independent folders of GET requests (no captures), so ``--workers`` can run them at once."""
    document: dict[str, Any] = {
        "info": {
            "name": f"bench {sum(map(len, paths_by_folder))} requests",
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
        },
        "item": [
            {
                "name": f"Folder {f:03d}",
                "item": [request_item(f"GET {i:04d}", p) for i, p in enumerate(paths)],
            }
            for f, paths in enumerate(paths_by_folder)
        ],
        "variable": [v for v in DRCHRONO["variable"] if v["key"] != "base_url"],
    }
    if oauth2:
        document["auth"] = DRCHRONO["auth"]
    target.write_text(json.dumps(document))
    return target


def write_environment(target: Path, values: dict[str, str]) -> Path:
    """A Postman environment aimed at an external server: the harness treats it as 'live'."""
    document = {
        "name": target.stem,
        "values": [{"key": k, "value": v, "enabled": True} for k, v in values.items()],
    }
    target.write_text(json.dumps(document))
    return target


def split(paths_flat: Sequence[str], folders: int) -> list[list[str]]:
    return [list(paths_flat[i::folders]) for i in range(folders)]


# --- measuring and printing ------------------------------------------------------------------


def timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def median_of(rounds: int, fn: Callable[[], Any]) -> float:
    return statistics.median(timed(fn) for _ in range(rounds))


def rss_mib() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [list(map(str, headers)), *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def verdict(met: bool) -> str:
    return "PASS" if met else "MISS"


def machine() -> str:
    return f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}"


if __name__ == "__main__":
    if len(sys.argv) in (3, 4) and sys.argv[1] == "static":
        serve_static(Path(sys.argv[2]), float(sys.argv[3]) if len(sys.argv) == 4 else 0.0)
    else:
        sys.exit("usage: _common.py static BODY_FILE [DELAY_MS]")
