"""Newman parity: run Newman's own integration fixtures through Newman and ``harness run``.

Both runners send to one local echo server (three ports in one child process: a postman-echo
look-alike, Newman's raw echo server and its redirect server) that records every request as it
arrived: method, raw request target, headers in order with their case, body bytes. The requests
each runner sent are then compared in order, and so are the verdicts (exit code and the names of
the failed assertions).

    .venv/bin/python benchmarks/newman_parity.py --fixtures NEWMAN_CHECKOUT [--only NAME] [-v]
    python benchmarks/newman_parity.py echo LOG_FILE      # the echo server (prints "PORTS a b c")

NEWMAN_CHECKOUT is a checkout of github.com/postmanlabs/newman (its ``test/integration`` and
``test/fixtures/run`` are read). Newman itself comes from ``npx newman`` (``npm install newman``
in any directory, then pass ``--newman-dir`` that directory).

What is compared, and why:
- Ignored headers: User-Agent and Postman-Token (they name the client), Host (the same for both).
- Header order is ignored between different names (RFC 9110 5.3: the order of different field
  names carries no meaning, and postman-request appends its own headers after the user's), but
  kept between repeated headers of one name (their order is their meaning). Header name case is
  compared (Newman sends a user's header as written).
- A multipart body's boundary is replaced by ``BOUNDARY`` (Newman's is random), and its
  Content-Length recomputed for the replaced body.
- Values that are random by design (``{{$guid}}``, ``{{$randomInt}}``, OAuth 1 nonces and
  signatures, Hawk nonces and MACs...) differ between any two runs, Newman's included: such a
  fixture is run twice through Newman and a difference that Newman's two runs also show is not
  counted.
"""

from __future__ import annotations

import argparse
import base64
import difflib
import gzip
import http.cookies
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

ROOT = Path(__file__).resolve().parent.parent
IGNORED_HEADERS = {"user-agent", "postman-token", "host"}
# Hosts the fixtures send to, and the echo port each one goes to instead.
ECHO_HOSTS = (
    "https://postman-echo.com",
    "http://postman-echo.com",
    "postman-echo.com",
    "https://echo.getpostman.com",
    "http://echo.getpostman.com",
)
RAW_HOST = "localhost:4041"
REDIRECT_HOST = "localhost:4042"
RUN_TIMEOUT_S = 120


# --- the echo server (child process) ---------------------------------------------------------


def _echo_payload(handler: BaseHTTPRequestHandler, body: bytes) -> dict[str, Any]:
    """What postman-echo answers for /get, /post...: args, data, form, files, json, headers."""
    split = urlsplit(handler.path)
    content_type = handler.headers.get("Content-Type", "")
    form: dict[str, Any] = {}
    files: dict[str, str] = {}
    parsed_json: Any = None
    data: Any = ""
    if "application/x-www-form-urlencoded" in content_type:
        form = dict(parse_qsl(body.decode("latin-1"), keep_blank_values=True))
    elif "multipart/form-data" in content_type and "boundary=" in content_type:
        boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
        for part in body.split(b"--" + boundary)[1:-1]:
            head, _, value = part.strip(b"\r\n").partition(b"\r\n\r\n")
            name = re.search(rb'name="([^"]*)"', head)
            filename = re.search(rb'filename="([^"]*)"', head)
            if filename:
                files[filename.group(1).decode()] = "data:application/octet-stream;base64," + (
                    base64.b64encode(value).decode()
                )
            elif name:
                form[name.group(1).decode()] = value.decode("utf-8", "replace")
    else:
        data = body.decode("utf-8", "replace")
        try:
            parsed_json = json.loads(data) if data else None
            data = parsed_json if parsed_json is not None else data
        except ValueError:
            pass
    return {
        "args": dict(parse_qsl(split.query, keep_blank_values=True)),
        "data": data,
        "files": files,
        "form": form,
        "headers": {k.lower(): v for k, v in handler.headers.items()},
        "json": parsed_json,
        "url": f"https://postman-echo.com{handler.path}",
    }


