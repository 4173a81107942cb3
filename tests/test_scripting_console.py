"""console.* is captured for the report; the built-ins scripts rely on are there."""

from __future__ import annotations

from harness.scripting import ConsoleLine
from tests.scripting_support import messages, run_test


def test_console_is_captured_in_order_with_its_level() -> None:
    outcome = run_test(
        "console.log('id', 5, {a: [1]});\nconsole.warn('careful');\nconsole.error(new Error('x'));"
    )
    assert outcome.console == (
        ConsoleLine("log", "id 5 { a: [ 1 ] }"),
        ConsoleLine("warn", "careful"),
        ConsoleLine("error", "Error: x"),
    )


def test_builtins() -> None:
    code = """
    pm.test("builtins", () => {
        pm.expect(btoa("user:pass")).to.equal("dXNlcjpwYXNz");
        pm.expect(atob("dXNlcjpwYXNz")).to.equal("user:pass");
        pm.expect(JSON.parse('{"a":1}').a).to.equal(1);
        pm.expect(require("uuid").v4()).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    });
    """
    assert messages(run_test(code)) == {"builtins": ""}


def test_cookies_from_the_response() -> None:
    from harness.scripting import ScriptResponse

    response = ScriptResponse(200, "OK", (("Set-Cookie", "sid=abc; Path=/; HttpOnly"),), b"", 1.0)
    code = "pm.test('c', () => { pm.expect(pm.cookies.get('sid')).to.equal('abc'); pm.expect(pm.cookies.has('x')).to.be.false; });"
    assert messages(run_test(code, response)) == {"c": ""}
