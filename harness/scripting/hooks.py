"""Where a run meets its Postman scripts: around each request, and between requests.

:class:`RequestScripts` runs a request's pre-request scripts before it is built (they may change
or skip it) and its test scripts after its response, in Newman's order (collection, folders outer
to inner, the request's own; see :attr:`harness.collection.RequestItem.scripts`), and turns what
they did into the request's result: one :class:`~harness.results.Check` per ``pm.test`` (named
as in Newman), one failed check per script error (naming the script's owner, event and line),
their console lines, masked. ``pm.sendRequest`` goes through the unit's
:class:`~harness.sender.Sender`, so the run's cassette, rate limit, retries and scrubbing apply.

:class:`ScriptedOrder` is Newman's run order once a script calls ``setNextRequest``.

Scripts run one at a time (a lock): they read and write the run's shared scopes, and under
``--workers`` two units must not interleave there.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from harness.build import BuiltRequest, build_request
from harness.collection import RequestItem, Url
from harness.errors import HarnessError
from harness.redaction import SecretRegistry
from harness.results import Cause, Check, NotRun, RequestResult, Verdict
from harness.run_context import TokenProvider
from harness.scripting.engine import ScriptContext, ScriptRunner
from harness.scripting.model import (
    ConsoleLine,
    NextRequest,
    ScriptInfo,
    ScriptLimits,
    ScriptOutcome,
    ScriptRequest,
    ScriptResponse,
    ScriptSource,
)
from harness.scripts import read_test_script
from harness.sender import Sender
from harness.variables import Resolver, Scopes, is_secret_name

# setNextRequest jumps in one iteration before the run stops: Newman has no guard, so a script
# whose loop never ends would run forever; this many jumps is far more than any real workflow.
MAX_JUMPS_PER_ITERATION = 1000
_SETS_NEXT_REQUEST = re.compile(r"\bsetNextRequest\s*\(")
SKIPPED_BY_SCRIPT = "not sent: pm.execution.skipRequest() in a pre-request script"


@dataclass(frozen=True)
class ScriptSettings:
    """How a run treats scripts (``--no-scripts``, ``--timeout-script``, ``--script-libs``)."""

    enabled: bool = True
    limits: ScriptLimits = field(default_factory=ScriptLimits)
    script_libs: Path | None = None


@dataclass(frozen=True)
class PreRequest:
    """The request as its pre-request scripts left it, and what they did."""

    item: RequestItem
    outcome: ScriptOutcome


def step_scripts(
    item: RequestItem, *, collection_scripts: bool, test: str | None, step: str
) -> RequestItem:
    """A scenario step's request with the scripts it runs: the collection request's (unless the
    step says ``scripts: false``), then the step's own ``test``."""
    own = (ScriptSource(test, "test", f"scenario step '{step}'"),) if test else ()
    return replace(item, scripts=(item.scripts if collection_scripts else ()) + own)


def statuses_asserted(test_script: str) -> tuple[int, ...]:
    """The statuses a test script asserts in the idioms read statically (``to.have.status``)."""
    return read_test_script([{"listen": "test", "script": {"exec": test_script}}]).expected_statuses


def redirects(items: Sequence[RequestItem]) -> bool:
    """Whether any script of the plan may call ``setNextRequest`` (the run then goes in order)."""
    return any(_SETS_NEXT_REQUEST.search(s.code) for item in items for s in item.scripts)


