"""Per-script overhead of running Postman scripts, and the engines it was chosen between.

    .venv/bin/python benchmarks/bench_scripts.py [--rounds 200] [--requests 200]

Prints, for QuickJS (``quickjs-ng``, the engine the harness uses) and V8 (``mini-racer``, measured
when installed: ``pip install mini-racer``): the start-up of a fresh process that imports the engine
and makes one context, the cost of a fresh context with our ``pm.js`` prelude, and of a fresh context
plus prelude plus a typical test script; then the harness's whole ``ScriptRunner.run_test`` (setup,
script, result, variable changes applied). Median and best of the rounds, in milliseconds
(process start-up: best of 3, less an empty interpreter's).

Then a whole run: the same collection (``--requests`` GETs, each with the typical test script
above) against one local static server, by the harness with scripts and with ``--no-scripts``,
in interleaved rounds; the difference per request is what running the scripts costs a run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import util
from pathlib import Path

from _common import machine, split, static_server, synthetic_collection, table, write_environment

from harness.scripting import ScriptInfo, ScriptRequest, ScriptResponse, ScriptRunner, ScriptSource
from harness.scripting.engine import _prelude
from harness.scripting.hooks import ScriptSettings
from harness.session import RunOptions, open_session
from harness.variables import Scopes

SCRIPT = """
pm.test("Status code is 200", function () { pm.response.to.have.status(200); });
const body = pm.response.json();
pm.test("has an id", () => pm.expect(body).to.have.property("id").that.is.a("number"));
pm.collectionVariables.set("patient_id", body.id);
"""
RESPONSE = ScriptResponse(200, "OK", (("Content-Type", "application/json"),), b'{"id": 7}', 30.0)
SETUP = (
    '__setup({"info": {"eventName": "test", "iteration": 0, "iterationCount": 1,'
    ' "requestName": "r", "requestId": ""}, "request": {"method": "GET", "url": "http://h/",'
    ' "headers": [], "body": null, "auth": null}, "response": {"code": 200, "reason": "OK",'
    ' "headers": [{"key": "Content-Type", "value": "application/json"}], "body": "{\\"id\\": 7}",'
    ' "responseTime": 30, "responseSize": 9}, "cookies": [], "environmentName": "",'
    ' "scopes": {"local": {}, "data": {}, "environment": {}, "collection": {}, "globals": {}},'
    ' "osEnvironment": {}, "environmentOverrides": {},'
    ' "libraries": {"modules": {}, "resolved": {}, "errors": {}}})'
)


Row = tuple[str, str, tuple[float, float]]  # engine, what, (median ms, best ms)


def _median_ms(rounds: int, fn: Callable[[], object]) -> tuple[float, float]:
    """Median and best of the rounds: the best is the cost on a quiet machine."""
    fn()  # warm-up
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, min(times) * 1000


def _startup_ms(code: str) -> tuple[float, float]:
    """Wall time of a fresh interpreter running ``code``, less that of an empty one (best of 3)."""

    def run(snippet: str) -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", snippet], check=True)
        return time.perf_counter() - started

    bare = min(run("pass") for _ in range(3))
    extra = max(0.0, min(run(code) for _ in range(3)) - bare) * 1000
    return extra, extra


def _quickjs_rows(rounds: int) -> list[Row]:
    import quickjs

    prelude = _prelude()
    unpadded = prelude.lstrip("\n")

    def context(source: str) -> quickjs.Context:
        made = quickjs.Context()
        made.set_memory_limit(64 * 1024 * 1024)
        made.eval(source)
        return made

    def with_script() -> None:
        made = context(prelude)
        made.eval(SETUP)
        made.set_time_limit(5)
        made.eval("(function () {" + SCRIPT + "\n})();")
        made.eval("__finish()")

    return [
        (
            "QuickJS",
            "process start + import + 1 context",
            _startup_ms("import quickjs; quickjs.Context()"),
        ),
        ("QuickJS", "fresh context, empty", _median_ms(rounds, quickjs.Context)),
        ("QuickJS", "fresh context + pm.js prelude", _median_ms(rounds, lambda: context(prelude))),
        (
            "QuickJS",
            "  same, without the line padding",
            _median_ms(rounds, lambda: context(unpadded)),
        ),
        ("QuickJS", "fresh context + prelude + script", _median_ms(rounds, with_script)),
    ]


def _v8_rows(rounds: int) -> list[Row]:
    from py_mini_racer import MiniRacer

    prelude = _prelude()

    def context() -> MiniRacer:
        made = MiniRacer()
        made.set_hard_memory_limit(64 * 1024 * 1024)
        made.eval(prelude)
        return made

    def with_script() -> None:
        made = context()
        made.eval(SETUP)
        made.eval("(function () {" + SCRIPT + "\n})();", timeout_sec=5)
        made.eval("__finish()")
        made.close()

    def empty() -> None:
        MiniRacer().close()

    def prelude_only() -> None:
        context().close()

    startup = "from py_mini_racer import MiniRacer; MiniRacer()"
    return [
        ("V8", "process start + import + 1 context", _startup_ms(startup)),
        ("V8", "fresh context, empty", _median_ms(rounds, empty)),
        ("V8", "fresh context + pm.js prelude", _median_ms(rounds, prelude_only)),
        ("V8", "fresh context + prelude + script", _median_ms(rounds, with_script)),
    ]


def _run_rows(requests: int, rounds: int) -> list[list[str]]:
    """Per-request time of a whole run with scripts and with ``--no-scripts``, same server."""
    with tempfile.TemporaryDirectory() as temp, static_server(b'{"id": 7}', Path(temp)) as server:
        workdir = Path(temp)
        collection = synthetic_collection(
            workdir / "collection.json",
            split([f"/api/patients/{i}" for i in range(requests)], 4),
            oauth2=False,
        )
        document = json.loads(collection.read_text())
        for folder in document["item"]:
            for item in folder["item"]:
                item["event"][0]["script"]["exec"] = SCRIPT.strip().splitlines()
        collection.write_text(json.dumps(document))
        environment = write_environment(workdir / "env.json", {"base_url": server.base_url})
        times: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(rounds):
            for scripts in (True, False):
                options = RunOptions(
                    collection=collection,
                    environment=environment,
                    contracts_dir=None,
                    rate_limit="none",
                    scripts=ScriptSettings(enabled=scripts),
                )
                with open_session(options) as session:
                    items = session.plan()
                    started = time.perf_counter()
                    summary = session.run(items, [])
                    times[scripts].append(time.perf_counter() - started)
                if not summary.ok or summary.total != requests:
                    raise RuntimeError(f"the run was not clean: {summary}")
    per_request = {k: statistics.median(v) * 1000 / requests for k, v in times.items()}
    return [
        ["with scripts", f"{per_request[True]:.2f}"],
        ["--no-scripts", f"{per_request[False]:.2f}"],
        ["overhead of the scripts", f"{per_request[True] - per_request[False]:.2f}"],
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--requests", type=int, default=200)
    arguments = parser.parse_args()
    rounds = arguments.rounds
    print(machine())
    rows = _quickjs_rows(rounds)
    if util.find_spec("py_mini_racer") is not None:
        rows += _v8_rows(max(10, rounds // 4))
    else:
        print("mini-racer is not installed: V8 is not measured (pip install mini-racer)")
    runner = ScriptRunner()
    request = ScriptRequest("GET", "http://h/")
    scripts = [ScriptSource(SCRIPT, "test", "request 'r'")]

    def harness_run() -> None:
        runner.run_test(scripts, request, RESPONSE, Scopes(os_environ={}), ScriptInfo("r"))

    rows.append(("harness", "ScriptRunner.run_test, one script", _median_ms(rounds, harness_run)))
    print(
        table(
            ["engine", "what", "median ms", "best ms"],
            [[e, w, f"{ms[0]:.2f}", f"{ms[1]:.2f}"] for e, w, ms in rows],
        )
    )
    print(f"\nA run of {arguments.requests} requests, one test script each (median of 5 rounds):")
    print(table(["run", "ms per request"], _run_rows(arguments.requests, 5)))


if __name__ == "__main__":
    main()