def _make_handler(kind: str, log: Any, lock: threading.Lock) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def __getattr__(self, name: str) -> Any:
            if name.startswith("do_"):  # any method, custom ones too (Newman sends them)
                return self._handle
            raise AttributeError(name)

        def _read_body(self) -> bytes:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                body = b""
                while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                    body += self.rfile.read(size)
                    self.rfile.readline()
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return body
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _handle(self) -> None:
            body = self._read_body()
            record = {
                "server": kind,
                "method": self.command,
                "target": self.path,
                "headers": list(self.headers.raw_items()),
                "body": base64.b64encode(body).decode(),
            }
            with lock:
                log.write(json.dumps(record) + "\n")
                log.flush()
            getattr(self, f"_answer_{kind}")(body)

        def _send(
            self, status: int, payload: bytes, headers: list[tuple[str, str]] | None = None
        ) -> None:
            self.send_response(status)
            for name, value in headers or [("Content-Type", "application/json; charset=utf-8")]:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def _json(self, status: int, value: Any, extra: list[tuple[str, str]] = ()) -> None:  # type: ignore[assignment]
            headers = [("Content-Type", "application/json; charset=utf-8"), *extra]
            self._send(status, json.dumps(value).encode(), headers)

        def _raw_request(self, body: bytes) -> str:
            lines = [f"{self.command} {self.path} {self.request_version}"]
            lines += [f"{k}: {v}" for k, v in self.headers.raw_items()]
            return "\r\n".join(lines) + "\r\n\r\n" + body.decode("latin-1")

        def _answer_raw(self, body: bytes) -> None:
            # Newman's npm/server.js raw echo server: the request as it arrived, as text.
            raw = self._raw_request(body)
            headers = [("Content-Type", "text/plain"), ("raw-request", json.dumps(raw))]
            self._send(200, raw.encode("latin-1"), headers)

        def _answer_redirect(self, body: bytes) -> None:
            # Newman's npm/server.js redirect server: /N hops, /status/NNN, else an echo.
            if hops := re.fullmatch(r"/(\d+)", self.path):
                left = int(hops.group(1)) - 1
                self._send(302, b"", [("Location", f"/{left}" if left > 0 else "/")])
            elif status := re.fullmatch(r"/status/(\d{3})", self.path):
                self._send(int(status.group(1)), b"", [("Location", "/")])
            else:
                self._json(
                    200,
                    {
                        "url": self.path,
                        "method": self.command,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "data": body.decode("latin-1"),
                    },
                )

        def _answer_echo(self, body: bytes) -> None:
            split = urlsplit(self.path)
            path, args = split.path, dict(parse_qsl(split.query, keep_blank_values=True))
            cookies = http.cookies.SimpleCookie(self.headers.get("Cookie", ""))
            jar = {name: morsel.value for name, morsel in cookies.items()}
            if status := re.fullmatch(r"/status/(\d{3})", path):
                self._json(int(status.group(1)), {"status": int(status.group(1))})
            elif path == "/cookies/set":
                extra = [("Set-Cookie", f"{k}={v}; Path=/") for k, v in args.items()]
                self._send(302, b"", [("Location", "/cookies"), *extra])
            elif path == "/cookies/delete":
                extra = [
                    ("Set-Cookie", f"{k}=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT")
                    for k in args
                ]
                self._send(302, b"", [("Location", "/cookies"), *extra])
            elif path == "/cookies":
                self._json(200, {"cookies": jar})
            elif redirect := re.fullmatch(r"/redirect/(\d+)", path):
                left = int(redirect.group(1)) - 1
                self._send(302, b"", [("Location", f"/redirect/{left}" if left > 0 else "/get")])
            elif path == "/redirect-to":
                code = int(args.get("status_code", 302))
                self._send(code, b"", [("Location", args.get("url", "/get"))])
            elif path == "/headers":
                self._json(200, {"headers": {k.lower(): v for k, v in self.headers.items()}})
            elif path == "/response-headers":
                self._json(200, args, [(k, v) for k, v in args.items()])
            elif path == "/basic-auth":
                expected = "Basic " + base64.b64encode(b"postman:password").decode()
                ok = self.headers.get("Authorization") == expected
                self._json(200 if ok else 401, {"authenticated": ok})
            elif delay := re.fullmatch(r"/delay/(\d+)", path):
                time.sleep(min(int(delay.group(1)), 5))
                self._json(200, {"delay": delay.group(1)})
            elif path == "/gzip":
                payload = gzip.compress(
                    json.dumps({"gzipped": True, "method": self.command}).encode()
                )
                headers = [("Content-Type", "application/json"), ("Content-Encoding", "gzip")]
                self._send(200, payload, headers)
            elif path == "/ip":
                self._json(200, {"ip": "127.0.0.1"})
            else:  # /get, /post, /put, /patch, /delete, /request and the rest: the echo
                self._json(200, _echo_payload(self, body))

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def serve_echo(log_path: Path) -> None:
    """Child process entry point: the three servers, every request appended to ``log_path``."""
    lock = threading.Lock()
    with log_path.open("a", encoding="utf-8") as log:
        servers = [
            ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(kind, log, lock))
            for kind in ("echo", "raw", "redirect")
        ]
        for server in servers:
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
        print("PORTS " + " ".join(str(s.server_address[1]) for s in servers), flush=True)
        try:
            sys.stdin.read()  # until the parent closes our stdin (or dies)
        finally:
            for server in servers:
                server.shutdown()


