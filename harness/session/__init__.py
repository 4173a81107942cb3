"""Assemble a run: collection, variables, target (sandbox, live or replay), tokens, cassettes.

The composition root: the CLI and the pytest plugin call :func:`open_session` and get a
:class:`Session` (a :class:`~harness.run_context.RunContext`) that runs plans and scenarios and
closes what it opened. The pieces live beside it: :mod:`.options`, :mod:`.target`,
:mod:`.transports` and :mod:`.tokens`. The only core package that imports feature packages.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.collection import RequestItem, load_collection
from harness.collection_plan import (
    RequestVariables,
    collection_waves,
    plan_units,
    preflight,
)
from harness.exchange import ExchangeRunner
from harness.fill import PlaceholderFiller
from harness.redaction import SecretRegistry
from harness.results import Reporter, RunInfo, RunSummary
from harness.run_context import SandboxControl
from harness.scheduler import Scheduler
from harness.scripting.hooks import RequestScripts
from harness.sender import Sender
from harness.session.options import RunOptions
from harness.session.target import (
    auth_variable_names,
    default_rate_limit,
    open_target,
    save_recorded_environment,
)
from harness.session.tokens import RunTokens, fill_unneeded_oauth2_variables
from harness.session.transports import Transports, cassette_stem, inside
from harness.variables import Scopes, is_secret_name, load_iteration_data, load_scopes

if TYPE_CHECKING:
    from harness.contracts import ContractSet


def register_secrets(scopes: Scopes, secrets: SecretRegistry, names: set[str]) -> None:
    for name in names | set(scopes.environment) | set(scopes.environment_overrides):
        if is_secret_name(name):
            secrets.add(scopes.lookup(name))


class Session:
    """An open run target (a :class:`~harness.run_context.RunContext`): senders per unit,
    token sources, cassettes, the sandbox, and the one exchange runner of the run."""

    def __init__(self, options: RunOptions, stack: contextlib.ExitStack) -> None:
        self.options = options
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
        for name in secret_names:
            self.secrets.add(self.scopes.lookup(name))
        group = options.cassette_group or cassette_stem(self.collection.name)
        group_dir = inside(options.cassette_dir, group)
        run_target = open_target(self.collection, self.scopes, options, stack, group_dir)
        self.target: str = run_target.kind
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
            else default_rate_limit(self.target, self.scopes),
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

    def _request_scripts(self) -> RequestScripts | None:
        """What runs the collection's scripts around each request; None with ``--no-scripts``."""
        if not self.options.scripts.enabled:
            return None
        return RequestScripts(
            self.options.scripts,
            secrets=self.secrets,
            tokens=self.tokens,
            files_root=Path.cwd(),
            allow_outside_files=self.options.allow_outside_files,
        )

    # --- collections -----------------------------------------------------------------------

    def plan(self) -> list[RequestItem]:
        return self.collection.select(self.options.folders)

    def check_plan(self, items: Sequence[RequestItem]) -> None:
        names = {n for item in items for n in self._variables(item)}
        register_secrets(self.scopes, self.secrets, names)
        preflight(items, self.scopes, variables=self._variables)

    def run(self, items: Sequence[RequestItem], reporters: Sequence[Reporter]) -> RunSummary:
        """Run the plan once, or once per iteration-data row (Newman's ``-d``)."""
        rows = (
            load_iteration_data(self.options.iteration_data) if self.options.iteration_data else []
        )
        plan = plan_units(items, variables=self._variables)
        self.transports.check_cassette_names(unit.name for unit in plan)
        # Every row must define what the plan needs; check them all before sending anything.
        for row in rows or [{}]:
            self.scopes.data = dict(row)
            self.check_plan(items)
        info = RunInfo(
            self.collection.name,
            self.target,
            len(items) * max(1, len(rows)),
            str(self.options.collection),
        )

        def complete(summary: RunSummary) -> None:
            # What did not run: pm.test.skip tests, or every script with --no-scripts.
            scripts = self.exchange.scripts
            summary.not_run = scripts.not_run if scripts else self.collection.not_run(items)
            summary.coverage = self.coverage()

        scheduler = Scheduler(reporters, workers=self.options.workers, bail=self.options.bail)
        waves = collection_waves(
            items,
            rows,
            exchange=self.exchange,
            scopes=self.scopes,
            sender_for=self.sender_for,
            variables=self._variables,
        )
        try:
            return scheduler.run(info, waves, on_done=complete)
        finally:
            self._clean_up()

    # --- scenarios -------------------------------------------------------------------------

    def run_scenarios(self, sources: Sequence[Path], reporters: Sequence[Reporter]) -> RunSummary:
        """Load, check and run the scenarios in ``sources``; report each step."""
        from harness.scenarios.check import check_names
        from harness.scenarios.loader import load_scenarios
        from harness.scenarios.steps import ScenarioExecutor
        from harness.scenarios.units import scenario_units, scripts_turned_off, steps_not_run

        scenarios = load_scenarios(list(sources), self.collection)
        for scenario in scenarios:
            check_names(scenario, self.scopes)
        units = scenario_units(scenarios, ScenarioExecutor(self))
        self.transports.check_cassette_names(unit.name for unit in units)
        info = RunInfo(
            name=f"Scenarios ({', '.join(map(str, sources))})",
            target=self.target,
            planned=sum(len(unit.scenario.steps) for unit in units),
            source=", ".join(map(str, sources)),
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
        scheduler = Scheduler(reporters, workers=self.options.workers, bail=self.options.bail)
        try:
            return scheduler.run(info, [units], on_done=complete)
        finally:
            self._clean_up()

    def _clean_up(self) -> None:
        """Delete the records --fill-placeholders made and the run did not delete, through the
        clients that made them (still open: they close with the session)."""
        if self.exchange.filler is not None:
            self.exchange.filler.clean_up()

    def coverage(self) -> dict[str, Any]:
        """Contract coverage of what this session ran: data for machines plus a text table."""
        exercised = self.exchange.exercised
        if self.contracts is None or not exercised:
            return {}
        coverage = self.contracts.coverage(exercised)
        return {**coverage.to_json(), "text": coverage.to_text()}


def _load_contracts(contracts_dir: Path | None) -> ContractSet | None:
    if contracts_dir is None:
        return None
    from harness.contracts import ContractSet

    return ContractSet.load(contracts_dir)


@contextlib.contextmanager
def open_session(options: RunOptions) -> Iterator[Session]:
    with contextlib.ExitStack() as stack:
        yield Session(options, stack)


__all__ = ["RunOptions", "Session", "open_session"]
