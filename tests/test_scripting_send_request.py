"""pm.sendRequest, answered by a tiny echo server on loopback through a Python callback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import httpx
import pytest

from harness.scripting import ScriptRequest, ScriptResponse, ScriptRunner
from tests.local_server import local_server, serving
from tests.scripting_support import messages, run_test, scopes


class _Echo(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.dumps(
            {
                "method": self.command,
                "path": self.path,
                "header": self.headers.get("X-Probe"),
                "body": self.rfile.read(length).decode(),
            }
        ).encode()
        self.send_response(201 if self.command == "POST" else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def echo_url() -> Iterator[str]:
    with serving(local_server(_Echo)) as url:
        yield url


def _send(request: ScriptRequest) -> ScriptResponse:
    content = request.body.raw.encode() if request.body is not None else None
    response = httpx.request(
        request.method,
        request.url,
        headers=[(h.key, h.value) for h in request.headers],
        content=content,
    )
    return ScriptResponse.from_httpx(response, response.elapsed.total_seconds() * 1000)


def test_send_request_with_a_callback(echo_url: str) -> None:
    scope = scopes(environment={"echo": echo_url})
    code = """
    pm.sendRequest({
        url: pm.environment.get("echo") + "/things?x=1",
        method: "POST",
        header: {"X-Probe": "p1"},
        body: {mode: "raw", raw: "hello"},
    }, function (err, res) {
        pm.test("answered", () => {
            pm.expect(err).to.be.null;
            pm.expect(res.code).to.equal(201);
            pm.expect(res.json()).to.eql({method: "POST", path: "/things?x=1", header: "p1", body: "hello"});
        });
        pm.environment.set("echoed", res.json().path);
    });
    """
    outcome = run_test(code, scope=scope, runner=ScriptRunner(send_request=_send))
    assert messages(outcome) == {"answered": ""}
    assert scope.environment["echoed"] == "/things?x=1"


def test_send_request_as_a_promise_and_a_plain_url(echo_url: str) -> None:
    code = f"""
    pm.sendRequest("{echo_url}/p").then(res => {{
        pm.test("promise", () => pm.expect(res.json().method).to.equal("GET"));
    }});
    """
    outcome = run_test(code, runner=ScriptRunner(send_request=_send))
    assert messages(outcome) == {"promise": ""}


def test_send_request_errors_reach_the_callback() -> None:
    def refuse(request: ScriptRequest) -> ScriptResponse:
        raise ConnectionError(f"could not connect to {request.url}")

    code = """
    pm.sendRequest("http://127.0.0.1:9/x", (err, res) => {
        pm.test("err", () => {
            pm.expect(res).to.be.null;
            pm.expect(err.message).to.equal("could not connect to http://127.0.0.1:9/x");
        });
    });
    """
    assert messages(run_test(code, runner=ScriptRunner(send_request=refuse))) == {"err": ""}


def test_an_error_in_a_send_request_callback_is_a_script_failure(echo_url: str) -> None:
    code = f'pm.sendRequest("{echo_url}/", function (err, res) {{\n  res.nope.boom;\n}});'
    outcome = run_test(code, runner=ScriptRunner(send_request=_send))
    (failure,) = outcome.failures
    assert failure.error_name == "TypeError" and failure.line == 2
