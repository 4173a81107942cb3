"""Runs Postman scripts in QuickJS (the ``quickjs-ng`` package), in one context per run.

The context gets our ``pm.js`` prelude once and a memory limit; each execution gets a CPU-time
limit. As in Postman's sandbox (one context per run), a global one script sets is seen by the
scripts after it; the ``pm`` object and the legacy globals are built afresh for each execution.
A context that ran out of time, memory or stack is dropped, and the next script gets a new one.
QuickJS refuses calls into Python while a time limit is set, so nothing leaves the engine while a
script runs: the run's scopes and any required library files go in as JSON before it, and the
variable changes and queued ``pm.sendRequest`` calls come out after it (the requests are then sent
and their callbacks run, as Postman runs them: after the script body).
The engine has no file system, network or process access. It is imported on first use only.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Iterable, Sequence
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.collection import Auth, Body, KeyValue
from harness.scripting.model import (
    ConsoleLine,
    EventName,
    NextRequest,
    ScopeName,
    ScriptFailure,
    ScriptInfo,
    ScriptLimits,
    ScriptOutcome,
    ScriptRequest,
    ScriptResponse,
    ScriptSource,
    SendRequest,
    TestResult,
    VariableChange,
)
from harness.variables import OS_ENV_PREFIX, Scopes

if TYPE_CHECKING:
    import quickjs

# Our prelude (and any required library) is evaluated after this many blank lines, so a stack
# frame with a smaller line number is in the user's script: that is the line we report.
_OWN_CODE_LINE = 20_000
_FRAME_LINE = re.compile(r"<input>:(\d+)")
_REQUIRE = re.compile(r"""\brequire\(\s*(['"])([^'"]+)\1\s*\)""")
_BUILTIN_MODULES = frozenset({"uuid", "atob", "btoa"})
# Libraries Postman's sandbox provides (postman-sandbox lib/environment.js), shipped in vendor/ and
# evaluated once per run only when a script names them: lodash alone costs tens of milliseconds.
_BUNDLED_FILES = {
    "lodash": "vendor/lodash/lodash.min.js",
    "crypto-js": "vendor/crypto-js/crypto-js.js",
    "moment": "vendor/moment/moment.min.js",
    "ajv": "vendor/ajv/ajv.min.js",
    "sugar": "vendor/sugar/sugar.js",
    "tv4": "vendor/tv4/tv4.js",
}
# Postman's legacy globals for them (postman-sandbox lib/sandbox/postman-legacy-interface.js).
_BUNDLED_GLOBALS = {"_": "lodash", "CryptoJS": "crypto-js", "tv4": "tv4"}
_GLOBAL_NAME = re.compile(r"(?<![\w$.])(_|CryptoJS|tv4)(?![\w$])")
# chai-postman's jsonSchema assertion validates with Postman's Ajv, as it does in Postman.
_JSON_SCHEMA_WORD = re.compile(r"\bjsonSchema\b")
# Postman's sandbox extends the built-in prototypes with Sugar ('text'.has(x), [1, 2].average()),
# which scripts written for its legacy API rely on; their methods cannot be told apart from
# others by name, so Sugar comes with the legacy API (35 ms, once per run).
_LEGACY_API_WORD = re.compile(r"\btests\s*\[|\bresponseBody\b|\bpostman\s*\.")
_MAX_SENDS = 1000  # pm.sendRequest calls in one script: a runaway loop stops here
_PACKAGE_NAME = re.compile(r"^(@[a-z0-9][\w.~-]*/)?[a-z0-9][\w.~-]*(/[\w.~/-]+)?$", re.I)


@lru_cache(maxsize=1)
def _prelude() -> str:
    source = resources.files("harness.scripting").joinpath("pm.js").read_text(encoding="utf-8")
    return "\n" * _OWN_CODE_LINE + source


@cache
def _bundled_source(name: str) -> str:
    return (
        resources.files("harness.scripting")
        .joinpath(_BUNDLED_FILES[name])
        .read_text(encoding="utf-8")
    )


class ScriptContext:
    """The JavaScript context every script of one run shares (not thread-safe: the caller
    runs one script at a time, as :class:`~harness.scripting.hooks.RequestScripts` does)."""

    def __init__(self) -> None:
        self._context: quickjs.Context | None = None
        self._bundled: set[str] = set()

    def load_bundled(self, names: Iterable[str]) -> None:
        """Evaluate the bundled libraries not yet in the context (call after :meth:`acquire`)."""
        assert self._context is not None
        for name in names:
            if name in self._bundled:
                continue
            # Its own lines come after ours, so an error inside it is not reported as the script's.
            self._context.eval(
                "__defineBundled("
                + json.dumps(name)
                + ", function (module, exports, require) {"
                + "\n" * _OWN_CODE_LINE
                + _bundled_source(name)
                + "\n});"
            )
            self._bundled.add(name)

    def acquire(self, limits: ScriptLimits) -> quickjs.Context:
        import quickjs

        if self._context is None:
            context = quickjs.Context()
            context.set_memory_limit(limits.memory_bytes)
            context.eval(_prelude())
            self._context = context
            self._bundled = set()
        return self._context

    def discard(self) -> None:
        """Drop a context left unusable (interrupted mid-way, out of memory or stack)."""
        self._context = None
        self._bundled = set()


class ScriptRunner:
    """Runs the scripts of one event against the run's scopes; see :mod:`harness.scripting.model`."""

    def __init__(
        self,
        *,
        limits: ScriptLimits | None = None,
        script_libs: Path | None = None,
        send_request: SendRequest | None = None,
        environment_name: str = "",
        context: ScriptContext | None = None,
    ) -> None:
        self.limits = limits if limits is not None else ScriptLimits()
        self.context = context if context is not None else ScriptContext()
        self.script_libs = script_libs
        self.send_request = send_request
        self.environment_name = environment_name

    def run_prerequest(
        self,
        scripts: Sequence[ScriptSource],
        request: ScriptRequest,
        scopes: Scopes,
        info: ScriptInfo,
    ) -> ScriptOutcome:
        return self._run("prerequest", scripts, request, None, scopes, info)

    def run_test(
        self,
        scripts: Sequence[ScriptSource],
        request: ScriptRequest,
        response: ScriptResponse,
        scopes: Scopes,
        info: ScriptInfo,
    ) -> ScriptOutcome:
        return self._run("test", scripts, request, response, scopes, info)

    def _run(
        self,
        event: EventName,
        scripts: Sequence[ScriptSource],
        request: ScriptRequest,
        response: ScriptResponse | None,
        scopes: Scopes,
        info: ScriptInfo,
    ) -> ScriptOutcome:
        outcome = ScriptOutcome(request=request)
        for script in scripts:
            if script.event != event or not script.code.strip():
                continue
            outcome = _merge(
                outcome, self._execute(script, outcome.request, response, scopes, info)
            )
        return outcome

    def _execute(
        self,
        script: ScriptSource,
        request: ScriptRequest,
        response: ScriptResponse | None,
        scopes: Scopes,
        info: ScriptInfo,
    ) -> ScriptOutcome:
        import quickjs

        context = self.context.acquire(self.limits)
        context.set_time_limit(-1)  # our own set-up is not the script's time
        libraries = _Libraries(self.script_libs)
        setup = {
            "info": {
                "eventName": script.event,
                "iteration": info.iteration,
                "iterationCount": info.iteration_count,
                "requestName": info.request_name,
                "requestId": info.request_id,
            },
            "requestDescription": info.request_description,
            "request": _request_to_js(request, info),
            "response": _response_to_js(response) if response is not None else None,
            "cookies": _cookies(request, response),
            "environmentName": self.environment_name,
            "scopes": {
                "local": scopes.local,
                "data": scopes.data,
                "environment": scopes.environment,
                "collection": scopes.collection,
                "globals": scopes.globals,
            },
            "osEnvironment": {
                k: v for k, v in scopes.os_environ.items() if k.startswith(OS_ENV_PREFIX)
            },
            "environmentOverrides": scopes.environment_overrides,
            "libraries": libraries.collect(script.code),
        }
        self.context.load_bundled(libraries.bundled)
        context.eval(f"__setup({json.dumps(setup)})")
        # Set only now: QuickJS counts CPU time from each eval's start, and refuses Python
        # callbacks while a limit is set (so the prelude has none).
        context.set_time_limit(self.limits.timeout_s)
        failures: list[ScriptFailure] = []
        try:
            # Wrapped in a function, as Postman does, so that a top-level `return` works; on the
            # same line as the script's first, so line numbers stay the script's own.
            context.eval("(function () {" + script.code + "\n})();")
            self._settle(context)
        except quickjs.StackOverflow as exc:
            self.context.discard()
            failures.append(_failure(script, str(exc), self.limits))
        except quickjs.JSException as exc:
            if str(exc).startswith("InternalError"):  # interrupted, out of memory, too deep
                self.context.discard()
            failures.append(_failure(script, str(exc), self.limits))
        except _PromiseJobsTimeout:
            self.context.discard()
            failures.append(_failure(script, "InternalError: interrupted", self.limits))
        try:
            result = json.loads(context.eval("__finish()"))
        except (quickjs.JSException, quickjs.StackOverflow):
            # Out of memory or time even for the summary: what the script did is lost with it.
            self.context.discard()
            return ScriptOutcome(request=request, failures=tuple(failures))
        changes = _apply_changes(result["changes"], scopes)
        tests = [
            TestResult(t["name"], t["passed"], t["skipped"], t["errorName"], t["message"])
            for t in result["tests"]
        ]
        for extra in result["asyncErrors"]:
            failures.append(
                _failure(script, f"{extra['name']}: {extra['message']}\n{extra['stack']}", None)
            )
        next_request = NextRequest(result["next"]["name"]) if result["next"]["set"] else None
        return ScriptOutcome(
            request=_request_from_js(result["request"], request)
            if script.event == "prerequest"
            else request,
            tests=tuple(tests),
            console=tuple(ConsoleLine(c["level"], c["text"]) for c in result["console"]),
            failures=tuple(failures),
            variable_changes=changes,
            next_request=next_request,
            skip_request=bool(result["skip"]),
        )

    def _settle(self, context: quickjs.Context) -> None:
        """Run promise jobs and queued ``pm.sendRequest`` calls until nothing is left to do.

        Each job has the engine's time limit; the wall time of all of them together (not counting
        the sending) has it too, so an endless chain of short promise jobs also stops.
        """
        sent = 0
        spent = 0.0
        while True:
            started = time.monotonic()
            while context.execute_pending_job():
                if spent + time.monotonic() - started > self.limits.timeout_s:
                    raise _PromiseJobsTimeout
            spent += time.monotonic() - started
            queued = json.loads(context.eval("__takeSends()"))
            if not queued:
                return
            for index, spec in enumerate(queued):
                sent += 1
                answer = (
                    self._send(spec)
                    if sent <= _MAX_SENDS
                    else {"error": f"pm.sendRequest: more than {_MAX_SENDS} requests in one script"}
                )
                context.eval(f"__deliver({index}, {json.dumps(answer)})")

    def _send(self, spec: dict[str, Any]) -> dict[str, object]:
        if self.send_request is None:
            return {"error": "pm.sendRequest is not available in this run"}
        headers = tuple(KeyValue(h["key"], h["value"]) for h in spec["headers"])
        body = _body_from_js(spec["body"], None)
        request = ScriptRequest(spec["method"], spec["url"], headers, body, None)
        try:
            response = self.send_request(request)
        except Exception as exc:  # the script's callback gets it as `err`, as in Postman
            return {"error": str(exc) or type(exc).__name__}
        return {"response": _response_to_js(response)}


def _apply_changes(changes: list[dict[str, Any]], scopes: Scopes) -> tuple[VariableChange, ...]:
    """Replay the script's variable log on the run's scopes, as the script saw it happen."""
    by_name: dict[str, dict[str, str]] = {
        "local": scopes.local,
        "data": scopes.data,
        "environment": scopes.environment,
        "collection": scopes.collection,
        "globals": scopes.globals,
    }
    applied = []
    for change in changes:
        scope: ScopeName = change["scope"]
        name, value = str(change["name"]), change["value"]
        target = by_name[scope]
        if name == "*" and value is None:
            target.clear()
            if scope == "environment":
                scopes.environment_overrides.clear()
        elif value is None:
            target.pop(name, None)
        else:
            target[name] = str(value)
        if scope == "environment" and name != "*":
            # a script's value replaces an --env-var one, as the script itself saw
            scopes.environment_overrides.pop(name, None)
        applied.append(VariableChange(scope, name, None if value is None else str(value)))
    return tuple(applied)


class _PromiseJobsTimeout(Exception):
    """The script's promise jobs together ran longer than its time limit."""


def _merge(before: ScriptOutcome, after: ScriptOutcome) -> ScriptOutcome:
    return ScriptOutcome(
        request=after.request,
        tests=before.tests + after.tests,
        console=before.console + after.console,
        failures=before.failures + after.failures,
        variable_changes=before.variable_changes + after.variable_changes,
        next_request=after.next_request if after.next_request is not None else before.next_request,
        skip_request=before.skip_request or after.skip_request,
    )


def _failure(script: ScriptSource, text: str, limits: ScriptLimits | None) -> ScriptFailure:
    first, _, stack = text.partition("\n")
    name, sep, message = first.partition(": ")
    if not sep:
        name, message = "Error", first
    lines = [int(n) for n in _FRAME_LINE.findall(stack) if int(n) < _OWN_CODE_LINE]
    line = lines[0] if lines else None
    if limits is not None and name == "InternalError" and message == "interrupted":
        return ScriptFailure(
            script.owner,
            script.event,
            line,
            "timeout",
            "ScriptTimeout",
            f"the script ran longer than its {limits.timeout_s:g} s limit",
        )
    if limits is not None and name == "InternalError" and message == "out of memory":
        return ScriptFailure(
            script.owner,
            script.event,
            line,
            "memory",
            "ScriptMemoryLimit",
            f"the script used more than its {limits.memory_bytes // (1024 * 1024)} MiB memory limit",
        )
    return ScriptFailure(script.owner, script.event, line, "error", name, message)


# ---------------------------------------------------------------------------------------------
# Crossing the boundary: plain JSON both ways.


def _request_to_js(request: ScriptRequest, info: ScriptInfo) -> dict[str, object]:
    return {
        "method": request.method,
        "url": request.url,
        "headers": [
            {"key": h.key, "value": h.value, "disabled": h.disabled} for h in request.headers
        ],
        "body": _body_to_js(request.body),
        "auth": {"type": request.auth.type, "params": dict(request.auth.params)}
        if request.auth is not None
        else None,
        "name": info.request_name,
        "id": info.request_id,
    }


def _body_to_js(body: Body | None) -> dict[str, object] | None:
    if body is None:
        return None
    shape: dict[str, object] = {"mode": body.mode}
    if body.mode == "raw":
        shape["raw"] = body.raw
        if body.language:
            shape["options"] = {"raw": {"language": body.language}}
    elif body.mode in ("urlencoded", "formdata"):
        shape[body.mode] = [
            {"key": f.key, "value": f.value, "disabled": f.disabled, "type": f.type}
            for f in body.fields
        ]
    return shape


def _request_from_js(shape: dict[str, Any], before: ScriptRequest) -> ScriptRequest:
    headers = tuple(
        KeyValue(str(h["key"]), str(h["value"]), bool(h.get("disabled", False)))
        for h in shape["headers"]
    )
    return ScriptRequest(
        method=str(shape["method"]).upper(),
        url=str(shape["url"]),
        headers=headers,
        body=_body_from_js(shape["body"], before.body),
        auth=_auth_from_js(shape["auth"]),
    )


def _body_from_js(shape: Any, before: Body | None) -> Body | None:
    if shape is None:
        return None
    if isinstance(shape, str):
        return Body(mode="raw", raw=shape)
    mode = shape.get("mode", "raw")
    if mode == "raw":
        language = (shape.get("options") or {}).get("raw", {}).get("language")
        return Body(mode="raw", raw=str(shape.get("raw") or ""), language=language)
    if mode in ("urlencoded", "formdata"):
        old = {f.key: f for f in before.fields} if before is not None else {}
        fields = []
        for entry in shape.get(mode) or []:
            kept = old.get(str(entry["key"]))
            fields.append(
                KeyValue(
                    str(entry["key"]),
                    str(entry.get("value", "")),
                    bool(entry.get("disabled", False)),
                    str(entry.get("type", "text")),
                    kept.src if kept is not None else None,
                )
            )
        return Body(mode=mode, fields=tuple(fields))
    return before  # file and graphql bodies are not changed by scripts


def _auth_from_js(shape: Any) -> Auth | None:
    if not isinstance(shape, dict) or "type" not in shape:
        return None
    kind = str(shape["type"])
    if kind == "noauth":
        return None
    given = shape.get("params", shape.get(kind))
    params: dict[str, Any] = {}
    if isinstance(given, list):  # Postman's [{key, value}] form
        params = {str(p["key"]): p.get("value") for p in given if isinstance(p, dict)}
    elif isinstance(given, dict):
        params = dict(given)
    return Auth(type=kind, params=params)


def _response_to_js(response: ScriptResponse) -> dict[str, object]:
    return {
        "code": response.code,
        "reason": response.reason,
        "headers": [{"key": k, "value": v} for k, v in response.headers],
        "body": response.body.decode("utf-8", "replace"),
        "responseTime": response.response_time_ms,
        "responseSize": len(response.body),
    }


def _cookies(request: ScriptRequest, response: ScriptResponse | None) -> list[dict[str, str]]:
    found: dict[str, str] = {}
    for header in request.headers:
        if header.key.lower() == "cookie" and not header.disabled:
            for pair in header.value.split(";"):
                name, sep, value = pair.strip().partition("=")
                if sep:
                    found[name] = value
    for key, value in response.headers if response is not None else ():
        if key.lower() == "set-cookie":
            name, sep, rest = value.partition("=")
            if sep:
                found[name.strip()] = rest.split(";", 1)[0]
    return [{"key": k, "value": v} for k, v in found.items()]


class _Libraries:
    """The user's node_modules files a script requires, read before it runs.

    Only ``require('literal-name')`` calls are found (in the script and, recursively, in the
    files they load); the engine cannot call back into Python mid-script to read more.
    """

    def __init__(self, root: Path | None) -> None:
        self.root = root.resolve() if root is not None else None
        self.modules: dict[str, str] = {}
        self.resolved: dict[str, dict[str, str]] = {}
        self.errors: dict[str, str] = {}
        self.bundled: dict[str, None] = {}  # the bundled libraries the script needs, in order

    def collect(self, code: str) -> dict[str, object]:
        for match in _GLOBAL_NAME.finditer(code):
            self.bundled[_BUNDLED_GLOBALS[match.group(1)]] = None
        if _JSON_SCHEMA_WORD.search(code):
            self.bundled["ajv"] = None
        if _LEGACY_API_WORD.search(code):
            self.bundled["sugar"] = None
        self._scan(code, "")
        return {"modules": self.modules, "resolved": self.resolved, "errors": self.errors}

    def _scan(self, source: str, directory: str) -> None:
        for name in dict.fromkeys(m.group(2) for m in _REQUIRE.finditer(source)):
            key = f"{directory}|{name}"
            if name in _BUILTIN_MODULES or key in self.resolved or key in self.errors:
                continue
            found = self._resolve(name, directory)
            if isinstance(found, str) and name in _BUNDLED_FILES:
                self.bundled[name] = None  # not in the user's libraries: Postman's own
                continue
            if isinstance(found, str):
                self.errors[key] = found
                continue
            assert self.root is not None
            module_id = found.relative_to(self.root).as_posix()
            self.resolved[key] = {
                "id": module_id,
                "dir": found.parent.relative_to(self.root).as_posix(),
            }
            if module_id not in self.modules:
                text = found.read_text(encoding="utf-8", errors="replace")
                self.modules[module_id] = "\n" * _OWN_CODE_LINE + text
                if not module_id.endswith(".json"):
                    self._scan(text, self.resolved[key]["dir"])

    def _resolve(self, name: str, directory: str) -> Path | str:
        """The file to load, or why there is none."""
        if self.root is None:
            return f"require('{name}'): no script library directory was given; pass --script-libs with the node_modules directory that has '{name}'"
        if name.startswith("."):
            target = (self.root / directory / name).resolve()
        elif _PACKAGE_NAME.match(name):
            target = (self.root / name).resolve()
        else:
            return f"require('{name}'): '{name}' is not a package name"
        if not target.is_relative_to(self.root):
            return (
                f"require('{name}'): the file is outside the script library directory {self.root}"
            )
        found = _module_file(target)
        if found is None:
            return f"require('{name}'): the library '{name}' is not in {self.root}; install it there (npm install {name}) or remove the require"
        return found


def _module_file(target: Path) -> Path | None:
    """Node's resolution for one path: the file, ``.js``/``.json`` added, or a package's main."""
    for candidate in (target, target.with_name(target.name + ".js")):
        if candidate.is_file():
            return candidate
    if target.is_dir():
        main = "index.js"
        package = target / "package.json"
        if package.is_file():
            with contextlib.suppress(ValueError, OSError):  # a broken package.json: Node's default
                main = str(json.loads(package.read_text(encoding="utf-8")).get("main") or main)
        entry = (target / main).resolve()
        for candidate in (entry, entry.with_name(entry.name + ".js"), entry / "index.js"):
            if candidate.is_file() and candidate.is_relative_to(target):
                return candidate
    return None
