"""Run one scenario (one data row) against an open session, one :class:`RequestResult` per step.

Every request goes through the session's :class:`harness.exchange.ExchangeRunner` (OAuth,
retries, status and contract), so a scenario step and a collection run judge a response the same way. Steps run in
order; after a failure the remaining steps are reported as skipped, and cleanups always run:
first the ones steps registered (newest first), then the scenario's ``cleanup:`` block.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from harness.checks import classify
from harness.collection import Auth, Body, Collection, KeyValue, RequestItem, Url
from harness.errors import HarnessError
from harness.exchange import ExchangeOutcome
from harness.results import Attempt, Cause, Check, RequestResult, Verdict
from harness.run_context import RunContext, TokenProvider
from harness.scenarios.expect import as_text, capture_values, check_all, check_json
from harness.scenarios.model import UNSET, CaptureSpec, Scenario, Step
from harness.scenarios.templates import TemplateProblem, helpers, render
from harness.scripting.hooks import isolated_scopes, statuses_asserted, step_scripts
from harness.sender import REPLAYED_EXTENSION
from harness.variables import Resolver, Scopes

Emit = Callable[[RequestResult], None]
CLEANUP_PREFIX = "cleanup: "


class StepFailed(Exception):
    """Internal: a step could not be prepared (a template or variable problem)."""

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


class ScenarioExecutor:
    """Runs scenarios against one open session (thread-safe per scenario)."""

    def __init__(self, session: RunContext, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.session = session
        self.sleep = sleep
        self.default_headers = common_headers(session.collection)

    def applies(self, scenario: Scenario) -> bool:
        return not scenario.targets or self.session.target in scenario.targets

    def run(
        self, scenario: Scenario, suite: str, row: Mapping[str, Any], emit: Emit
    ) -> list[RequestResult]:
        results: list[RequestResult] = []
        record = self._recorder(results, emit)
        if not self.applies(scenario):
            why = (
                f"not run: the scenario runs against {', '.join(scenario.targets)}, "
                f"this run's target is {self.session.target}"
            )
            for step in scenario.steps:
                record(_skipped(suite, step, why))
            return results
        _Run(self, scenario, suite, row, record).go()
        return results

    def values_of(
        self, scenario: Scenario, suite: str
    ) -> tuple[list[RequestResult], dict[str, Any]]:
        """Run ``scenario`` unreported (the harness's own steps): its results and the values
        it captured."""
        results: list[RequestResult] = []
        run = _Run(self, scenario, suite, {}, self._recorder(results, lambda _result: None))
        run.go()
        return results, run.values

    def _recorder(self, results: list[RequestResult], emit: Emit) -> Emit:
        """Mask the run's secrets in a step's messages, keep the step in ``results``, emit it."""

        def record(result: RequestResult) -> None:
            result.message = self.session.secrets.redact(result.message)
            result.checks = [
                dataclasses.replace(c, message=self.session.secrets.redact(c.message))
                for c in result.checks
            ]
            results.append(result)
            emit(result)

        return record


class _Run:
    """The state of one scenario run: typed values, pending cleanups, whether a step failed."""

    def __init__(
        self,
        owner: ScenarioExecutor,
        scenario: Scenario,
        suite: str,
        row: Mapping[str, Any],
        record: Emit,
    ) -> None:
        self.owner = owner
        self.session = owner.session
        self.scenario = scenario
        self.suite = suite
        self.record = record
        self.values: dict[str, Any] = dict(row)
        self.pending: list[tuple[Step, dict[str, Any]]] = []
        self.failed = False
        self.sender = self.session.sender_for(suite)
        base = self.session.scopes
        self.scope_values = {
            name: base.lookup(name)
            for name in (
                *base.globals,
                *base.collection,
                *base.environment,
                *base.environment_overrides,
            )
        }
        for name, value in self.scope_values.items():
            if base.from_os(name):
                # Nobody declared an OS value fit to print: mask it wherever it ends up.
                self.session.secrets.add(value)

    def context(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return {**self.scope_values, **helpers(), **values}

    def go(self) -> None:
        try:
            for name, template in self.scenario.variables.items():
                self.values[name] = self.render(template, self.values, f"variable '{name}'")
        except StepFailed as exc:
            self.failed = True
            first = self.scenario.steps[0]
            self.record(
                _errored(self.suite, first, f"{self.scenario.location}: {exc}", Cause.INPUT)
            )
            for step in self.scenario.steps[1:]:
                self.record(_skipped(self.suite, step, "not run: the scenario variables failed"))
            return
        for step in self.scenario.steps:
            if self.failed:
                self.record(_skipped(self.suite, step, "not run: an earlier step failed"))
                continue
            result = self.step(step, self.values, cleanup=False)
            self.record(result)
            if result.verdict.is_bad:
                self.failed = True
        self.cleanups()

    def cleanups(self) -> None:
        for step, snapshot in reversed(self.pending):
            self.record(self.step(step, snapshot, cleanup=True))
        for step in self.scenario.cleanup:
            self.record(self.step(step, self.values, cleanup=True))

    # --- one step ----------------------------------------------------------------------------

    def render(self, value: Any, values: Mapping[str, Any], what: str) -> Any:
        try:
            return render(value, self.context(values))
        except TemplateProblem as exc:
            missing = "is undefined" in str(exc)
            raise StepFailed(f"{what}: {exc}", missing=missing) from None

    def step(self, step: Step, values: dict[str, Any], *, cleanup: bool) -> RequestResult:
        # A replay answers from the cassette: waiting for a server to settle is pointless there.
        waits = self.session.target != "replay"
        if waits and step.delay_before:
            self.owner.sleep(step.delay_before)
        result = self.run_step(step, values, cleanup=cleanup)
        if waits and step.delay_after:
            self.owner.sleep(step.delay_after)
        return result

    def run_step(self, step: Step, values: dict[str, Any], *, cleanup: bool) -> RequestResult:
        name = CLEANUP_PREFIX + step.name if cleanup else step.name
        shown = dataclasses.replace(step, name=name)
        try:
            if step.sandbox is not None:
                return self.sandbox(shown, values)
            return self.request(shown, values, cleanup=cleanup)
        except StepFailed as exc:
            if cleanup and exc.missing:
                return _skipped(
                    self.suite, shown, f"not run: {exc} (nothing to clean up: it was never created)"
                )
            return _errored(
                self.suite, shown, f"{step.location}: step '{step.name}': {exc}", Cause.INPUT
            )

    def sandbox(self, step: Step, values: dict[str, Any]) -> RequestResult:
        action = step.sandbox
        assert action is not None
        result = RequestResult(
            suite=self.suite, name=step.name, method="SANDBOX", url=f"sandbox:{action.action}"
        )
        sandbox = self.session.sandbox
        if sandbox is None:
            result.verdict, result.cause = Verdict.SKIPPED, Cause.OK
            result.message = f"no-op: the target is {self.session.target}, not the sandbox"
            return result
        args = self.render(dict(action.args), values, f"the args of sandbox {action.action}")
        try:
            if action.action == "expire_tokens":
                sandbox.expire_access_tokens()
            elif action.action == "issue_refresh_token":
                token = sandbox.issue_refresh_token(scopes=args.get("scopes"))
                self.session.secrets.add(token)
                if action.save_as:
                    values[action.save_as] = token
            elif action.action == "revoke":
                sandbox.revoke(str(args["token"]))
            elif action.action == "inject_fault":
                sandbox.inject_fault(args)
            elif action.action == "clear_faults":
                sandbox.clear_faults()
        except HarnessError as exc:
            return _errored(self.suite, step, str(exc), Cause.INPUT)
        result.checks.append(Check("sandbox", True, action.action))
        return result

    def request(self, step: Step, values: dict[str, Any], *, cleanup: bool) -> RequestResult:
        local = dict(values)
        for name, template in step.variables.items():
            local[name] = self.render(template, local, f"variable '{name}'")
        scopes = self.session.scopes.child()
        scopes.local.update({k: as_text(v) for k, v in local.items() if v is not None})
        item = self.build_item(step, local, scopes)
        # --- Postman scripts: the request's (unless scripts: false) and the step's own test ---
        # A cleanup accepts "already gone" (404), which the request's own test script would not.
        item = step_scripts(
            item, collection_scripts=step.scripts and not cleanup, test=step.test, step=step.name
        )
        if self.session.exchange.scripts is not None and item.scripts:
            scopes = isolated_scopes(scopes)  # what a step's scripts set stays in the step
        expected = self.expected(step, item, cleanup=cleanup)
        tokens: TokenProvider | None = None
        token_override = step.auth.get("refresh_token") if isinstance(step.auth, Mapping) else None
        if token_override is not None:
            token = str(self.render(token_override, local, "auth.refresh_token"))
            tokens = self.session.tokens.with_refresh_token(token)
        execution = self.send(step, item, scopes, expected, tokens, local)
        result, response = execution.result, execution.response
        if result.verdict is Verdict.SKIPPED:  # a collection {{variable}} had no value
            if cleanup:
                result.message += " (nothing to clean up)"
                return result
            result.verdict = Verdict.ERROR
        if response is None or result.verdict is Verdict.ERROR:
            return result
        expect = step.expect
        extra = check_all(
            response,
            json_subset=self.render(expect.json, local, "expect.json")
            if expect.json is not UNSET
            else UNSET,
            headers=self.render(dict(expect.headers), local, "expect.headers"),
            max_ms=expect.max_ms,
            elapsed_ms=result.elapsed_ms,
            replayed=self.replayed(response),
            strict=expect.strict,
        )
        result.checks += extra
        if result.verdict is Verdict.PASSED:
            captured, capture_checks = self.captures(step, item, response)
            result.checks += capture_checks
            if not capture_checks:
                values.update(captured)
        if result.failed_checks:
            result.verdict, result.cause = classify(response.status_code, result.failed_checks)
        elif result.verdict is Verdict.PASSED and step.cleanup and not cleanup:
            snapshot = dict(values)
            self.pending += [(c, snapshot) for c in step.cleanup]
        return result

    def replayed(self, response: httpx.Response) -> bool:
        """The response came from a cassette (a replay, or a recording run replaying what an
        existing cassette holds): its patient data is pseudonyms, compared by type only."""
        return self.session.target == "replay" or bool(response.extensions.get(REPLAYED_EXTENSION))

    def captures(
        self, step: Step, item: RequestItem, response: httpx.Response
    ) -> tuple[dict[str, Any], list[Check]]:
        # The collection's own captures (e.g. patient_id after Create patient) are best effort.
        inherited = [
            CaptureSpec(c.variable, c.source, c.expression)  # type: ignore[arg-type]
            for c in (item.captures if step.request is not None else ())
        ]
        found, _ = capture_values(response, inherited)
        own, checks = capture_values(response, step.capture)
        found.update(own)
        return found, checks

    def expected(self, step: Step, item: RequestItem, *, cleanup: bool) -> tuple[int, ...] | None:
        if step.expect.status is not None:
            return step.expect.status
        # A status the step's own test asserts is as explicit as one in the request's script.
        statuses = statuses_asserted(step.test) if step.test else ()
        statuses = statuses or item.expected_statuses
        if cleanup:
            # Already gone (the scenario deleted it itself) is a clean state.
            return (*statuses, 404) if statuses else (200, 202, 204, 404)
        return statuses or None

    def send(
        self,
        step: Step,
        item: RequestItem,
        scopes: Scopes,
        expected: tuple[int, ...] | None,
        tokens: TokenProvider | None,
        values: Mapping[str, Any],
    ) -> ExchangeOutcome:
        def once() -> ExchangeOutcome:
            return self.session.exchange.run(
                0,
                item,
                self.sender,
                scopes,
                expected=expected,
                check_contract=step.expect.contract,
                suite=self.suite,
                name=step.name,
                tokens=tokens,
            )

        retry = step.retry_until
        if retry is None:
            return once()
        until = retry.until
        json_wanted = (
            self.render(until.json, values, "retry_until.json")
            if until.json is not UNSET
            else UNSET
        )
        headers_wanted = self.render(dict(until.headers), values, "retry_until.headers")
        attempts: list[Attempt] = []
        for attempt in range(1, retry.attempts + 1):
            execution = once()
            attempts += execution.result.attempts
            response = execution.response
            if response is None:
                break
            problems = [
                c
                for c in check_all(
                    response,
                    json_subset=json_wanted,
                    headers=headers_wanted,
                    max_ms=None,
                    elapsed_ms=0,
                    prefix="retry_until",
                    replayed=self.replayed(response),
                    strict=until.strict,
                )
                if not c.passed
            ]
            if until.status is not None and response.status_code not in until.status:
                problems.insert(0, Check("retry_until", False, f"status {response.status_code}"))
            if not problems:
                execution.result.checks.append(
                    Check("retry_until", True, f"condition met on attempt {attempt}")
                )
                break
            if attempt == retry.attempts:
                execution.result.checks.append(
                    Check(
                        "retry_until",
                        False,
                        f"condition not met after {attempt} attempts: {problems[0].message}",
                        json_path=problems[0].json_path,
                    )
                )
                break
            attempts[-1] = dataclasses.replace(
                attempts[-1], note=f"retry_until not met ({problems[0].message}); polling again"
            )
            self.owner.sleep(retry.delay_s)
        execution.result.attempts = attempts
        failed = execution.result.failed_checks
        if failed and execution.response is not None:
            execution.result.verdict, execution.result.cause = classify(
                execution.response.status_code, failed
            )
        return execution

    # --- building the request ----------------------------------------------------------------

    def build_item(self, step: Step, values: Mapping[str, Any], scopes: Scopes) -> RequestItem:
        query = self.render(dict(step.query), values, "query")
        headers = self.render(dict(step.headers), values, "headers")
        auth = self.auth(step)
        if step.request is not None:
            item = step.request
            url = dataclasses.replace(
                item.url,
                query=_override(item.url.query, query),
                path_variables=_override(
                    item.url.path_variables, self.render(dict(step.path), values, "path")
                ),
            )
            body = item.body
            if step.json is not UNSET:
                body = self.merge_json(item, self.render(step.json, values, "json"), scopes)
            elif step.replace_body is not UNSET:
                body = _replacement(self.render(step.replace_body, values, "body"))
            return dataclasses.replace(
                item,
                url=url,
                headers=_override(item.headers, headers),
                body=body,
                auth=item.auth if step.auth == "collection" else auth,
            )
        inline = step.inline
        assert inline is not None
        url_text = str(self.render(inline.url, values, "url"))
        body = None
        if inline.body_kind == "json":
            body = Body(
                "raw", raw=json.dumps(self.render(inline.body, values, "json")), language="json"
            )
        elif inline.body_kind == "form":
            form = self.render(inline.body, values, "form")
            body = Body(
                "urlencoded",
                fields=tuple(KeyValue(str(k), as_text(v)) for k, v in form.items()),
            )
        elif inline.body_kind == "text":
            body = Body("raw", raw=str(self.render(inline.body, values, "body")))
        return RequestItem(
            name=step.name,
            folder_path=(),
            method=inline.method,
            url=Url(raw=url_text, query=_override((), query)),
            headers=_override(self.owner.default_headers, headers),
            body=body,
            auth=auth,
        )

    def auth(self, step: Step) -> Auth | None:
        if step.auth == "none":
            return None
        collection_auth: Auth | None = self.session.collection.auth
        if step.request is not None and step.request.auth is not None:
            collection_auth = step.request.auth
        if collection_auth is not None and collection_auth.type == "noauth":
            return None
        return collection_auth

    def merge_json(self, item: RequestItem, fields: Any, scopes: Scopes) -> Body:
        base: dict[str, Any] = {}
        where = f"the body of request '{item.full_name}'"
        if item.body is not None and item.body.raw.strip():
            try:
                text = Resolver(scopes).resolve(item.body.raw, where)
            except HarnessError as exc:
                raise StepFailed(str(exc), missing=True) from None
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError as exc:
                raise StepFailed(
                    f"{where} is not JSON after variables are filled in ({exc.msg}), so 'json' "
                    "cannot be merged into it"
                ) from None
            if not isinstance(parsed, dict):
                raise StepFailed(
                    f"{where} is not a JSON object, so 'json' cannot be merged into it"
                )
            base = parsed
        for name, value in fields.items():
            if value is None:  # as in query: a null removes the field
                base.pop(name, None)
            else:
                base[name] = value
        return Body("raw", raw=json.dumps(base), language="json")


def _replacement(value: Any) -> Body:
    """A step's ``body:``: text is sent as written, anything else as JSON."""
    if isinstance(value, str):
        return Body("raw", raw=value)
    return Body("raw", raw=json.dumps(value), language="json")


def common_headers(collection: Collection) -> tuple[KeyValue, ...]:
    """The headers every request of the collection sends with the same value (DrChrono's
    ``X-DRC-API-Version: v4``): an inline step sends them too, as a collection request would."""
    common: dict[str, KeyValue] | None = None
    for item in collection.requests():
        sent = {h.key.lower(): h for h in item.headers if not h.disabled}
        if common is None:
            common = sent
        else:
            common = {k: h for k, h in common.items() if k in sent and sent[k].value == h.value}
        if not common:
            return ()
    return tuple(common.values()) if common else ()


def _override(pairs: tuple[KeyValue, ...], overrides: Mapping[str, Any]) -> tuple[KeyValue, ...]:
    """Replace or add ``key=value`` pairs; a ``None`` value removes the key."""
    if not overrides:
        return pairs
    lowered = {k.lower(): k for k in overrides}
    kept: list[KeyValue] = []
    done: set[str] = set()
    for pair in pairs:
        key = lowered.get(pair.key.lower())
        if key is None:
            kept.append(pair)
            continue
        if key in done or overrides[key] is None:
            continue
        kept.append(KeyValue(pair.key, as_text(overrides[key])))
        done.add(key)
    for key, value in overrides.items():
        if key not in done and value is not None:
            kept.append(KeyValue(str(key), as_text(value)))
    return tuple(kept)


def _skipped(suite: str, step: Step, message: str) -> RequestResult:
    return not_sent(suite, step, message, Verdict.SKIPPED, Cause.OK)


def _errored(suite: str, step: Step, message: str, cause: Cause) -> RequestResult:
    return not_sent(suite, step, message, Verdict.ERROR, cause)


def not_sent(suite: str, step: Step, message: str, verdict: Verdict, cause: Cause) -> RequestResult:
    method, url = _describe(step)
    return RequestResult(
        suite=suite,
        name=step.name,
        method=method,
        url=url,
        verdict=verdict,
        cause=cause,
        message=message,
    )


def _describe(step: Step) -> tuple[str, str]:
    if step.sandbox is not None:
        return "SANDBOX", f"sandbox:{step.sandbox.action}"
    if step.request is not None:
        return step.request.method, step.request.url.raw
    assert step.inline is not None
    return step.inline.method, step.inline.url


__all__ = ["ScenarioExecutor", "check_json"]
