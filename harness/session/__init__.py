"""Assemble a run: collection, variables, target (sandbox, live or replay), tokens, cassettes.

The composition root: the CLI and the pytest plugin call :func:`open_session` and get a
:class:`Session` (a :class:`~harness.run_context.RunContext`) that runs plans and scenarios and
closes what it opened. The pieces live beside it: :mod:`.options`, :mod:`.target`,
:mod:`.transports` and :mod:`.tokens`. The only core package that imports feature packages.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.collection import RequestItem, load_collection
from harness.collection_plan import (
    DependencyRuns,
    RequestVariables,
    UnresolvedName,
    collection_waves,
    dependency_failures,
    dependency_notice,
    is_scripted,
    plan_units,
    preflight,
    shard_units,
    unresolved_warning,
)
from harness.errors import UnresolvedVariableError
from harness.exchange import ExchangeRunner
from harness.fill import PlaceholderFiller
from harness.redaction import SecretRegistry
from harness.results import Reporter, RunInfo, RunSummary
from harness.run_context import SandboxControl
from harness.scheduler import Scheduler
from harness.scripting.hooks import RequestScripts
from harness.sender import RunPace, Sender
from harness.session.options import RunOptions
from harness.session.target import (
    auth_variable_names,
    default_rate_limit,
    open_target,
    save_recorded_environment,
)
from harness.session.tokens import RunTokens, fill_unneeded_oauth2_variables
from harness.session.transports import Transports, cassette_stem, inside
from harness.variables import (
    Scopes,
    is_secret_name,
    load_iteration_data,
    load_scopes,
    placeholders,
)

if TYPE_CHECKING:
    from harness.contracts import ContractSet
    from harness.session.exports import Exported, ExportPaths


def register_secrets(scopes: Scopes, secrets: SecretRegistry, names: set[str]) -> None:
    for name in names | set(scopes.environment) | set(scopes.environment_overrides):
        if is_secret_name(name):
            secrets.add(scopes.lookup(name))


class Session:
    """An open run target (a :class:`~harness.run_context.RunContext`): senders per unit,
    token sources, cassettes, the sandbox, and the one exchange runner of the run."""

    def __init__(
        self,
        options: RunOptions,
        stack: contextlib.ExitStack,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self.options = options
        # What the run decided on its own and a user should know (the target, unresolved
        # variables): kept here, and shown at once through ``notify`` (the CLI prints them).
        self.notices: list[str] = []
        self._notify = notify
        self.secrets = SecretRegistry()
        self.collection = load_collection(options.collection)
        # Postman's "type": "secret" is a secret whatever the variable's name ("cs", "dbpass").
        secret_names: set[str] = set()
        self.scopes = load_scopes(
            self.collection.variables,
            environment=options.environment,
            globals_file=options.globals_file,
            env_vars=options.env_vars,
            secret_names=secret_names,
        )
        self.scopes.globals.update(options.global_vars)  # --global-var beats the -g file
        self.secret_names = secret_names  # Postman's "type": "secret" variables (the exports)
        for name in secret_names:
            self.secrets.add(self.scopes.lookup(name))
        self.secrets.add(options.tls.client_passphrase)
        self.pace = RunPace(delay_s=options.delay_request_s, time_limit_s=options.run_timeout_s)
        group = options.cassette_group or cassette_stem(self.collection.name)
        group_dir = inside(options.cassette_dir, group)
        run_target = open_target(self.collection, self.scopes, options, stack, group_dir)
        self.target: str = run_target.kind
        self.target_label: str = run_target.label
        self.notify(f"target: {run_target.label} ({run_target.choice.reason})")
        self.sandbox: SandboxControl | None = run_target.sandbox
        self.contracts: ContractSet | None = _load_contracts(options.contracts_dir)
        self.transports = Transports(
            options,
            stack,
            secrets=self.secrets,
            group_dir=group_dir,
            sandbox_url=self.sandbox.base_url if self.sandbox is not None else None,
            rate_limit=options.rate_limit
            if options.rate_limit is not None
            else default_rate_limit(run_target, self.scopes),
            pace=self.pace,
        )
        if options.record_mode is not None:
            # Written when the session closes, after the cassettes: by then the run has shown
            # which values were credentials and which were patient data.
            stack.callback(
                save_recorded_environment,
                group_dir,
                self.scopes,
                options,
                withheld=secret_names | auth_variable_names(self.collection),
                secrets=self.secrets,
                scrubber=self.transports.scrubber,
            )
        self.tokens = RunTokens(
            target=self.target,
            token_store=options.token_store,
            scopes=self.scopes,
            secrets=self.secrets,
            transports=self.transports,
            access_token=options.access_token,
        )
        if self.tokens.given is not None:
            fill_unneeded_oauth2_variables(self.collection, self.scopes)
        self.exchange = ExchangeRunner(
            tokens=self.tokens,
            contracts=self.contracts,
            secrets=self.secrets,
            settings=options.exchange_settings(),
            scripts=self._request_scripts(),
            requests=self.contracts,
            filler=PlaceholderFiller(
                self.contracts, change_existing=options.fill_placeholders == "existing"
            )
            if options.fill_placeholders
            else None,
        )
        self._variables = RequestVariables()

    def sender_for(self, unit: str) -> Sender:
        return self.transports.sender_for(unit)

    def notify(self, message: str) -> None:
        self.notices.append(message)
        if self._notify is not None:
            self._notify(message)

    def _request_scripts(self) -> RequestScripts | None:
        """What runs the collection's scripts around each request; None with ``--no-scripts``."""
        if not self.options.scripts.enabled:
            return None
        return RequestScripts(
            self.options.scripts,
            secrets=self.secrets,
            tokens=self.tokens,
            files_root=self.options.files_root,
            allow_outside_files=self.options.allow_outside_files,
        )

    # --- collections -----------------------------------------------------------------------

    def plan(self) -> list[RequestItem]:
        return self.collection.select(self.options.folders)

    def check_plan(self, items: Sequence[RequestItem]) -> list[UnresolvedName]:
        """Register the plan's secrets and find the variables nothing defines: refused with
        ``strict_variables``, else sent as written (Newman's behaviour) and returned."""
        names = {n for item in items for n in self._variables(item)}
        register_secrets(self.scopes, self.secrets, names)
        unresolved = preflight(items, self.scopes, variables=self._variables)
        # The harness fetches OAuth 2.0 tokens itself (Newman sends a stored one): a credential
        # it lacks is a set-up problem, never something to send as written.
        oauth2 = {
            name
            for item in items
            if item.auth is not None and item.auth.type == "oauth2"
            for value in item.auth.params.values()
            for name in placeholders(str(value))
        }
        for entry in unresolved:
            if self.options.strict_variables or entry.name in oauth2:
                raise UnresolvedVariableError(entry.name, f"request '{entry.requests[0]}'")
        self.exchange.sent_as_written |= {entry.name for entry in unresolved}
        return unresolved

    def run(self, items: Sequence[RequestItem], reporters: Sequence[Reporter]) -> RunSummary:
        """Run the plan once, or once per iteration-data row (Newman's ``-d``)."""
        rows = iteration_rows(
            load_iteration_data(self.options.iteration_data) if self.options.iteration_data else [],
            self.options.iteration_count,
        )
        plan = plan_units(items, variables=self._variables)
        self.transports.check_cassette_names(unit.name for unit in plan)
        # Check every row before sending anything; each unresolved name is reported once.
        unresolved: dict[str, UnresolvedName] = {}
        for row in rows or [{}]:
            self.scopes.data = dict(row)
            for entry in self.check_plan(items):
                unresolved.setdefault(entry.name, entry)
        if unresolved:
            self.notify(f"warning: {unresolved_warning(list(unresolved.values()))}")
        # --shard: this shard's folders, and those they depend on (every shard checked the
        # whole plan above); only its own folders are its results.
        shard = self.options.shard
        runs = shard_units(
            plan_units(
                items, variables=self._variables, one_unit=is_scripted(self.exchange, items)
            ),
            shard,
        )
        ran = [item for run in runs if run.owned for _, item in run.unit.items]
        dependency_runs = DependencyRuns()
        helpers = [run.unit.name for run in runs if not run.owned]
        if helpers:
            self.notify(dependency_notice(shard, helpers))
        if shard is not None and not ran:
            self.notify(
                f"shard {shard} owns none of the plan's {len(plan)} folders: it runs nothing"
            )
        info = RunInfo(
            self.collection.name,
            self.target_label,
            len(ran) * max(1, len(rows)),
            str(self.options.collection),
            shard=str(shard) if shard is not None else None,
        )

        def complete(summary: RunSummary) -> None:
            # What did not run: pm.test.skip tests, or every script with --no-scripts.
            scripts = self.exchange.scripts
            summary.not_run = scripts.not_run if scripts else self.collection.not_run(ran)
            summary.coverage = self.coverage()

        scheduler = Scheduler(
            reporters, workers=self.options.workers, bail=self.options.bail, pace=self.pace
        )
        waves = collection_waves(
            items,
            rows,
            exchange=self.exchange,
            scopes=self.scopes,
            sender_for=self.sender_for,
            variables=self._variables,
            shard=shard,
            dependency_runs=dependency_runs,
        )
        try:
            return scheduler.run(info, waves, on_done=complete)
        finally:
            self._clean_up()
            if dependency_runs.failed:
                self.notify(dependency_failures(dependency_runs))

    # --- scenarios -------------------------------------------------------------------------

    def run_scenarios(self, sources: Sequence[Path], reporters: Sequence[Reporter]) -> RunSummary:
        """Load, check and run the scenarios in ``sources``; report each step."""
        from harness.scenarios.account import fill_account_ids
        from harness.scenarios.check import check_names
        from harness.scenarios.loader import load_scenarios
        from harness.scenarios.steps import ScenarioExecutor
        from harness.scenarios.units import scenario_units, scripts_turned_off, steps_not_run
        from harness.sharding import select

        scenarios = load_scenarios(list(sources), self.collection)
        executor = ScenarioExecutor(self)
        fill_account_ids(executor, scenarios)  # live: doctor_id, office_id, exam_room if unset
        for scenario in scenarios:
            check_names(scenario, self.scopes)
        units = scenario_units(scenarios, executor)
        self.transports.check_cassette_names(unit.name for unit in units)
        # --shard: a scenario's runs (data rows) stay together; positions stay the plan's.
        units = select(units, self.options.shard, key=lambda unit: unit.scenario.name)
        scenarios = [s for s in scenarios if any(unit.scenario is s for unit in units)]
        info = RunInfo(
            name=f"Scenarios ({', '.join(map(str, sources))})",
            target=self.target_label,
            planned=sum(len(unit.scenario.steps) for unit in units),
            source=", ".join(map(str, sources)),
            shard=str(self.options.shard) if self.options.shard is not None else None,
        )

        def complete(summary: RunSummary) -> None:
            summary.coverage = self.coverage()
            # The collection requests the steps send: their scripts' unread lines did not run.
            used = [
                step.request
                for scenario in scenarios
                for outer in scenario.steps
                for step in (outer, *outer.cleanup)
                if step.request is not None
            ]
            scripts = self.exchange.scripts
            if scripts is None:  # --no-scripts: the requests' scripts and the steps' tests
                summary.not_run = self.collection.not_run(used) + steps_not_run(scenarios)
            else:  # pm.test.skip tests, and the scripts that steps turned off
                summary.not_run = scripts.not_run + scripts_turned_off(scenarios)

        # Scenarios never depend on each other: one wave. Bail is checked before a scenario
        # starts, so a started one always runs its cleanups.
        scheduler = Scheduler(
            reporters, workers=self.options.workers, bail=self.options.bail, pace=self.pace
        )
        try:
            return scheduler.run(info, [units], on_done=complete)
        finally:
            self._clean_up()

    def _clean_up(self) -> None:
        """Delete the records --fill-placeholders made and the run did not delete, through the
        clients that made them (still open: they close with the session)."""
        if self.exchange.filler is not None:
            self.exchange.filler.clean_up()

    def export(self, wanted: ExportPaths) -> list[Exported]:
        """Newman's ``--export-*``: the variables as the run leaves them, secrets written empty."""
        from harness.session.exports import (
            SecretRule,
            environment_name,
            export_collection,
            export_variables,
        )

        rule = SecretRule(self.secrets, self.secret_names | auth_variable_names(self.collection))
        done: list[Exported] = []
        if wanted.environment is not None:
            name, ident = environment_name(self.options.environment)
            values = {**self.scopes.environment, **self.scopes.environment_overrides}
            done.append(
                export_variables(
                    wanted.environment,
                    values,
                    scope="environment",
                    name=name,
                    rule=rule,
                    source_id=ident,
                )
            )
        if wanted.globals is not None:
            done.append(
                export_variables(
                    wanted.globals, self.scopes.globals, scope="globals", name="Globals", rule=rule
                )
            )
        if wanted.collection is not None:
            done.append(
                export_collection(
                    wanted.collection, self.options.collection, self.scopes.collection, rule=rule
                )
            )
        return done

    def coverage(self) -> dict[str, Any]:
        """Contract coverage of what this session ran: data for machines plus a text table."""
        exercised = self.exchange.exercised
        if self.contracts is None or not exercised:
            return {}
        coverage = self.contracts.coverage(exercised)
        return {**coverage.to_json(), "text": coverage.to_text()}


def iteration_rows(rows: Sequence[dict[str, str]], count: int | None) -> list[dict[str, str]]:
    """The data row of each pass, as postman-runtime picks them (lib/runner/util.js
    getIterationData): ``-n`` passes, past the last row the last row again; without ``-n``
    one pass per row; without rows, ``-n`` passes with no data."""
    if count is None:
        return list(rows)
    if not rows:
        return [{} for _ in range(count)] if count > 1 else []
    return [dict(rows[min(i, len(rows) - 1)]) for i in range(count)]


def _load_contracts(contracts_dir: Path | None) -> ContractSet | None:
    if contracts_dir is None:
        return None
    from harness.contracts import ContractSet

    return ContractSet.load(contracts_dir)


@contextlib.contextmanager
def open_session(
    options: RunOptions, *, notify: Callable[[str], None] | None = None
) -> Iterator[Session]:
    """An open run; ``notify`` is shown what the run decided by itself (target, warnings)."""
    with contextlib.ExitStack() as stack:
        yield Session(options, stack, notify)


__all__ = ["RunOptions", "Session", "open_session"]
