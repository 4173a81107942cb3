"""The fault matrix: every sandbox fault kind, real HTTP on loopback, and what the harness says.

For each fault the run must finish, every request must get a verdict naming its cause (server fault,
throttled, timeout, contract violation, auth, connection), retries must stay within their bounds
(counted both in the result's attempts and by the sandbox), and no traceback may reach the user.
Most cases run in-process through ``open_session`` (fast); a representative subset drives the real
CLI in a subprocess to pin exit codes, the JSON/JUnit reports and stderr.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from drchrono_sandbox import FaultKind, Sandbox, SandboxConfig
from harness.auth.outage import EndpointOutage
from harness.errors import AuthError
from harness.results import RequestResult, RunInfo, RunSummary, Verdict
from harness.session import RunOptions, open_session
from tests.conftest import run_cli, secret_values_in_store

RETRIES = 2  # --retries 2: at most 3 attempts per request
TIMEOUT_S = 1.0  # --timeout-request 1s


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    """One sandbox for the module; each test clears faults and counters and gets its own token."""
    with Sandbox(SandboxConfig(seed=11), host="127.0.0.1", port=0) as running:
        yield running


@pytest.fixture
def clean(sb: Sandbox) -> Iterator[Sandbox]:
    sb.faults.clear()
    sb.reset_request_counts()
    yield sb
    sb.faults.clear()


class Collector:
    """A reporter that keeps results and can act on the sandbox between two requests."""

    def __init__(self, after_first: Callable[[], None] | None = None) -> None:
        self.results: list[RequestResult] = []
        self.summary: RunSummary | None = None
        self.after_first = after_first

    def start(self, info: RunInfo) -> None:
        pass

    def result(self, result: RequestResult) -> None:
        self.results.append(result)
        if self.after_first is not None and len(self.results) == 1:
            self.after_first()

    def finish(self, summary: RunSummary) -> None:
        self.summary = summary

    def by_name(self, name: str) -> RequestResult:
        return next(r for r in self.results if r.name == name)


def run_in_process(
    sb: Sandbox,
    tmp_path: Path,
    folder: str | list[str],
    *,
    after_first: Callable[[], None] | None = None,
    refresh_token: str | None = None,
    contracts: bool = True,
) -> Collector:
    env = sb.write_environment(tmp_path / "env.json")
    options = RunOptions(
        environment=env,
        env_vars={"refresh_token": refresh_token or sb.issue_refresh_token()},
        folders=[folder] if isinstance(folder, str) else folder,
        token_store=tmp_path / "tokens.json",
        retries=RETRIES,
        timeout_request=TIMEOUT_S,
        rate_limit="none",
    )
    if not contracts:
        options.contracts_dir = None
    collector = Collector(after_first)
    with open_session(options) as session:
        session.run(session.plan(), [collector])
    assert collector.summary is not None and collector.summary.total == len(collector.results)
    return collector


@dataclass(frozen=True)
class FaultCase:
    id: str
    kind: FaultKind
    count: int | None  # None: the fault lasts the whole run
    verdict: Verdict
    cause: str
    attempts: int
    notes: tuple[str, ...] = ()  # words the attempts or the message must mention
    options: dict[str, Any] = field(default_factory=dict)


# All on GET /api/doctors (the first request of the "Doctors" folder; the second, GET
# /api/doctors/{id}, is untouched and must still pass).
GET_CASES = [
    FaultCase(
        "500-burst-within-budget", FaultKind.SERVER_ERROR, 2, Verdict.PASSED, "ok", 3, ("backoff",)
    ),
    FaultCase(
        "500-burst-beyond-budget", FaultKind.SERVER_ERROR, 3, Verdict.ERROR, "server fault", 3
    ),
    FaultCase("500-forever", FaultKind.SERVER_ERROR, None, Verdict.ERROR, "server fault", 3),
    FaultCase("503-once", FaultKind.UNAVAILABLE, 1, Verdict.PASSED, "ok", 2),
    FaultCase("503-forever", FaultKind.UNAVAILABLE, None, Verdict.ERROR, "server fault", 3),
    FaultCase(
        "429-retry-after",
        FaultKind.THROTTLE,
        1,
        Verdict.PASSED,
        "ok",
        2,
        ("Retry-After",),
        {"retry_after": 1},
    ),
    FaultCase("429-no-retry-after", FaultKind.THROTTLE, 1, Verdict.PASSED, "ok", 2, ("backoff",)),
    FaultCase("429-forever", FaultKind.THROTTLE, None, Verdict.ERROR, "throttled", 3),
    # A Retry-After beyond RetryPolicy.max_wait_s (60 s) is not waited for: reported at once.
    FaultCase(
        "429-retry-after-too-long",
        FaultKind.THROTTLE,
        None,
        Verdict.ERROR,
        "throttled",
        1,
        (),
        {"retry_after": 3600},
    ),
    FaultCase(
        "slow-once",
        FaultKind.DELAY,
        1,
        Verdict.PASSED,
        "ok",
        2,
        ("timed out",),
        {"seconds": 2 * TIMEOUT_S},
    ),
    FaultCase(
        "slow-forever",
        FaultKind.DELAY,
        None,
        Verdict.ERROR,
        "timeout",
        3,
        ("timed out",),
        {"seconds": 2 * TIMEOUT_S},
    ),
    FaultCase("reset-once", FaultKind.RESET, 1, Verdict.PASSED, "ok", 2),
    FaultCase(
        "reset-forever",
        FaultKind.RESET,
        None,
        Verdict.ERROR,
        "connection error",
        3,
        ("connection failed",),
    ),
    # A 200 with a broken body is the server breaking its contract: never retried.
    FaultCase(
        "malformed-json",
        FaultKind.MALFORMED_JSON,
        None,
        Verdict.FAILED,
        "contract violation",
        1,
        ("not valid JSON",),
    ),
    FaultCase(
        "html-with-200",
        FaultKind.HTML_200,
        None,
        Verdict.FAILED,
        "contract violation",
        1,
        ("text/html",),
    ),
    FaultCase(
        "wrong-content-type",
        FaultKind.WRONG_CONTENT_TYPE,
        None,
        Verdict.FAILED,
        "contract violation",
        1,
        ("content type",),
    ),
    FaultCase(
        "redirect-loop",
        FaultKind.REDIRECT_LOOP,
        None,
        Verdict.ERROR,
        "connection error",
        1,
        ("redirect loop",),
    ),
]


def _words(result: RequestResult) -> str:
    checks = " ".join(c.message for c in result.checks)
    return " ".join([result.message, checks, *(a.note for a in result.attempts)])


@pytest.mark.parametrize("case", GET_CASES, ids=[c.id for c in GET_CASES])
def test_fault_on_an_idempotent_request(clean: Sandbox, tmp_path: Path, case: FaultCase) -> None:
    sb = clean
    sb.faults.inject(
        route="/api/doctors", kind=case.kind, count=case.count, methods=["GET"], **case.options
    )
    run = run_in_process(sb, tmp_path, "Doctors")

    hit = run.by_name("List doctors")
    assert (hit.verdict, hit.cause.value) == (case.verdict, case.cause), _words(hit)
    assert len(hit.attempts) == case.attempts, hit.attempts
    for word in case.notes:
        assert word in _words(hit)
    if case.verdict is Verdict.ERROR:
        assert hit.message or hit.failed_checks  # an error always says what happened
    # Every attempt but the last says it is being retried; the last one does not.
    assert all("retrying" in a.note for a in hit.attempts[:-1])
    assert "retrying" not in hit.attempts[-1].note

    untouched = run.by_name("Retrieve doctor")
    assert untouched.verdict is Verdict.PASSED and len(untouched.attempts) == 1
    # The server saw exactly the attempts reported (a redirect loop is one attempt of 11 hops:
    # the first and Newman's default of 10 redirects).
    hops = 11 if case.kind is FaultKind.REDIRECT_LOOP else 1
    assert sb.request_count("/api/doctors") == (len(hit.attempts) * hops) + 1


POST_CASES = [
    # A retried POST would create a second patient: 5xx, timeouts and resets are never retried.
    FaultCase("post-500", FaultKind.SERVER_ERROR, None, Verdict.ERROR, "server fault", 1),
    FaultCase("post-reset", FaultKind.RESET, None, Verdict.ERROR, "connection error", 1),
    FaultCase(
        "post-slow",
        FaultKind.DELAY,
        1,
        Verdict.ERROR,
        "timeout",
        1,
        ("timed out",),
        {"seconds": 2 * TIMEOUT_S},
    ),
    # ... but a 429 was not processed, so it is retried for every method.
    FaultCase("post-429", FaultKind.THROTTLE, 1, Verdict.PASSED, "ok", 2),
    FaultCase("post-429-forever", FaultKind.THROTTLE, None, Verdict.ERROR, "throttled", 3),
]


@pytest.mark.parametrize("case", POST_CASES, ids=[c.id for c in POST_CASES])
def test_fault_on_a_post(clean: Sandbox, tmp_path: Path, case: FaultCase) -> None:
    sb = clean
    sb.faults.inject(
        route="/api/patients", kind=case.kind, count=case.count, methods=["POST"], **case.options
    )
    # Contracts off: this is about retries and causes, not about the create body's schema.
    run = run_in_process(sb, tmp_path, "Patients", contracts=False)
    create = run.by_name("Create patient")
    assert (create.verdict, create.cause.value) == (case.verdict, case.cause), _words(create)
    assert len(create.attempts) == case.attempts
    for word in case.notes:
        assert word in _words(create)
    dependants = [run.by_name(n) for n in ("Retrieve patient", "Update patient", "Delete patient")]
    if case.verdict is Verdict.PASSED:
        assert all(r.verdict is Verdict.PASSED for r in dependants)
    else:  # nothing to read back: skipped with a reason, never sent
        assert all(r.verdict is Verdict.SKIPPED and r.attempts == [] for r in dependants)


# --- tokens -----------------------------------------------------------------------------------


def test_access_tokens_expired_mid_run_refresh_transparently(
    clean: Sandbox, tmp_path: Path
) -> None:
    sb = clean
    run = run_in_process(sb, tmp_path, "Doctors", after_first=sb.expire_access_tokens)
    assert [r.verdict for r in run.results] == [Verdict.PASSED, Verdict.PASSED]
    second = run.by_name("Retrieve doctor")
    assert [a.status for a in second.attempts] == [401, 200]
    assert "refreshed the token" in second.attempts[0].note
    assert sb.request_count("/o/token/") == 2  # the first token, then exactly one refresh


def test_refresh_token_revoked_mid_run_is_a_clear_auth_error(
    clean: Sandbox, tmp_path: Path
) -> None:
    sb = clean
    store = tmp_path / "tokens.json"

    def revoke_everything() -> None:
        for token in secret_values_in_store(store):
            sb.revoke(token)

    run = run_in_process(sb, tmp_path, "Doctors", after_first=revoke_everything)
    first, second = run.results
    assert first.verdict is Verdict.PASSED
    assert (second.verdict, second.cause.value) == (Verdict.ERROR, "auth")
    assert "invalid_grant" in second.message and "harness auth login" in second.message
    assert [a.status for a in second.attempts] == [401]  # the 401 that started the refresh
    assert sb.request_count("/o/token/") == 2  # one refresh, not retried
    tokens = {t for t in secret_values_in_store(store) if not t.startswith("http")}
    for secret in tokens | {sb.client_secret}:
        assert secret not in second.message


def test_token_endpoint_failing_is_an_auth_error_per_request(
    clean: Sandbox, tmp_path: Path
) -> None:
    sb = clean
    sb.faults.inject(route="/o/token/", kind=FaultKind.TOKEN_ENDPOINT_ERROR, count=None)
    run = run_in_process(sb, tmp_path, "Doctors")
    assert {(r.verdict, r.cause.value) for r in run.results} == {(Verdict.ERROR, "auth")}
    assert all("HTTP 500" in r.message and "run again" in r.message for r in run.results)
    assert sb.request_count("/api/") == 0  # no API request is sent without a token
    # A rotation-unsafe POST is never retried blindly: one token request per API request at most.
    assert sb.request_count("/o/token/") <= len(run.results)


def test_token_endpoint_failing_once_costs_one_request(clean: Sandbox, tmp_path: Path) -> None:
    sb = clean
    sb.faults.inject(route="/o/token/", kind=FaultKind.TOKEN_ENDPOINT_ERROR, count=1)
    run = run_in_process(sb, tmp_path, "Doctors")
    assert [(r.verdict, r.cause.value) for r in run.results] == [
        (Verdict.ERROR, "auth"),
        (Verdict.PASSED, "ok"),
    ]


def test_a_failed_refresh_is_not_reported_as_interrupted(
    clean: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sb = clean
    sb.faults.inject(route="/o/token/", kind=FaultKind.TOKEN_ENDPOINT_ERROR, count=1)
    with caplog.at_level("WARNING", logger="harness.auth"):
        run = run_in_process(sb, tmp_path, "Doctors")
    assert [r.verdict for r in run.results] == [Verdict.ERROR, Verdict.PASSED]
    assert "was interrupted" not in caplog.text


def test_a_token_endpoint_that_stays_down_is_not_asked_once_per_request(
    clean: Sandbox, tmp_path: Path
) -> None:
    sb = clean
    sb.faults.inject(route="/o/token/", kind=FaultKind.TOKEN_ENDPOINT_ERROR, count=None)
    run = run_in_process(sb, tmp_path, ["Users", "Offices", "Doctors", "Patients"])
    errors = [r for r in run.results if r.verdict is not Verdict.SKIPPED]
    assert len(errors) >= 4 and {(r.verdict, r.cause.value) for r in errors} == {
        (Verdict.ERROR, "auth")
    }
    # Two failures in a row make an outage: the rest of the run reuses it for a few seconds.
    assert sb.request_count("/o/token/") == 2
    assert sb.request_count("/api/") == 0
    assert all("HTTP 500" in r.message and "run again" in r.message for r in errors)
    assert "not asked again" in errors[-1].message


def test_an_outage_is_held_briefly_then_the_endpoint_is_asked_again() -> None:
    now = [0.0]
    outage = EndpointOutage(failures_before_hold=2, hold_s=10.0, clock=lambda: now[0])
    down = AuthError("The token endpoint answered HTTP 503.", hint="Run again.")
    outage.failed(down)
    outage.check()  # one failure is not an outage: ask again
    outage.failed(down)
    with pytest.raises(AuthError, match="HTTP 503.*not asked again") as held:
        outage.check()
    assert held.value.hint == "Run again."
    now[0] = 10.5
    outage.check()  # the hold is over: the endpoint gets another chance
    outage.failed(down)
    with pytest.raises(AuthError):
        outage.check()  # and failing again holds again at once
    outage.answered()  # any answer (a token, or a refusal) ends the outage
    outage.check()


# --- the real CLI: exit codes, reports, stderr ---------------------------------------------------


def cli(sb: Sandbox, tmp_path: Path, folder: str, *extra: str) -> tuple[int, str, dict[str, Any]]:
    env = sb.write_environment(tmp_path / "env.json")
    report = tmp_path / "out.json"
    result = run_cli(
        "run",
        "-e",
        str(env),
        "--env-var",
        f"refresh_token={sb.issue_refresh_token()}",
        "--token-store",
        str(tmp_path / "tokens.json"),
        "--json",
        str(report),
        "--junit",
        str(tmp_path / "out.xml"),
        "--retries",
        str(RETRIES),
        "--timeout-request",
        f"{TIMEOUT_S}s",
        "--rate-limit",
        "none",
        "--folder",
        folder,
        *extra,
        cwd=tmp_path,
    )
    output = result.stdout + result.stderr
    assert "Traceback" not in output and "internal error" not in output, output
    data = json.loads(report.read_text()) if report.exists() else {}
    return result.code, output, data


def test_cli_server_fault_burst_within_budget_passes_and_shows_attempts(
    clean: Sandbox, tmp_path: Path
) -> None:
    clean.faults.inject(route="/api/doctors", kind=FaultKind.SERVER_ERROR, count=2, methods=["GET"])
    code, output, report = cli(clean, tmp_path, "Doctors")
    assert code == 0, output
    listed = next(r for r in report["results"] if r["name"] == "List doctors")
    assert [a["status"] for a in listed["attempts"]] == [500, 500, 200]
    assert clean.request_count("/api/doctors") == 3 + 1


def test_cli_server_fault_beyond_budget_is_an_error_not_a_failure(
    clean: Sandbox, tmp_path: Path
) -> None:
    clean.faults.inject(
        route="/api/doctors", kind=FaultKind.SERVER_ERROR, count=None, methods=["GET"]
    )
    code, output, report = cli(clean, tmp_path, "Doctors")
    assert code == 1, output
    listed = next(r for r in report["results"] if r["name"] == "List doctors")
    assert (listed["verdict"], listed["cause"]) == ("error", "server fault")
    assert len(listed["attempts"]) == RETRIES + 1 == clean.request_count("/api/doctors") - 1
    suites = ET.parse(tmp_path / "out.xml").getroot()
    assert (suites.get("errors"), suites.get("failures")) == ("1", "0")


@pytest.mark.parametrize(
    ("kind", "cause"),
    [
        (FaultKind.RESET, "connection error"),
        (FaultKind.DELAY, "timeout"),
        (FaultKind.THROTTLE, "throttled"),
        (FaultKind.MALFORMED_JSON, "contract violation"),
    ],
    ids=["reset", "timeout", "throttle", "malformed-json"],
)
def test_cli_fault_kinds_name_their_cause(
    clean: Sandbox, tmp_path: Path, kind: FaultKind, cause: str
) -> None:
    seconds = 2 * TIMEOUT_S if kind is FaultKind.DELAY else None
    clean.faults.inject(
        route="/api/doctors", kind=kind, count=None, methods=["GET"], seconds=seconds
    )
    code, output, report = cli(clean, tmp_path, "Doctors")
    assert code == 1, output
    listed = next(r for r in report["results"] if r["name"] == "List doctors")
    assert listed["cause"] == cause
    assert report["summary"]["total"] == 2 and report["summary"]["passed"] == 1


def test_cli_revoked_refresh_token_is_a_clear_auth_error(clean: Sandbox, tmp_path: Path) -> None:
    env = clean.write_environment(tmp_path / "env.json")
    revoked = clean.issue_refresh_token()
    clean.revoke(revoked)
    result = run_cli(
        "run",
        "-e",
        str(env),
        "--env-var",
        f"refresh_token={revoked}",
        "--token-store",
        str(tmp_path / "tokens.json"),
        "--json",
        str(tmp_path / "out.json"),
        "--folder",
        "Doctors",
        "--rate-limit",
        "none",
        cwd=tmp_path,
    )
    output = result.stdout + result.stderr
    # Refused credentials are a set-up problem (exit 2), said once; nothing else is sent.
    assert result.code == 2 and "Traceback" not in output, output
    assert "invalid_grant" in result.stderr and revoked not in output
    report = json.loads((tmp_path / "out.json").read_text())
    assert {r["cause"] for r in report["results"]} == {"auth"}
    assert [r["verdict"] for r in report["results"]] == ["error", "skipped"]
    assert clean.request_count("/o/token/") == 1
    assert revoked not in (tmp_path / "out.json").read_text()


def test_cli_token_endpoint_failing(clean: Sandbox, tmp_path: Path) -> None:
    clean.faults.inject(route="/o/token/", kind=FaultKind.TOKEN_ENDPOINT_ERROR, count=None)
    code, output, report = cli(clean, tmp_path, "Doctors")
    assert code == 1, output
    assert {r["cause"] for r in report["results"]} == {"auth"}
    assert "HTTP 500" in output
