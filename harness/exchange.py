"""One exchange: build a request, send it, judge the response, describe it as a result.

Shared by collection units and scenario steps, which differ only in what they run and what they
capture; everything about a single exchange lives here. Postman scripts hook in around
:meth:`ExchangeRunner.run`: a pre-request script runs before ``build_request`` (it may change
variables the build reads), a test script after ``judge`` (its checks join ``result.checks``).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from harness.build import BuiltRequest, build_request
from harness.checks import ContractChecker, judge
from harness.collection import RequestItem
from harness.errors import (
    AuthError,
    CassetteError,
    HarnessError,
    InputError,
    UnresolvedVariableError,
)
from harness.fill import PlaceholderFiller, RequestContracts
from harness.masking import default_fields, mask_json
from harness.placeholders import Placeholder, find_placeholders
from harness.redaction import SecretRegistry
from harness.report_text import report_text
from harness.results import Cause, Check, FilledPlaceholder, RequestResult, Verdict
from harness.run_context import TokenProvider
from harness.scripting.hooks import RequestScripts
from harness.scripting.model import NextRequest, ScriptResponse
from harness.sender import Sender, TokenSource
from harness.variables import Resolver, Scopes


@dataclass(frozen=True)
class ExchangeSettings:
    """How every exchange of a run is built and judged."""

    strict: bool = False
    keep_bodies: bool = False  # snapshots for the HTML report
    files_root: Path = field(default_factory=Path.cwd)
    allow_outside_files: bool = False


@dataclass
class ExchangeOutcome:
    result: RequestResult
    response: httpx.Response | None = None
    fatal: bool = False  # the run cannot go on (see AuthError.credentials_refused)
    built: BuiltRequest | None = None  # what was sent, for the test scripts
    next_request: NextRequest | None = None  # a script's setNextRequest (None: go on in order)


@dataclass(frozen=True)
class _Call:
    """One ``ExchangeRunner.run`` call: what stays the same while scripts change the item."""

    index: int
    sender: Sender
    scopes: Scopes
    expected: Sequence[int] | None
    check_contract: bool
    suite: str | None
    name: str | None
    tokens: TokenProvider | None


class ExchangeRunner:
    """Runs exchanges for one session; thread-safe. ``exercised`` is the session's coverage."""

    def __init__(
        self,
        *,
        tokens: TokenProvider,
        contracts: ContractChecker | None,
        secrets: SecretRegistry,
        settings: ExchangeSettings,
        scripts: RequestScripts | None = None,
        requests: RequestContracts | None = None,
        filler: PlaceholderFiller | None = None,
    ) -> None:
        self.tokens = tokens
        self.requests = requests  # request contracts: a request the API would reject is named
        self.filler = filler  # --fill-placeholders; None: placeholders are reported, not sent
        self.scripts = scripts  # None: --no-scripts
        self.contracts = contracts
        self.secrets = secrets
        self.settings = settings
        self._lock = threading.Lock()
        # (operation, status) pairs seen, for contract coverage; bounded by the contract size.
        self.exercised: set[tuple[str, int]] = set()
        # Variables nothing defines (the plan's preflight): sent as '{{name}}', as Newman does.
        # A name some earlier request captures is not here: its request is skipped instead.
        self.sent_as_written: frozenset[str] = frozenset()
        # Variables that a request which did not pass sets (by its scripts or captures): a
        # later user of one without a value is skipped, not sent with '{{name}}'.
        self.set_by_failed: set[str] = set()

    def run(
        self,
        index: int,
        item: RequestItem,
        sender: Sender,
        scopes: Scopes,
        *,
        expected: Sequence[int] | None = None,
        check_contract: bool = True,
        suite: str | None = None,
        name: str | None = None,
        tokens: TokenProvider | None = None,
    ) -> ExchangeOutcome:
        """Build, send and judge ``item``; ``tokens`` overrides the session's (a scenario step
        that brings its own refresh token)."""
        call = _Call(index, sender, scopes, expected, check_contract, suite, name, tokens)
        outcome = self._run_scripted(call, item)
        result = outcome.result
        # Not succeeded: no answer, or an error status (a failed test script alone does not
        # stop a capture: its request succeeded, and the script may have cleared the variable).
        unanswered = result.status is None or result.status >= 400
        if result.verdict is not Verdict.PASSED and unanswered and item.variables_set:
            with self._lock:
                self.set_by_failed |= item.variables_set
        return outcome

    def _run_scripted(self, call: _Call, item: RequestItem) -> ExchangeOutcome:
        # --- Postman scripts (harness.scripting.hooks) around the exchange ---------------------
        scripts = self.scripts if item.scripts else None
        if scripts is None:
            return self._exchange(call, item)
        sender, scopes = call.sender, call.scopes
        pre = scripts.before(item, sender, scopes)
        if pre.outcome.skip_request:
            outcome = ExchangeOutcome(scripts.skipped(self._result(call, pre.item)))
        else:
            outcome = self._exchange(call, pre.item)
        response, result = outcome.response, outcome.result
        post = scripts.after(
            pre.item,
            _as_sent(outcome.built, response),
            result.elapsed_ms,
            ScriptResponse.from_httpx(response, result.elapsed_ms)
            if response is not None
            else None,
            sender,
            scopes,
            succeeded=result.verdict is Verdict.PASSED or (result.status or 500) < 400,
        )
        scripts.record(outcome.result, [pre.outcome, post])
        if (
            result.verdict.is_bad
            and result.request_headers is None
            and outcome.built is not None
            and response is not None
        ):  # a test script failed it: shown with its request and response, as other failures
            self._snapshot(result, outcome.built, response)
        directive = post.next_request if post and post.next_request else pre.outcome.next_request
        return dataclasses.replace(outcome, next_request=directive)

    def _result(self, call: _Call, item: RequestItem) -> RequestResult:
        return RequestResult(
            suite=call.suite or item.suite,
            name=call.name or item.name,
            method=item.method,
            url=item.url.raw,
            index=call.index,
        )

    def _exchange(self, call: _Call, item: RequestItem) -> ExchangeOutcome:
        sender, scopes, tokens = call.sender, call.scopes, call.tokens
        expected, check_contract = call.expected, call.check_contract
        result = self._result(call, item)
        # --- a converter's <type> placeholders (harness.placeholders, harness.fill) ------------
        placeholders = find_placeholders(item)
        if placeholders or self.filler is not None:
            filled = self._fill(item, placeholders, sender, scopes, tokens, result)
            if filled is None:
                return ExchangeOutcome(result)
            item = filled
        try:
            built, resolver = self._build(item, scopes)
            source: TokenSource | None = None
            if built.oauth2 is not None:
                source = (tokens or self.tokens).tokens_for(built.oauth2, resolver)
        except UnresolvedVariableError as exc:
            result.verdict, result.cause = Verdict.SKIPPED, Cause.INPUT
            result.message = (
                f"not sent: {{{{{exc.name}}}}} has no value (the request that captures it did not "
                "succeed)"
            )
            return ExchangeOutcome(result)
        except HarnessError as exc:
            # Credentials the run cannot use (none configured) stop it once, not per request.
            fatal = isinstance(exc, AuthError) and exc.credentials_refused
            cause = Cause.AUTH if fatal else Cause.INPUT
            return ExchangeOutcome(self._errored(result, cause, str(exc)), fatal=fatal)
        if built.auth is not None:
            built.auth.report_to(self.secrets.add)
        for secret in built.auth_secrets:
            self.secrets.add(secret)
        result.url = self.secrets.redact(built.url)
        # Checked before sending, and kept whatever the send gives: the API decides, so the
        # request goes out, but one the published API would reject can never pass.
        statuses = item.expected_statuses if expected is None else expected
        rejected = self._check_request(item, built, statuses) if check_contract else []
        result.checks = list(rejected)
        try:
            exchange = sender.send(built, source)
        except InputError as exc:
            return ExchangeOutcome(self._errored(result, Cause.INPUT, str(exc)))
        except HarnessError as exc:
            cause = Cause.CASSETTE if isinstance(exc, CassetteError) else Cause.AUTH
            fatal = isinstance(exc, AuthError) and exc.credentials_refused
            return ExchangeOutcome(self._errored(result, cause, str(exc)), fatal=fatal)
        result.attempts = exchange.attempts
        response = exchange.response
        if response is None:
            return ExchangeOutcome(
                self._errored(result, exchange.error_cause or Cause.CONNECTION, exchange.error),
                fatal=exchange.credentials_refused,
            )
        result.status = response.status_code
        result.elapsed_ms = exchange.attempts[-1].elapsed_ms if exchange.attempts else 0.0
        judgement = judge(
            response,
            item.method,
            statuses,
            self.contracts if check_contract else None,
            strict=self.settings.strict,
            # Only a 403 reports scopes, and asking the token manager may read its store file.
            granted_scopes=_granted_scopes(source) if response.status_code == 403 else None,
        )
        result.checks, result.verdict, result.cause = (
            [*rejected, *judgement.checks],
            judgement.verdict,
            judgement.cause,
        )
        if any(not check.passed for check in rejected) and result.verdict is Verdict.PASSED:
            result.verdict, result.cause = Verdict.FAILED, Cause.CONTRACT
        result.operation, result.drift = judgement.operation, judgement.drift
        if judgement.operation is not None:
            with self._lock:
                self.exercised.add((judgement.operation, response.status_code))
        if self.settings.keep_bodies or result.verdict.is_bad:
            # A failed exchange is shown with its request and response (masked) even without -v.
            self._snapshot(result, built, response)
        return ExchangeOutcome(result, response, built=built)

    def _build(self, item: RequestItem, scopes: Scopes) -> tuple[BuiltRequest, Resolver]:
        """The request to send. A variable without a value is sent as '{{name}}', as Newman
        sends it (a later script sets it, or a script cleared it), unless a request that sets
        it did not pass: then this one raises, and is skipped."""
        written = self.sent_as_written
        while True:
            resolver = Resolver(scopes, sent_as_written=written)
            try:
                built = build_request(
                    item,
                    resolver,
                    files_root=self.settings.files_root,
                    allow_outside_files=self.settings.allow_outside_files,
                )
                return built, resolver
            except UnresolvedVariableError as exc:
                with self._lock:
                    capture_failed = exc.name in self.set_by_failed
                if capture_failed or exc.name in written:
                    raise
                written = written | {exc.name}

    def _fill(
        self,
        item: RequestItem,
        placeholders: list[Placeholder],
        sender: Sender,
        scopes: Scopes,
        tokens: TokenProvider | None,
        result: RequestResult,
    ) -> RequestItem | None:
        """``item`` with its placeholders filled, or None (``result`` says why it is not sent)."""
        hint = (
            "run with --fill-placeholders to fill them from the target's records, "
            "or give them values in the collection"
        )
        if self.filler is None:
            unfilled = ", ".join(map(str, placeholders))
            self._not_sent(result, f"not sent: unfilled placeholders {unfilled}; {hint}")
            return None

        def fetch(listing: RequestItem) -> tuple[int, bytes] | None:
            # The record listing goes out as the request itself would: same auth, same client.
            try:
                resolver = Resolver(scopes)
                built = build_request(listing, resolver, files_root=self.settings.files_root)
                source = (
                    (tokens or self.tokens).tokens_for(built.oauth2, resolver)
                    if built.oauth2 is not None
                    else None
                )
                response = sender.send(built, source).response
            except HarnessError:
                return None
            return None if response is None else (response.status_code, response.content)

        filled = self.filler.fill(item, placeholders, fetch)
        result.filled = [_masked(fill.to_json()) for fill in filled.fills]
        if filled.missing:
            why = "; ".join(f"{p}: {reason}" for p, reason in filled.missing)
            self._not_sent(result, f"not sent: no value for placeholders ({why})")
            return None
        return filled.item

    def _not_sent(self, result: RequestResult, message: str) -> None:
        # Never green: an unfilled request checked nothing, and the run must say so.
        result.verdict, result.cause = Verdict.ERROR, Cause.PLACEHOLDER
        result.message = self.secrets.redact(message)

    def _check_request(
        self, item: RequestItem, built: BuiltRequest, expected: Sequence[int]
    ) -> list[Check]:
        """The built request against its contract: one failed check naming what the published
        API would reject (names only, never values), or none. A request that expects only 400
        is written to be rejected (a create without its required fields): for it the finding is
        a passed check, and the 400 must still come."""
        if self.requests is None:
            return []
        content_type = next((v for k, v in built.headers if k.lower() == "content-type"), None)
        problems = self.requests.check_request(
            item.method, built.url, content_type, built.content or None
        )
        if not problems:
            return []
        shown = "; ".join(problems[:5]) + ("; ..." if len(problems) > 5 else "")
        if expected and set(expected) == {400}:
            message = f"{shown} (the published API rejects it with 400, as this request expects)"
            return [Check("request contract", True, report_text(message))]
        message = f"{shown} (the published API would reject it; it was sent anyway)"
        return [Check("request contract", False, report_text(message))]

    def _errored(self, result: RequestResult, cause: Cause, message: str) -> RequestResult:
        result.verdict, result.cause = Verdict.ERROR, cause
        result.message = self.secrets.redact(message)
        return result

    def _snapshot(
        self, result: RequestResult, built: BuiltRequest, response: httpx.Response
    ) -> None:
        redact = self.secrets.redact
        result.request_headers = {k: redact(v) for k, v in built.headers}
        result.request_body = (
            redact(built.content.decode("utf-8", "replace")) if built.content else None
        )
        result.response_headers = {
            k: redact(v) for k, v in response.headers.items() if k.lower() != "set-cookie"
        }
        result.response_body = redact(response.text) if response.content else None


def _as_sent(built: BuiltRequest | None, response: httpx.Response | None) -> BuiltRequest | None:
    """The request as test scripts see it: with the headers that went out, the auth block's
    and the system headers included, as postman-runtime adds them to the request object the
    scripts get (lib/requester/core.js addSystemHeaders, lib/authorizer)."""
    if built is None or response is None:
        return built
    sent = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.request.headers.raw]
    return dataclasses.replace(built, headers=sent)


def _masked(fill: FilledPlaceholder) -> FilledPlaceholder:
    """A fill for the reports: a value from a contract example or a record may be patient data
    (a ``first_name`` field's), so it is masked by its field's name as bodies are."""
    field = fill["name"].rsplit(".", 1)[-1]
    if fill["value"] is not None:
        fill["value"] = mask_json({field: fill["value"]}, default_fields())[field]
    return fill


def _granted_scopes(tokens: TokenSource | None) -> list[str] | None:
    status = getattr(tokens, "status", None)
    if status is None:
        return None
    try:
        scopes = status().get("scopes")
    except Exception:  # the scope report is best effort; never fail a run over it
        return None
    if isinstance(scopes, str):
        return scopes.split()
    return list(scopes) if scopes else None