class RequestScripts:
    """Runs the scripts of one run's requests; see the module docstring."""

    def __init__(
        self,
        settings: ScriptSettings,
        *,
        secrets: SecretRegistry,
        tokens: TokenProvider,
        files_root: Path,
        allow_outside_files: bool = False,
    ) -> None:
        self.settings = settings
        self.secrets = secrets
        self.tokens = tokens
        self.files_root = files_root
        self.allow_outside_files = allow_outside_files
        self.iteration = 0
        self.iteration_count = 1
        self._lock = threading.Lock()  # one script at a time: they share one context
        self._context = ScriptContext()
        self._not_run: dict[tuple[str, str], NotRun] = {}

    @property
    def not_run(self) -> list[NotRun]:
        """``pm.test.skip`` tests met so far: declared, never executed."""
        with self._lock:
            return list(self._not_run.values())

    def before(self, item: RequestItem, sender: Sender, scopes: Scopes) -> PreRequest:
        """Run the pre-request scripts; the returned item carries their changes."""
        original = ScriptRequest.from_item(item)
        with self._lock:
            outcome = self._runner(item, sender, scopes).run_prerequest(
                item.scripts, original, scopes, self._info(item)
            )
        self._after_run(item, outcome)
        if outcome.request != original:
            item = outcome.request.apply_to(item)
        return PreRequest(item, outcome)

    def skipped(self, result: RequestResult) -> RequestResult:
        """The result of a request a pre-request script skipped (Newman sends nothing)."""
        result.verdict, result.cause, result.message = Verdict.SKIPPED, Cause.OK, SKIPPED_BY_SCRIPT
        return result

    def after(
        self,
        item: RequestItem,
        built: BuiltRequest | None,
        response_time_ms: float,
        response: ScriptResponse | None,
        sender: Sender,
        scopes: Scopes,
        *,
        succeeded: bool,
    ) -> ScriptOutcome | None:
        """Run the test scripts on the response; None when nothing came back to test.

        The variables the scripts set are kept only when the request ``succeeded``: as with the
        harness's own captures, a failed create must not feed its error body to the requests
        that read back what it created (they are then skipped, naming the variable).
        """
        if built is None or response is None:
            return None
        target = scopes if succeeded else isolated_scopes(scopes)
        with self._lock:
            outcome = self._runner(item, sender, target).run_test(
                item.scripts,
                ScriptRequest.from_built(built),
                response,
                target,
                self._info(item),
            )
        self._after_run(item, outcome)
        if not succeeded and outcome.variable_changes:
            names = ", ".join(sorted({c.name for c in outcome.variable_changes}))
            note = f"not kept, as the request did not succeed: the test scripts' changes to {names}"
            outcome = replace(outcome, console=(*outcome.console, ConsoleLine("warn", note)))
        return outcome

    def record(self, result: RequestResult, outcomes: Sequence[ScriptOutcome | None]) -> None:
        """Add the scripts' tests, errors and console lines to ``result``; fail it as Newman does."""
        redact = self.secrets.redact
        added: list[Check] = []
        for outcome in outcomes:
            if outcome is None:
                continue
            for test in outcome.tests:
                if test.skipped:
                    continue
                message = (
                    test.message
                    if test.error_name in ("", "AssertionError")
                    else f"{test.error_name}: {test.message}"
                )
                added.append(Check(redact(test.name), test.passed, redact(message)))
            for failure in outcome.failures:
                # Named as Newman's failure list names it; the message says where, then what.
                line = f", line {failure.line}" if failure.line is not None else ""
                where = f"the {failure.event} script of {failure.owner}{line}"
                added.append(
                    Check(
                        f"{failure.error_name} in {failure.event}-script",
                        False,
                        redact(f"{where}: {failure.message}"),
                    )
                )
            result.console += [
                _mask_phi(
                    redact(f"{line.level}: {line.text}" if line.level != "log" else line.text)
                )
                for line in outcome.console
            ]
        result.checks += added
        if any(not c.passed for c in added) and result.verdict in (Verdict.PASSED, Verdict.SKIPPED):
            result.verdict, result.cause = Verdict.FAILED, Cause.ASSERTION

    def _info(self, item: RequestItem) -> ScriptInfo:
        return ScriptInfo(
            item.name, item.id, self.iteration, self.iteration_count, item.description
        )

    def _after_run(self, item: RequestItem, outcome: ScriptOutcome) -> None:
        for change in outcome.variable_changes:
            # A token a script stores is as secret as one the environment file holds.
            if change.value and is_secret_name(change.name):
                self.secrets.add(change.value)
        for test in outcome.tests:
            if test.skipped:
                where = f"request {item.full_name}"
                what = f"pm.test.skip {test.name!r}: skipped by the script (not executed)"
                with self._lock:
                    self._not_run.setdefault((where, what), NotRun(where, what))

    def _runner(self, item: RequestItem, sender: Sender, scopes: Scopes) -> ScriptRunner:
        return ScriptRunner(
            limits=self.settings.limits,
            script_libs=self.settings.script_libs,
            send_request=lambda request: self._send(request, item, sender, scopes),
            context=self._context,
        )

    def _send(
        self, request: ScriptRequest, item: RequestItem, sender: Sender, scopes: Scopes
    ) -> ScriptResponse:
        """``pm.sendRequest`` through the run's sender (cassette, rate limit, retries, scrubbing).

        A request without its own auth takes the calling request's, as in Postman, but only to
        that request's own origin: a token never goes to another host.
        """
        resolver = Resolver(scopes)
        base = RequestItem(
            name=f"{item.name} (pm.sendRequest)",
            folder_path=item.folder_path,
            method=request.method,
            url=Url(""),
            headers=(),
            body=None,
            auth=None,
        )
        target = request.apply_to(base)
        try:
            if (
                request.auth is None
                and item.auth is not None
                and _same_origin(
                    resolver.resolve(request.url, "pm.sendRequest"),
                    resolver.resolve(item.url.raw, "pm.sendRequest"),
                )
            ):
                target = replace(target, auth=item.auth)
            built = build_request(
                target,
                resolver,
                files_root=self.files_root,
                allow_outside_files=self.allow_outside_files,
            )
            if built.auth is not None:
                built.auth.report_to(self.secrets.add)
            source = (
                self.tokens.tokens_for(built.oauth2, resolver) if built.oauth2 is not None else None
            )
            exchange = sender.send(built, source)
        except HarnessError as exc:
            raise RuntimeError(self.secrets.redact(str(exc))) from None
        if exchange.response is None:
            raise RuntimeError(self.secrets.redact(exchange.error or "no response"))
        elapsed = exchange.attempts[-1].elapsed_ms if exchange.attempts else 0.0
        return ScriptResponse.from_httpx(exchange.response, elapsed)


