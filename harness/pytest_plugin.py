"""pytest plugin: YAML scenarios and collection requests as ordinary pytest items.

Registered as the ``drchrono_harness`` pytest11 entry point (install ``drchrono-harness[pytest]``).
It is a guest in every pytest run of the environment, so it changes nothing a project did not ask
for: importing it has no side effects; scenario YAML is collected only under the directories the
``harness_scenarios`` ini option names (or files named on the command line); the requests of a
Postman collection only with ``--harness-collection``; pytest-recording's ``vcr_config`` is left
alone (the harness scrubbing is the opt-in ``drchrono_vcr_config`` fixture). One harness
:class:`~harness.session.Session` is opened lazily per pytest process (so per xdist worker) and
per cassette location, and closed at the end. The ``drchrono`` fixture sends one's own requests.

One scenario run (one data row) is one item: its steps chain (create, then read back what was
created), so they cannot be selected, retried or distributed apart; the failure text lists every
step with the failed checks, and JUnit gets one testcase per scenario.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from harness import paths
from harness.errors import HarnessError
from harness.results import RequestResult, Verdict

if TYPE_CHECKING:
    from harness.cassettes import Scrubber
    from harness.collection import Collection, RequestItem
    from harness.collection_plan import CollectionUnit
    from harness.project_config import ProjectConfig
    from harness.run_context import RunContext
    from harness.scenarios.model import Scenario
    from harness.scenarios.steps import ScenarioExecutor
    from harness.sender import Sender
    from harness.session import RunOptions, Session
    from harness.sharding import Shard, ShardRun

SCENARIO_SUFFIXES = (".yaml", ".yml")
SCENARIOS_INI = "harness_scenarios"
SHARD_INI = "drchrono_shard"
# Scenario tags become pytest markers, except the names pytest gives a behaviour to: a tag is a
# label in `harness run`, so `tags: [skip]` must not skip a scenario under pytest only.
BEHAVIOUR_MARKERS = frozenset(
    {"skip", "skipif", "xfail", "usefixtures", "filterwarnings", "parametrize"}
)


# --- options --------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("drchrono-harness", "DrChrono harness (scenarios and collections)")
    group.addoption(
        "--harness-env",
        type=Path,
        default=None,
        metavar="PATH",
        help="Postman environment file (default: none; a DrChrono collection then runs "
        "against the local sandbox)",
    )
    group.addoption(
        "--harness-env-var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set an environment variable (repeatable); beats the environment file",
    )
    group.addoption(
        "--harness-target",
        choices=("sandbox", "live", "replay"),
        default=None,
        help="run against the local sandbox (default), live DrChrono, or replay cassettes",
    )
    group.addoption(
        "--harness-collection",
        type=Path,
        default=None,
        metavar="PATH",
        help="collect this Postman collection's requests as test items (scenarios also "
        "reference it instead of the shipped DrChrono collection)",
    )
    group.addoption(
        "--harness-contracts",
        type=Path,
        default=None,
        metavar="DIR",
        help="contracts directory (default: the project's setting, else the DrChrono contracts "
        "shipped with the harness)",
    )
    group.addoption(
        "--harness-no-contracts", action="store_true", help="skip JSON-schema contract checks"
    )
    group.addoption("--harness-strict", action="store_true", help="fail on unknown fields")
    parser.addini(
        SCENARIOS_INI,
        type="paths",
        default=[],
        help="directories (or files) whose *.yaml/*.yml are harness scenarios; none by default",
    )
    group.addoption(
        "--drchrono-shard",
        default=None,
        metavar="K/N",
        help="run only the K-th of N parts of the harness's items, as `harness run --shard "
        "K/N` (the folders a part's own read captured values from also run, as no test); "
        "other tests are left alone (default: the drchrono_shard ini option)",
    )
    parser.addini(SHARD_INI, default="", help="default for --drchrono-shard (K/N)")
    group.addoption(
        "--harness-token-store",
        type=Path,
        default=None,
        metavar="PATH",
        help="token store file shared by xdist workers (default: the user cache dir for live)",
    )


def run_options(config: pytest.Config) -> RunOptions:
    """The :class:`RunOptions` the command-line options describe (same defaults as the CLI)."""
    from harness.session import RunOptions
    from harness.variables import parse_assignments

    env_vars = parse_assignments(
        list(config.getoption("harness_env_var") or []), option="--harness-env-var"
    )
    project = project_config(config)
    target = config.getoption("harness_target")
    environment = config.getoption("harness_env") or project.environment
    replay = target == "replay"
    if target == "live":
        environment = environment or paths.LIVE_ENVIRONMENT
        env_vars.setdefault("harness_target", "live")
    elif target == "sandbox":
        environment = environment or paths.SANDBOX_ENVIRONMENT
        env_vars.setdefault("harness_target", "sandbox")
    record_mode = _recording_option(config, "record_mode")
    if record_mode == "none":
        replay, record_mode = True, None  # pytest-recording's "none": replay only, no network
    elif record_mode is None and _recording_option(config, "block_network") and target == "live":
        replay = True
    return RunOptions(
        collection=config.getoption("harness_collection")
        or project.collection
        or paths.DEFAULT_COLLECTION,
        environment=None if replay and config.getoption("harness_env") is None else environment,
        env_vars=env_vars,
        record_mode=record_mode,
        replay=replay,
        contracts_dir=None
        if config.getoption("harness_no_contracts")
        else config.getoption("harness_contracts") or project.contracts or paths.CONTRACTS_DIR,
        strict=bool(config.getoption("harness_strict")),
        token_store=config.getoption("harness_token_store"),
        # Cassettes belong to the project under test, as pytest-recording's do.
        cassette_dir=project.cassette_dir or config.rootpath / paths.CASSETTES_DIR,
        workers=1,  # pytest-xdist parallelises across processes
    )


_PROJECT = pytest.StashKey["ProjectConfig"]()


def project_config(config: pytest.Config) -> ProjectConfig:
    """The settings of the project under test (harness.toml or [tool.drchrono-harness], found
    from pytest's rootdir upwards), read once per pytest run."""
    project = config.stash.get(_PROJECT, None)
    if project is None:
        from harness.project_config import load_project_config

        try:
            project = load_project_config(config.rootpath)
        except HarnessError as exc:
            raise pytest.UsageError(str(exc)) from None
        config.stash[_PROJECT] = project
    return project


def _recording_option(config: pytest.Config, name: str) -> Any:
    try:
        return config.getoption(name)
    except ValueError:  # pytest-recording not installed or disabled
        return None


# --- one harness session per pytest process ------------------------------------------------


class HarnessState:
    """Opens the harness session on first use and closes it at the end of the pytest run."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._stack = ExitStack()
        # One session per cassette location: scenario items record and replay their own cassettes
        # (cassettes/scenarios/), exactly as `harness run scenarios/` does; the `drchrono`
        # fixture's go beside the test module, as pytest-recording's do.
        self._sessions: dict[tuple[Path | None, str | None], Session] = {}
        self._scenarios: ScenarioExecutor | None = None
        self._requests_checked = False
        self._error: HarnessError | None = None
        self._collection: Collection | None = None
        # --drchrono-shard: the request folders this shard runs only for its own folders' sake
        self.dependencies: ShardDependencies | None = None

    def collection(self) -> Collection:
        """The collection scenarios reference (loaded without opening a session)."""
        if self._collection is None:
            from harness.collection import load_collection

            self._collection = load_collection(
                self.config.getoption("harness_collection")
                or project_config(self.config).collection
                or paths.DEFAULT_COLLECTION
            )
        return self._collection

    def session(
        self, cassette_group: str | None = None, cassette_dir: Path | None = None
    ) -> Session:
        key = (cassette_dir, cassette_group)
        with self._lock:
            if self._error is not None:
                raise self._error
            if key not in self._sessions:
                from harness.session import open_session

                options = dataclasses.replace(
                    run_options(self.config), cassette_group=cassette_group
                )
                if cassette_dir is not None:
                    options = dataclasses.replace(options, cassette_dir=cassette_dir)
                try:
                    self._sessions[key] = self._stack.enter_context(open_session(options))
                except HarnessError as exc:
                    self._error = exc
                    raise
            return self._sessions[key]

    def scenarios(self) -> ScenarioExecutor:
        session = self.session("scenarios")
        with self._lock:
            if self._scenarios is None:
                from harness.scenarios.steps import ScenarioExecutor

                self._scenarios = ScenarioExecutor(session)
            return self._scenarios

    def requests(self) -> Session:
        """The session collection items run in, its plan checked once."""
        session = self.session()
        with self._lock:
            if not self._requests_checked:
                session.check_plan(list(session.collection.requests()))
                self._requests_checked = True
            return session

    def close(self) -> None:
        self._stack.close()
        self._sessions.clear()
        self._scenarios = None
        self._requests_checked = False


_STATE = pytest.StashKey[HarnessState]()


def _state(config: pytest.Config) -> HarnessState:
    state = config.stash.get(_STATE, None)
    if state is None:
        state = HarnessState(config)
        config.stash[_STATE] = state
    return state


class ShardDependencies:
    """``--drchrono-shard``: the request folders the shard does not own but its own folders
    read captured values from, and their clean-up folders (see
    :func:`harness.sharding.with_dependencies`). They run as `harness run --shard` runs them,
    not as test items (the shard that owns them has those): each before the first of this
    process's own requests after it in plan order, the rest at the end of the session, once
    one of its own requests ran. The terminal summary says how they went."""

    def __init__(self, shard: Shard, runs: Sequence[ShardRun[CollectionUnit]]) -> None:
        from harness.collection_plan import DependencyRuns

        self.shard = shard
        self._position = {run.unit.name: position for position, run in enumerate(runs)}
        self._pending = [run.unit for run in runs if not run.owned]
        self.ran: list[str] = []
        self.results = DependencyRuns()
        self._started = False
        self._lock = threading.Lock()

    def before(self, folder: str, session: Session) -> None:
        """Run the pending folders that come before ``folder`` in plan order."""
        with self._lock:
            self._started = True
            position = self._position.get(folder, len(self._position))
            while self._pending and self._position[self._pending[0].name] < position:
                self._run(self._pending.pop(0), session)

    def finish(self, session: Session) -> None:
        """Run what is left (clean-ups after the last own folder), if anything of ours ran."""
        with self._lock:
            while self._started and self._pending:
                self._run(self._pending.pop(0), session)

    @property
    def started(self) -> bool:
        return self._started

    def _run(self, unit: CollectionUnit, session: Session) -> None:
        from harness.collection_plan import run_and_capture

        self.ran.append(unit.name)
        sender = session.sender_for(unit.name)
        for index, item in unit.items:
            outcome = run_and_capture(session.exchange, index, item, sender, session.scopes)
            self.results.add(outcome.result)


def pytest_sessionfinish(session: pytest.Session) -> None:
    # Before the terminal summary (written after every plugin's sessionfinish), which reports it.
    state = session.config.stash.get(_STATE, None)
    if state is not None and state.dependencies is not None and state.dependencies.started:
        state.dependencies.finish(state.requests())


def pytest_terminal_summary(terminalreporter: Any) -> None:
    state = terminalreporter.config.stash.get(_STATE, None)
    dependencies = state.dependencies if state is not None else None
    if dependencies is None or not dependencies.ran:
        return
    from harness.collection_plan import dependency_failures, dependency_notice

    terminalreporter.write_line(dependency_notice(dependencies.shard, dependencies.ran))
    if dependencies.results.failed:
        terminalreporter.write_line(dependency_failures(dependencies.results))


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is not None:
        state.close()


@pytest.fixture(scope="session")
def harness_session(pytestconfig: pytest.Config) -> Iterator[RunContext]:
    """The harness :class:`Session` of this pytest process (sandbox started when targeted)."""
    try:
        yield _state(pytestconfig).session()
    except HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)


# --- collection ------------------------------------------------------------------------------


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    config = parent.config
    if file_path.suffix.lower() in SCENARIO_SUFFIXES and _is_scenario_file(file_path, config):
        return ScenarioFile.from_parent(parent, path=file_path)
    wanted = config.getoption("harness_collection")
    if wanted is not None and file_path.resolve() == Path(wanted).resolve():
        return CollectionFile.from_parent(parent, path=file_path)
    return None


def pytest_configure(config: pytest.Config) -> None:
    # --harness-collection adds the collection file to what pytest collects.
    wanted = config.getoption("harness_collection", None)
    if wanted is not None:
        if not Path(wanted).is_file():
            raise pytest.UsageError(f"--harness-collection {wanted}: no such file.")
        named = {Path(a.split("::")[0]).resolve() for a in config.args}
        if Path(wanted).resolve() not in named:
            config.args.append(str(wanted))


def _is_scenario_file(path: Path, config: pytest.Config) -> bool:
    """YAML the project opted in: under a ``harness_scenarios`` path or the ``scenarios_dir`` of
    its harness settings, or named on the command line. Other YAML (CI configs, load-test plans) is not ours to parse."""
    resolved = path.resolve()
    project = project_config(config).scenarios_dir  # a project's settings opt in too
    for opted_in in [*config.getini(SCENARIOS_INI), *([project] if project else [])]:
        root = Path(opted_in).resolve()
        if resolved == root or root in resolved.parents:
            return True
    named = {Path(a.split("::")[0]).resolve() for a in config.args}
    return resolved in named


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--drchrono-shard K/N``: deselect the scenario and request items of other shards, with
    the same assignment as ``harness run --shard K/N`` (scenario names, top-level folders); the
    folders its own need are kept to run as :class:`ShardDependencies`."""
    text = config.getoption("drchrono_shard") or config.getini(SHARD_INI)
    if not text:
        return
    from harness.collection_plan import plan_units, shard_units, unit_name
    from harness.sharding import Shard, select

    try:
        shard = Shard.parse(str(text), option="--drchrono-shard")
    except HarnessError as exc:
        raise pytest.UsageError(str(exc)) from None
    scenarios = [item for item in items if isinstance(item, ScenarioItem)]
    kept: set[int] = {
        id(item) for item in select(scenarios, shard, key=lambda item: item.scenario.name)
    }
    requests = [item for item in items if isinstance(item, RequestNode)]
    runs = shard_units(plan_units([item.request for item in requests]), shard)
    owned = {run.unit.name for run in runs if run.owned}
    kept |= {id(item) for item in requests if unit_name(item.request) in owned}
    if any(not run.owned for run in runs):
        _state(config).dependencies = ShardDependencies(shard, runs)
    deselected = [
        item
        for item in items
        if isinstance(item, (ScenarioItem, RequestNode)) and id(item) not in kept
    ]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        gone = {id(item) for item in deselected}
        items[:] = [item for item in items if id(item) not in gone]


class _HarnessCollector(pytest.File):
    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException]) -> Any:  # type: ignore[override]
        if isinstance(excinfo.value, HarnessError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class ScenarioFile(_HarnessCollector):
    def collect(self) -> Iterator[pytest.Item]:
        from harness.scenarios.loader import load_scenario_file

        scenarios = load_scenario_file(self.path, _state(self.config).collection())
        for scenario in scenarios:
            markers = [tag for tag in scenario.tags if tag not in BEHAVIOUR_MARKERS]
            for tag in markers:
                self.config.addinivalue_line("markers", f"{tag}: scenario tag")
            for suite, row in scenario.runs:
                item = ScenarioItem.from_parent(self, name=suite, scenario=scenario, row=row)
                for tag in markers:
                    item.add_marker(tag)
                # Every tag still selects with -k, as the CLI's report lists them.
                item.extra_keyword_matches.update(scenario.tags)
                yield item


class CollectionFile(_HarnessCollector):
    def collect(self) -> Iterator[pytest.Item]:
        from harness.collection import load_collection

        for request in load_collection(self.path).requests():
            item = RequestNode.from_parent(self, name=request.full_name, request=request)
            yield item


class HarnessFailure(Exception):
    """A scenario or request did not pass; the text is already the readable report."""


class _HarnessItem(pytest.Item):
    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, (HarnessFailure, HarnessError)):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class ScenarioItem(_HarnessItem):
    def __init__(self, *, scenario: Scenario, row: Mapping[str, object], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.row = row
        self.results: list[RequestResult] = []

    def runtest(self) -> None:
        from harness.scenarios.account import fill_account_ids
        from harness.scenarios.check import check_names

        state = _state(self.config)
        executor = state.scenarios()
        if not executor.applies(self.scenario):
            pytest.skip(
                f"runs against {', '.join(self.scenario.targets)}; the target is "
                f"{executor.session.target}"
            )
        fill_account_ids(executor, [self.scenario])  # live: doctor_id, office_id, exam_room
        check_names(self.scenario, executor.session.scopes)
        self.results = executor.run(self.scenario, self.name, self.row, lambda r: None)
        for result in self.results:
            self.user_properties.append(("step", f"{result.verdict.value}: {result.name}"))
        if any(r.verdict.is_bad for r in self.results):
            raise HarnessFailure(scenario_report(self.scenario, self.name, self.results))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.scenario.location.line - 1, f"scenario: {self.name}"


class RequestNode(_HarnessItem):
    def __init__(self, *, request: RequestItem, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.request = request

    def runtest(self) -> None:
        from harness.collection_plan import run_and_capture, unit_name

        state = _state(self.config)
        session = state.requests()
        if state.dependencies is not None:
            state.dependencies.before(unit_name(self.request), session)
        sender = session.sender_for(unit_name(self.request))
        result = run_and_capture(session.exchange, 0, self.request, sender, session.scopes).result
        if result.verdict is Verdict.SKIPPED:
            pytest.skip(result.message)
        if result.verdict.is_bad:
            raise HarnessFailure(
                f"{self.request.full_name}\n" + "\n".join(describe_result(result, "  "))
            )

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"request: {self.name}"


# --- failure text ---------------------------------------------------------------------------

_MARK = {
    Verdict.PASSED: "PASS ",
    Verdict.FAILED: "FAIL ",
    Verdict.ERROR: "ERROR",
    Verdict.SKIPPED: "SKIP ",
}


def scenario_report(scenario: Scenario, suite: str, results: list[RequestResult]) -> str:
    failed = next((r for r in results if r.verdict.is_bad), None)
    head = f"Scenario '{suite}' ({scenario.location})"
    if failed is not None:
        head += f" failed at step '{failed.name}' ({failed.cause.value})"
    lines = [head]
    for result in results:
        lines += describe_result(result, "  ")
    return "\n".join(lines)


def describe_result(result: RequestResult, indent: str) -> list[str]:
    status = "" if result.status is None else f" -> {result.status}"
    line = f"{indent}{_MARK[result.verdict]} {result.name}: {result.method} {result.url}{status}"
    lines = [line]
    if result.message:
        lines.append(f"{indent}      {result.message}")
    for check in result.failed_checks:
        where = f" at {check.json_path}" if check.json_path else ""
        lines.append(f"{indent}      {check.name}{where}: {check.message}")
    if result.verdict.is_bad:
        notes = [a.note for a in result.attempts if a.note]
        lines += [f"{indent}      attempt: {note}" for note in notes]
    return lines


# --- pytest-xdist and pytest-recording --------------------------------------------------------


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Keep a collection's folder on one worker: its requests chain through captured ids."""
    if config.getoption("harness_collection") is None or config.getoption("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class FolderScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            file, sep, rest = nodeid.partition("::")
            if sep and file.endswith(".json"):
                return f"{file}::{rest.split('/')[0]}"
            return nodeid

    return FolderScheduling(config, log)


@pytest.fixture(scope="session")
def drchrono_vcr_config(pytestconfig: pytest.Config) -> dict[str, Any]:
    """The harness scrubbing as pytest-recording settings, for projects that opt in::

        @pytest.fixture(scope="module")
        def vcr_config(drchrono_vcr_config):
            return drchrono_vcr_config

    The plugin never overrides ``vcr_config`` itself: other projects' cassettes are theirs.
    """
    from harness.cassettes import vcr_config_for

    return vcr_config_for(_scrubber(pytestconfig))


@pytest.hookimpl(optionalhook=True)
def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    # Adds the serializer and matcher that drchrono_vcr_config names; changes no default.
    from harness.cassettes import configure_vcr

    configure_vcr(vcr, _scrubber(config))


_SCRUBBER = pytest.StashKey["Scrubber"]()


def _scrubber(config: pytest.Config) -> Scrubber:
    """The open session's scrubber (it knows the run's secrets), else a plain one."""
    scrubber = config.stash.get(_SCRUBBER, None)
    if scrubber is None:
        from harness.cassettes import Scrubber

        state = config.stash.get(_STATE, None)
        session = state._sessions.get((None, None)) if state is not None else None
        scrubber = session.transports.scrubber if session is not None else Scrubber()
        config.stash[_SCRUBBER] = scrubber
    return scrubber


# --- the drchrono fixture: one's own requests, checked like the collection's -----------------


class DrChronoClient:
    """Sends one request at a time to DrChrono (the local sandbox by default) the way the
    harness sends a collection's: OAuth token, retries, contract check, scrubbed cassette.

    A response whose status is unexpected (default: not 2xx/3xx) or whose body breaks its
    contract fails the test with the harness's report; otherwise it is returned.
    """

    def __init__(self, session: Session, sender: Sender) -> None:
        self.session = session
        self._sender = sender

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, object] | None = None,
        json: object = None,
        expect: Sequence[int] | None = None,
    ) -> httpx.Response:
        """``path`` is relative to the target's ``base_url`` (``/api/patients``) or a full URL;
        ``expect`` lists the statuses that pass (default: any 2xx or 3xx)."""
        import json as json_module

        from harness.collection import Body, KeyValue, RequestItem, Url

        url = "{{base_url}}" + path if path.startswith("/") else path
        query = tuple(KeyValue(str(k), str(v)) for k, v in (params or {}).items())
        body = (
            None if json is None else Body(mode="raw", raw=json_module.dumps(json), language="json")
        )
        item = RequestItem(
            name=f"{method.upper()} {path}",
            folder_path=(),
            method=method.upper(),
            url=Url(raw=url, query=query),
            headers=(),
            body=body,
            auth=self.session.collection.auth,
        )
        self.session.check_plan([item])
        execution = self.session.exchange.run(
            0, item, self._sender, self.session.scopes, expected=expect, suite="drchrono"
        )
        if execution.result.verdict is not Verdict.PASSED or execution.response is None:
            # The harness's report is the failure text; the plugin's frames would only hide it.
            pytest.fail("\n".join(describe_result(execution.result, "")), pytrace=False)
        return execution.response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)


@pytest.fixture
def drchrono(request: pytest.FixtureRequest) -> DrChronoClient:
    """A :class:`DrChronoClient` for this test. The target follows ``--harness-target``
    (sandbox by default); with pytest-recording's ``--record-mode`` or ``--harness-target
    replay``, its cassette is ``cassettes/<module>/<test>.yaml`` beside the test file."""
    module = request.node.path
    try:
        session = _state(request.config).session(
            cassette_group=module.stem, cassette_dir=module.parent / paths.CASSETTES_DIR
        )
    except HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)
    return DrChronoClient(session, session.sender_for(request.node.name))
