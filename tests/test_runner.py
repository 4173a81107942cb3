"""Plan units, dependencies, preflight and ordered results, with a mock transport."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import cast

import httpx
import pytest

from harness.collection import Auth, Body, RequestItem, Url
from harness.collection_plan import UnresolvedName, collection_waves, plan_units, preflight
from harness.exchange import ExchangeRunner, ExchangeSettings
from harness.redaction import SecretRegistry
from harness.results import RequestResult, RunInfo, RunSummary, Verdict
from harness.scenarios.model import Scenario
from harness.scenarios.steps import ScenarioExecutor
from harness.scenarios.units import ScenarioUnit
from harness.scheduler import Scheduler
from harness.scripts import Capture, ScriptFacts
from harness.sender import RetryPolicy, Sender, TokenSource
from harness.variables import Resolver, Scopes


def req(
    folder: str,
    name: str,
    path: str,
    *,
    captures: tuple[Capture, ...] = (),
    status: int = 200,
    method: str = "GET",
    body: str | None = None,
) -> RequestItem:
    return RequestItem(
        name=name,
        folder_path=(folder,),
        method=method,
        url=Url("{{base}}" + path),
        headers=(),
        body=Body("raw", raw=body, language="json") if body else None,
        auth=None,
        script=ScriptFacts(captures=captures, expected_statuses=(status,)),
    )


class Collect:
    def __init__(self) -> None:
        self.results: list[RequestResult] = []

    def start(self, info: object) -> None:
        pass

    def result(self, result: RequestResult) -> None:
        self.results.append(result)

    def finish(self, summary: RunSummary) -> None:
        pass


class NoOAuth:
    """These plans send no OAuth: asking for a token is a test bug."""

    def tokens_for(self, auth: Auth, resolver: Resolver) -> TokenSource:
        raise AssertionError("no OAuth in these tests")

    def with_refresh_token(self, token: str) -> NoOAuth:
        return self


class Runner:
    """A collection plan through the scheduler, as ``Session.run`` does, over a mock transport."""

    def __init__(self, handler, reporter: Collect, *, workers: int, bail: bool) -> None:
        client = httpx.Client(transport=httpx.MockTransport(handler))
        self.sender = Sender(client, policy=RetryPolicy(retries=0))
        self.reporter = reporter
        self.workers, self.bail = workers, bail

    def run(
        self,
        items: list[RequestItem],
        info: RunInfo,
        data_rows: Sequence[Mapping[str, str]] = (),
    ) -> RunSummary:
        exchange = ExchangeRunner(
            tokens=NoOAuth(),
            contracts=None,
            secrets=SecretRegistry(),
            settings=ExchangeSettings(files_root=Path.cwd()),
        )
        waves = collection_waves(
            items,
            data_rows,
            exchange=exchange,
            scopes=Scopes(environment={"base": "http://127.0.0.1"}, os_environ={}),
            sender_for=lambda unit: self.sender,
        )
        scheduler = Scheduler([self.reporter], workers=self.workers, bail=self.bail)
        return scheduler.run(info, waves)


def runner(handler, reporter: Collect, *, workers: int = 1, bail: bool = False) -> Runner:
    return Runner(handler, reporter, workers=workers, bail=bail)


ITEMS = [
    req("Users", "me", "/api/users/1", captures=(Capture("doctor_id", "json", "doctor"),)),
    req("Offices", "list", "/api/offices"),
    req(
        "Patients",
        "create",
        "/api/patients",
        method="POST",
        status=201,
        body='{"doctor": {{doctor_id}}}',
        captures=(Capture("patient_id", "json", "id"),),
    ),
    req("Patients", "get", "/api/patients/{{patient_id}}"),
]


def handler(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/api/users/1":
        time.sleep(0.05)  # finish late, to prove ordering does not depend on completion
        return httpx.Response(200, json={"doctor": 42})
    if request.url.path == "/api/patients" and request.method == "POST":
        assert json.loads(request.content) == {"doctor": 42}
        return httpx.Response(201, json={"id": 7})
    return httpx.Response(200, json={"path": request.url.path})


def test_units_follow_captured_variables() -> None:
    units = {u.name: u for u in plan_units(ITEMS)}
    assert units["Patients"].depends_on == {"Users"}
    assert units["Offices"].depends_on == set()


def test_preflight_finds_variables_nothing_defines_or_captures() -> None:
    scopes = Scopes(environment={"base": "http://h"}, os_environ={})
    assert preflight(ITEMS, scopes) == []  # doctor_id and patient_id are captured before use
    assert preflight([ITEMS[3]], scopes) == [UnresolvedName("patient_id", ("Patients/get",))]


@pytest.mark.parametrize("workers", [1, 4])
def test_results_arrive_in_plan_order_with_captures_chained(workers: int) -> None:
    reporter = Collect()
    summary = runner(handler, reporter, workers=workers).run(ITEMS, RunInfo("t", "test", 4, "x"))
    assert [r.index for r in reporter.results] == [0, 1, 2, 3]
    assert [r.verdict for r in reporter.results] == [Verdict.PASSED] * 4
    assert reporter.results[3].url.endswith("/api/patients/7")
    assert summary.ok and summary.total == 4


def test_failed_capture_skips_dependants_with_a_reason() -> None:
    def failing(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(409, json={"detail": "duplicate"})
        return handler(request)

    reporter = Collect()
    summary = runner(failing, reporter).run(ITEMS, RunInfo("t", "test", 4, "x"))
    assert reporter.results[2].verdict is Verdict.FAILED
    assert reporter.results[3].verdict is Verdict.SKIPPED
    assert "patient_id" in reporter.results[3].message
    assert not summary.ok


def test_bail_stops_after_the_first_failure() -> None:
    def all_fail(request: httpx.Request) -> httpx.Response:
        return httpx.Response(418)

    reporter = Collect()
    runner(all_fail, reporter, bail=True).run(ITEMS[:2], RunInfo("t", "test", 2, "x"))
    assert len(reporter.results) == 1


def test_independent_units_run_concurrently() -> None:
    active, peak = 0, 0
    lock = threading.Lock()

    def slow(request: httpx.Request) -> httpx.Response:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.05)
        with lock:
            active -= 1
        return httpx.Response(200, json={})

    items = [req(f"F{i}", "r", f"/api/{i}") for i in range(4)]
    runner(slow, Collect(), workers=4).run(items, RunInfo("t", "test", 4, "x"))
    assert peak > 1


def test_iteration_data_runs_the_plan_once_per_row() -> None:
    seen: list[str] = []

    def echo(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json={})

    reporter = Collect()
    items = [req("F", "r", "/api/{{kind}}")]
    summary = runner(echo, reporter).run(
        items, RunInfo("t", "test", 2, "x"), [{"kind": "a"}, {"kind": "b"}]
    )
    assert seen == ["/api/a", "/api/b"]
    assert [r.suite for r in reporter.results] == ["F [1]", "F [2]"]
    assert summary.total == 2


def test_default_rate_limit_is_drchronos_for_drchrono_and_none_on_loopback(tmp_path: Path) -> None:
    from harness.session import RunOptions, open_session

    def env(base_url: str) -> Path:
        path = tmp_path / f"{abs(hash(base_url))}.json"
        path.write_text(json.dumps({"values": [{"key": "base_url", "value": base_url}]}))
        return path

    for base_url, expected in (
        ("https://app.drchrono.com", [(9, 1.0), (500, 3600.0)]),
        ("http://127.0.0.1:8765", None),
    ):
        with open_session(RunOptions(environment=env(base_url), contracts_dir=None)) as session:
            limiter = session.transports.rate_limiter
            assert (limiter.windows if limiter else None) == expected


def test_bail_under_workers_starts_no_scenario_after_a_step_failed() -> None:
    """--bail --workers 2 on scenarios A, B, C: A's first step fails while B runs; C has not
    started, so it never starts (before #13 it started once B finished, as A was still busy).
    A, already started, still runs its cleanup."""
    b_started, a_failed, b_done = threading.Event(), threading.Event(), threading.Event()
    started: list[str] = []

    def step(suite: str, name: str, verdict: Verdict) -> RequestResult:
        return RequestResult(suite=suite, name=name, method="GET", url="u", verdict=verdict)

    class Steps:
        def run(self, scenario: object, suite: str, row: object, emit) -> list[RequestResult]:
            started.append(suite)
            if suite == "A":
                assert b_started.wait(5)
                emit(step("A", "create", Verdict.FAILED))
                a_failed.set()
                assert b_done.wait(5)
                emit(step("A", "cleanup: delete", Verdict.PASSED))
            elif suite == "B":
                b_started.set()
                assert a_failed.wait(5)
                emit(step("B", "list", Verdict.PASSED))
                b_done.set()
            else:
                emit(step(suite, "list", Verdict.PASSED))
            return []

    executor = cast(ScenarioExecutor, Steps())
    units = [
        ScenarioUnit(cast(Scenario, None), suite, {}, position, executor)
        for position, suite in enumerate("ABC")
    ]
    reporter = Collect()
    summary = Scheduler([reporter], workers=2, bail=True).run(
        RunInfo("s", "test", 3, None), [units]
    )
    assert sorted(started) == ["A", "B"]
    assert [(r.suite, r.name, r.index) for r in reporter.results] == [
        ("A", "create", 0),
        ("A", "cleanup: delete", 1),
        ("B", "list", 2),
    ]
    assert summary.total == 3 and summary.failed == 1