@dataclass
class EchoServer:
    process: subprocess.Popen[str]
    log_path: Path
    ports: tuple[int, int, int]  # echo, raw, redirect

    def mark(self) -> int:
        return self.log_path.stat().st_size

    def since(self, offset: int) -> list[dict[str, Any]]:
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return [json.loads(line) for line in log.read().splitlines() if line.strip()]


@contextmanager
def echo_server(workdir: Path) -> Iterator[EchoServer]:
    log_path = workdir / "received.jsonl"
    log_path.touch()
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "echo", str(log_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.match(r"PORTS (\d+) (\d+) (\d+)", line)
        if not match:
            raise RuntimeError(f"the echo server did not start: {line!r}")
        a, b, c = (int(p) for p in match.groups())
        yield EchoServer(process, log_path, (a, b, c))
    finally:
        if process.stdin:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- fixtures ------------------------------------------------------------------------------


@dataclass
class Fixture:
    name: str
    checkout: Path
    files: dict[str, Path] = field(default_factory=dict)  # collection, environment, globals, data
    options: dict[str, Any] = field(default_factory=dict)  # Newman's run options (config file)


_SUITE_FILE = re.compile(r"(.+)\.postman_([^.]+)(\.skip)?\.([^.]{3,})$", re.IGNORECASE)


def find_fixtures(checkout: Path) -> list[Fixture]:
    """Newman's integration suites, grouped as its npm/test-integration.js groups them, and the
    single collections of test/fixtures/run."""
    suites: dict[str, Fixture] = {}
    integration = checkout / "test" / "integration"
    for path in sorted(integration.rglob("*")):
        match = _SUITE_FILE.match(str(path.relative_to(integration)))
        if not path.is_file() or not match or match.group(3):
            continue
        suite = suites.setdefault(match.group(1), Fixture(match.group(1), checkout))
        kind = match.group(2).lower()
        if kind == "config":
            suite.options = json.loads(path.read_text()).get("run", {})
        else:
            suite.files[kind] = path
    fixtures = [s for s in suites.values() if "collection" in s.files]
    for path in sorted((checkout / "test" / "fixtures" / "run").glob("*.json")):
        text = path.read_text(encoding="utf-8-sig")
        if '"item"' in text or '"requests"' in text:
            fixture = Fixture(f"run/{path.stem}", checkout, {"collection": path})
            if path.stem.startswith("single-file-"):  # newman's test/cli/working-dir.test.js
                fixture.options["workingDir"] = "test/fixtures/files/work-dir"
            fixtures.append(fixture)
    return fixtures


def _local_port(host: str, port: str | None, ports: tuple[int, int, int]) -> int | None:
    """The echo port that stands in for this host, or None to leave it alone."""
    echo, raw, redirect = ports
    if host in ("postman-echo.com", "echo.getpostman.com"):
        return echo
    if host == "localhost" and port in ("4041", "4042"):
        return raw if port == "4041" else redirect
    return None


def _rewrite_url_objects(value: Any, ports: tuple[int, int, int]) -> Any:
    """URL objects whose ``host`` is a list or whose ``port`` is separate, pointed at the echo."""
    if isinstance(value, list):
        return [_rewrite_url_objects(v, ports) for v in value]
    if not isinstance(value, dict):
        return value
    value = {k: _rewrite_url_objects(v, ports) for k, v in value.items()}
    host = value.get("host")
    if isinstance(host, list) and all(isinstance(h, str) for h in host):
        port = _local_port(".".join(host), value.get("port"), ports)
        if port is not None:
            value.update(host=["127", "0", "0", "1"], port=str(port), protocol="http")
    return value


def rewrite_hosts(text: str, ports: tuple[int, int, int]) -> str:
    echo, raw, redirect = ports
    # A variable standing for a host (`https://{{envFileUrl}}/post`, envFileUrl=postman-echo.com)
    # goes out over plain HTTP too: the echo server has no TLS.
    text = re.sub(r"https://(\{\{[^{}/]+\}\})", r"http://\1", text)
    for host in ECHO_HOSTS:
        text = text.replace(
            host, f"http://127.0.0.1:{echo}" if "//" in host else f"127.0.0.1:{echo}"
        )
    text = text.replace(RAW_HOST, f"127.0.0.1:{raw}").replace(
        REDIRECT_HOST, f"127.0.0.1:{redirect}"
    )
    try:
        document = json.loads(text)
    except ValueError:
        return text  # a CSV file
    return json.dumps(_rewrite_url_objects(document, ports), indent=2, ensure_ascii=False)


def stage_tree(checkout: Path, ports: tuple[int, int, int], root: Path) -> None:
    """Newman's test files under ``root`` as in its checkout, hosts rewritten. Both runners
    start in ``root``, as Newman's integration tests run from the checkout's root: a form
    file's ``src: test/integration/...`` resolves the same way for both."""
    for folder in ("test/integration", "test/fixtures/run", "test/fixtures/files"):
        for path in sorted((checkout / folder).rglob("*")):
            if not path.is_file():
                continue
            target = root / path.relative_to(checkout)
            target.parent.mkdir(parents=True, exist_ok=True)
            data = path.read_bytes()
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                target.write_bytes(data)  # a UTF-16 file: as is (its hosts are not echo hosts)
            else:
                target.write_text(rewrite_hosts(text, ports), encoding="utf-8")
    (root / "reports").mkdir(exist_ok=True)


# --- running -------------------------------------------------------------------------------


def _run(command: list[str], **options: Any) -> subprocess.CompletedProcess[str]:
    """The command's result; one that outlives RUN_TIMEOUT_S is stopped and exits 124."""
    try:
        return subprocess.run(command, **options)
    except subprocess.TimeoutExpired as exc:
        stderr = exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        note = f"stopped after {RUN_TIMEOUT_S} s " + stderr[-200:]
        return subprocess.CompletedProcess(command, 124, "", note)


@dataclass
class Outcome:
    code: int
    failed: list[str]  # failed assertions, "request: test"
    requests: list[dict[str, Any]]
    note: str = ""


def _file_args(staged: dict[str, Path]) -> list[str]:
    args = []
    for kind, flag in (("environment", "-e"), ("globals", "-g")):
        if kind in staged:
            args += [flag, str(staged[kind])]
    if "data" in staged:
        args += ["-d", str(staged["data"])]
    return args


def _option_args(options: dict[str, Any], *, harness: bool) -> list[str]:
    args = []
    unit = "ms" if harness else ""
    for key, flag in (
        ("timeout", "--timeout"),
        ("timeoutRequest", "--timeout-request"),
        ("timeoutScript", "--timeout-script"),
    ):
        if key in options:
            args += [flag, f"{options[key]}{unit}"]
    if "workingDir" in options:
        args += ["--working-dir", options["workingDir"]]
    if options.get("ignoreRedirects"):
        args.append("--ignore-redirects")
    if options.get("insecure"):
        args.append("-k")
    return args


def run_newman(
    newman: list[str], staged: dict[str, Path], options: dict[str, Any], server: EchoServer
) -> Outcome:
    report = staged["root"] / "reports" / "newman.json"
    report.unlink(missing_ok=True)
    command = [*newman, "run", str(staged["collection"]), *_file_args(staged)]
    command += [*_option_args(options, harness=False), "-r", "json"]
    command += ["--reporter-json-export", str(report)]
    mark = server.mark()
    done = _run(
        command, capture_output=True, text=True, cwd=staged["root"],
        timeout=RUN_TIMEOUT_S,
    )  # fmt: skip
    failed = []
    if report.exists():
        run = json.loads(report.read_text())["run"]
        for failure in run.get("failures", []):
            error = failure.get("error", {})
            source = failure.get("source", {}).get("name", "")
            if error.get("name") == "AssertionError":
                failed.append(f"{source}: {error.get('test')}")
            elif "script" in failure.get("at", ""):
                script = failure["at"].split(" in ")[-1]
                failed.append(f"{source}: {error.get('name')} in {script}")
            else:
                failed.append(f"{source}: request error")
    return Outcome(done.returncode, failed, server.since(mark), done.stderr.strip()[-300:])


def run_harness(staged: dict[str, Path], options: dict[str, Any], server: EchoServer) -> Outcome:
    report = staged["root"] / "reports" / "harness.json"
    report.unlink(missing_ok=True)
    command = [sys.executable, "-m", "harness.cli", "run", str(staged["collection"])]
    command += [*_file_args(staged), *_option_args(options, harness=True)]
    command += ["--no-contracts", "--json", str(report)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRCHRONO_")}
    env.update(CI="1", NO_COLOR="1", PYTHONPATH=str(ROOT))
    mark = server.mark()
    done = _run(
        command, capture_output=True, text=True, cwd=staged["root"], env=env,
        timeout=RUN_TIMEOUT_S,
    )  # fmt: skip
    failed = []
    if report.exists():
        for row in json.loads(report.read_text()).get("results", []):
            if row.get("cause") in ("connection error", "timeout"):
                failed.append(f"{row.get('name')}: request error")
            for check in row.get("checks", []):
                if not check.get("passed"):
                    failed.append(f"{row.get('name')}: {check.get('name')}")
    note = ""
    if done.returncode >= 2:
        lines = (done.stdout + done.stderr).strip().splitlines()
        note = " ".join(lines[-3:])[-300:]
    return Outcome(done.returncode, failed, server.since(mark), note)


# --- comparing -----------------------------------------------------------------------------


def normalise(request: dict[str, Any]) -> dict[str, Any]:
    body = base64.b64decode(request["body"])
    headers = [(k, v) for k, v in request["headers"] if k.lower() not in IGNORED_HEADERS]
    content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
    boundary = re.search(r"boundary=([^;\s]+)", content_type)
    if boundary and "multipart/" in content_type:
        body = body.replace(boundary.group(1).strip('"').encode(), b"BOUNDARY")
        headers = [
            (k, v.replace(boundary.group(1), "BOUNDARY"))
            if k.lower() == "content-type"
            else (k, str(len(body)))
            if k.lower() == "content-length"
            else (k, v)
            for k, v in headers
        ]
    ordered = sorted(headers, key=lambda kv: kv[0].lower())  # stable: repeats keep their order
    return {
        "server": request["server"],
        "method": request["method"],
        "target": request["target"],
        "headers": ordered,
        "body": body,
    }


def _key(request: dict[str, Any]) -> tuple[str, str, str]:
    return request["server"], request["method"], request["target"].split("?")[0]


@dataclass(frozen=True)
class Difference:
    where: str  # "#3 POST /post": Newman's request number, method and target
    kind: str  # only newman, only harness, server, method, target, headers, body
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.where}: {self.kind} {self.detail}".rstrip()


def _where(number: int, request: dict[str, Any]) -> str:
    return f"#{number} {request['method']} {request['target'][:60]}"


def differences(newman: list[dict[str, Any]], harness: list[dict[str, Any]]) -> list[Difference]:
    """Why the two request lists differ (empty: they are the same). The lists are aligned on
    (server, method, path) first, so that one missing request is one difference."""
    found = []
    matcher = difflib.SequenceMatcher(
        a=[_key(r) for r in newman], b=[_key(r) for r in harness], autojunk=False
    )
    pairs = []
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal" or (tag == "replace" and a1 - a0 == b1 - b0):
            pairs += list(zip(range(a0, a1), range(b0, b1), strict=True))
            continue
        found += [Difference(_where(i + 1, newman[i]), "only newman") for i in range(a0, a1)]
        found += [Difference(_where(j + 1, harness[j]), "only harness") for j in range(b0, b1)]
    for i, j in pairs:
        a, b = normalise(newman[i]), normalise(harness[j])
        where = _where(i + 1, newman[i])
        for key in ("server", "method", "target"):
            if a[key] != b[key]:
                found.append(Difference(where, key, f"newman {a[key]!r} harness {b[key]!r}"))
        if a["headers"] != b["headers"]:
            only_n = [h for h in a["headers"] if h not in b["headers"]]
            only_h = [h for h in b["headers"] if h not in a["headers"]]
            detail = f"newman-only {only_n} harness-only {only_h}"
            found.append(Difference(where, "headers", detail))
        if a["body"] != b["body"]:
            detail = f"newman {a['body'][:120]!r} harness {b['body'][:120]!r}"
            found.append(Difference(where, "body", detail))
    return found


def _verdict(outcome: Outcome) -> str:
    if outcome.code == 0:
        return "pass"
    if outcome.code == 124:
        return "timeout"
    return "refused" if outcome.code >= 2 else f"fail({len(outcome.failed)})"


@dataclass
class Row:
    name: str
    newman: Outcome
    harness: Outcome
    request_diffs: list[Difference]
    random_diffs: int  # differences that Newman's own two runs also show

    @property
    def same_requests(self) -> bool:
        return not self.request_diffs

    @property
    def same_verdict(self) -> bool:
        n, h = self.newman, self.harness
        if (n.code == 0) != (h.code == 0) or h.code >= 2:
            return False
        return sorted(n.failed) == sorted(h.failed)


def compare(fixture: Fixture, newman_cmd: list[str], server: EchoServer, root: Path) -> Row:
    staged = {
        kind: root / path.relative_to(fixture.checkout) for kind, path in fixture.files.items()
    }
    staged["root"] = root
    newman = run_newman(newman_cmd, staged, fixture.options, server)
    harness = run_harness(staged, fixture.options, server)
    diffs = differences(newman.requests, harness.requests)
    random_diffs = 0
    if diffs:  # the ones Newman's own second run shows too are random by design
        again = run_newman(newman_cmd, staged, fixture.options, server)
        noise = {(d.where, d.kind) for d in differences(newman.requests, again.requests)}
        kept = [d for d in diffs if (d.where, d.kind) not in noise]
        random_diffs = len(diffs) - len(kept)
        diffs = kept
    return Row(fixture.name, newman, harness, diffs, random_diffs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixtures", type=Path, required=True, help="a checkout of newman")
    parser.add_argument("--newman-dir", type=Path, default=Path.cwd(),
                        help="where `npm install newman` was run (npx looks there)")  # fmt: skip
    parser.add_argument("--only", action="append", default=[], help="fixtures whose name has this")
    parser.add_argument("-v", "--verbose", action="store_true", help="every difference in full")
    args = parser.parse_args(argv)

    npx = shutil.which("npx")
    newman_bin = args.newman_dir / "node_modules" / ".bin" / "newman"
    if newman_bin.exists():
        newman_cmd = [str(newman_bin)]
    elif npx:
        newman_cmd = [npx, "--no-install", "newman"]
    else:
        newman_cmd = []
    if not newman_cmd or subprocess.run([*newman_cmd, "--version"], capture_output=True).returncode:
        print(
            "Newman is not available. Install it (Node.js 16+): `mkdir /tmp/newman && cd /tmp/newman"
            " && npm install newman`, then pass `--newman-dir /tmp/newman`.",
            file=sys.stderr,
        )
        return 2
    if not (args.fixtures / "test" / "integration").is_dir():
        print(
            f"{args.fixtures} is not a newman checkout (no test/integration): "
            "`git clone https://github.com/postmanlabs/newman` and pass its directory.",
            file=sys.stderr,
        )
        return 2
    fixtures = [
        f
        for f in find_fixtures(args.fixtures)
        if not args.only or any(o in f.name for o in args.only)
    ]
    version = subprocess.run([*newman_cmd, "--version"], capture_output=True, text=True).stdout
    print(f"Newman {version.strip()}, {len(fixtures)} fixtures\n")
    rows = []
    with (
        tempfile.TemporaryDirectory(prefix="newman-parity-") as tmp,
        echo_server(Path(tmp)) as server,
    ):
        stage_tree(args.fixtures, server.ports, Path(tmp) / "newman")
        for fixture in fixtures:
            row = compare(fixture, newman_cmd, server, Path(tmp) / "newman")
            rows.append(row)
            print(
                f"{row.name:55} {len(row.newman.requests):>3} {len(row.harness.requests):>3}  "
                f"{'same' if row.same_requests else 'DIFF':4}  "
                f"{_verdict(row.newman):>9} {_verdict(row.harness):>9}  "
                f"{'same' if row.same_verdict else 'DIFF'}"
                + (f"  (random: {row.random_diffs})" if row.random_diffs else ""),
                flush=True,
            )
            if not row.same_requests or not row.same_verdict:
                shown = row.request_diffs if args.verbose else row.request_diffs[:3]
                for diff in shown:
                    print(f"    - {str(diff)[:400]}")
                if not row.same_verdict:
                    if row.harness.note:
                        print(f"    ! harness: {row.harness.note}")
                    n_only = sorted(set(row.newman.failed) - set(row.harness.failed))
                    h_only = sorted(set(row.harness.failed) - set(row.newman.failed))
                    print(f"    ! failed only in newman: {n_only[:5]}")
                    print(f"    ! failed only in harness: {h_only[:5]}")
    total = len(rows)
    same_requests = sum(r.same_requests for r in rows)
    same_verdict = sum(r.same_verdict for r in rows)
    print(f"\nsame requests: {same_requests} of {total}, same verdict: {same_verdict} of {total}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "echo":
        serve_echo(Path(sys.argv[2]))
    else:
        sys.exit(main())