@dataclass(frozen=True)
class NextStep:
    """Where a scripted run goes after a request: ``position`` None ends the iteration."""

    position: int | None
    note: str = ""  # why the order changed unexpectedly, for the request's result
    failed: bool = False  # the loop guard stopped the iteration: a failure of the run


class ScriptedOrder:
    """Newman's order over a plan: in sequence, unless a script named the next request.

    ``setNextRequest(name)`` continues at the first planned request with that name (or id);
    ``setNextRequest(null)`` stops the run; a name the plan does not hold ends the iteration, as
    in Newman. More than :data:`MAX_JUMPS_PER_ITERATION` jumps in one iteration stop it, as a
    failure.
    """

    def __init__(self, items: Sequence[RequestItem]) -> None:
        self.items = items
        self.jumps = 0
        self.stop_run = False

    def after(self, position: int, directive: NextRequest | None) -> NextStep:
        if directive is None:
            return NextStep(position + 1 if position + 1 < len(self.items) else None)
        if directive.name is None:
            self.stop_run = True
            return NextStep(None, "setNextRequest(null): the run stops here")
        self.jumps += 1
        if self.jumps > MAX_JUMPS_PER_ITERATION:
            return NextStep(
                None,
                f"setNextRequest({directive.name!r}) was not followed: the scripts jumped "
                f"{MAX_JUMPS_PER_ITERATION} times in one iteration, so the iteration stopped "
                "(a loop whose exit condition is never met?)",
                failed=True,
            )
        for index, item in enumerate(self.items):
            if directive.name in (item.name, item.id):
                return NextStep(index)
        return NextStep(
            None,
            f"setNextRequest({directive.name!r}) names no request of this run: the iteration "
            "ends here (as in Newman)",
        )


def _mask_phi(text: str) -> str:
    """A console line as reports may show it: PHI values a script printed are masked."""
    from harness.masking import default_fields, mask_text

    return mask_text(text, default_fields())


def isolated_scopes(scopes: Scopes) -> Scopes:
    """A copy of every scope: what scripts set in it stays there."""
    return Scopes(
        globals=dict(scopes.globals),
        collection=dict(scopes.collection),
        environment=dict(scopes.environment),
        data=dict(scopes.data),
        local=dict(scopes.local),
        os_environ=scopes.os_environ,
        environment_overrides=dict(scopes.environment_overrides),
    )


def _same_origin(a: str, b: str) -> bool:
    first, second = urlsplit(a), urlsplit(b)
    return bool(first.netloc) and (first.scheme, first.netloc) == (second.scheme, second.netloc)
