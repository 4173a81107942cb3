"""Assemble a run: collection, variables, target (sandbox, live or replay), tokens, cassettes.

This is the one place that knows how the pieces fit together; the CLI and the pytest plugin both
call :func:`open_session` and get a :class:`Session` that runs plans and closes what it opened.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from harness import paths
from harness.atomicfile import atomic_write_text
from harness.collection import Collection, RequestItem, load_collection
from harness.errors import InputError
from harness.execute import RunnerConfig
from harness.hostmap import DRCHRONO_HOSTS, HostMappingTransport
from harness.ratelimit import DRCHRONO_LIMITS, RateLimiter
from harness.redaction import SecretRegistry
from harness.results import RunSummary
from harness.runner import Reporter, RunInfo, Runner, preflight, request_variables
from harness.scripting.hooks import RequestScripts, ScriptSettings
from harness.sender import RetryPolicy, Sender, TokenSource, is_loopback
from harness.variables import (
    Resolver,
    Scopes,
    is_secret_name,
    load_iteration_data,
    load_variable_file,
    os_env_name,
    placeholders,
)

TARGET_VARIABLE = "harness_target"
SANDBOX_VARIABLES = (
    "base_url",
    "auth_base_url",
    "client_id",
    "client_secret",
    "refresh_token",
    "redirect_uri",
)
REPLAY_PLACEHOLDER = "replayed-from-cassette"
SANDBOX_ORIGIN = "http://drchrono-sandbox"
RECORDED_ENVIRONMENT = "_environment.json"
# Where the recording ran is not worth keeping (replays ignore hosts), nor whose app it was.
NOT_RECORDED_VARIABLES = {"base_url", "auth_base_url", "client_id", TARGET_VARIABLE}
SANDBOX_ANCHOR_DAY = datetime.date(2026, 1, 5)


@dataclass
class RunOptions:
    collection: Path = paths.DEFAULT_COLLECTION
    environment: Path | None = None
    globals_file: Path | None = None
    iteration_data: Path | None = None
    env_vars: dict[str, str] = field(default_factory=dict)
    folders: list[str] = field(default_factory=list)
    bail: bool = False
    timeout_request: float = 30.0
    workers: int = 1
    record_mode: str | None = None  # once, new_episodes, all, rewrite
    replay: bool = False
    cassette_dir: Path = paths.CASSETTES_DIR
    cassette_group: str | None = None  # sub-folder of cassette_dir; default: the collection's name
    contracts_dir: Path | None = paths.CONTRACTS_DIR  # None: no contract checks
    strict: bool = False
    token_store: Path | None = None
    rate_limit: str | None = None  # None: by target
    retries: int = 2
    keep_bodies: bool = False
    allow_outside_files: bool = False
    scripts: ScriptSettings = field(default_factory=ScriptSettings)  # --no-scripts and limits


def load_scopes(collection: Collection, options: RunOptions) -> Scopes:
    scopes = Scopes(collection=dict(collection.variables))
    if options.globals_file is not None:
        scopes.globals = load_variable_file(options.globals_file, what="globals")
    if options.environment is not None:
        scopes.environment = load_variable_file(options.environment)
    scopes.environment_overrides = dict(options.env_vars)
    return scopes


def target_of(scopes: Scopes, options: RunOptions) -> str:
    if options.replay:
        return "replay"
    target = (scopes.lookup(TARGET_VARIABLE) or "live").lower()
    if target not in ("sandbox", "live"):
        raise InputError(
            f"{TARGET_VARIABLE}={target!r} in the environment is neither 'sandbox' nor 'live'.",
            hint="Use collections/sandbox.postman_environment.json or drchrono.postman_environment.json.",
        )
    return target


def register_secrets(scopes: Scopes, secrets: SecretRegistry, names: set[str]) -> None:
    for name in names | set(scopes.environment) | set(scopes.environment_overrides):
        if is_secret_name(name):
            secrets.add(scopes.lookup(name))


class Session:
    """An open run target: senders per unit, token managers per OAuth config, cassettes, sandbox."""

    def __init__(self, options: RunOptions, stack: contextlib.ExitStack) -> None:
        self.options = options
        self.stack = stack
        self.secrets = SecretRegistry()
        self.collection = load_collection(options.collection)
        self.scopes = load_scopes(self.collection, options)
        self.target = target_of(self.scopes, options)
        self.sandbox: Any = None
        if self.target == "sandbox":
            self._start_sandbox()
        elif self.target == "replay":
            self._load_recorded_environment()
            self._fill_replay_placeholders()
        if options.record_mode is not None:
            self._save_recorded_environment()
        self.contracts = self._load_contracts()
        self.rate_limiter = RateLimiter.parse(
            options.rate_limit if options.rate_limit is not None else self._default_rate_limit()
        )
        self._base_transport: httpx.BaseTransport = httpx.HTTPTransport(retries=0)
        if self.sandbox is not None:
            # Collections that hard-code DrChrono's hosts reach the sandbox too.
            self._base_transport = HostMappingTransport(
                self._base_transport, {host: self.sandbox.base_url for host in DRCHRONO_HOSTS}
            )
        self._token_managers: dict[tuple[str, str, str], TokenSource] = {}
        self._token_lock = threading.Lock()
        self._senders: dict[str, Sender] = {}
        self._store = self._open_token_store()

    # --- target set-up ---------------------------------------------------------------------

    def _start_sandbox(self) -> None:
        from harness.sandbox import Sandbox, SandboxConfig

        # A fixed seed and anchor day make the sandbox's data, and so recordings, repeatable.
        sandbox = Sandbox(
            SandboxConfig(seed=0, anchor_date=SANDBOX_ANCHOR_DAY), host="127.0.0.1", port=0
        )
        self.stack.enter_context(sandbox)
        self.sandbox = sandbox
        values = sandbox.environment()
        # Sandbox values beat the file (it has none) but not --env-var.
        for name, value in values.items():
            self.scopes.environment[name] = value
            if name in SANDBOX_VARIABLES and name not in self.options.env_vars:
                # OS DRCHRONO_* variables are for live DrChrono; they must not steer the sandbox.
                self.scopes.environment_overrides[name] = value

    def _cassette_group_dir(self) -> Path:
        group = self.options.cassette_group or _slug(self.collection.name)
        return self.options.cassette_dir / group

    def _save_recorded_environment(self) -> None:
        """Keep the non-secret variables of the recording (doctor_id, office_id...) beside its
        cassettes: a replay sends the same paths, with no sandbox or account to ask."""
        path = self._cassette_group_dir() / RECORDED_ENVIRONMENT
        if self.options.record_mode == "once" and path.exists():
            return
        names = set(self.scopes.environment) | set(self.scopes.environment_overrides)
        values = {
            name: value
            for name in sorted(names - NOT_RECORDED_VARIABLES)
            if not is_secret_name(name) and (value := self.scopes.lookup(name)) is not None
        }
        document = {
            "name": "recorded environment (non-secret values only)",
            "values": [{"key": k, "value": v, "enabled": True} for k, v in values.items()],
        }
        atomic_write_text(path, json.dumps(document, indent=2) + "\n")

    def _load_recorded_environment(self) -> None:
        path = self._cassette_group_dir() / RECORDED_ENVIRONMENT
        if path.exists():
            for name, value in load_variable_file(path, what="recorded environment").items():
                self.scopes.environment.setdefault(name, value)

    def _fill_replay_placeholders(self) -> None:
        """Cassettes hold no secrets, so replay needs none: give auth variables stand-in values."""
        auth_names = {
            name
            for item in self.collection.requests()
            if item.auth is not None
            for value in item.auth.params.values()
            for name in placeholders(str(value))
        } | {"refresh_token"}
        for name in auth_names:
            if self.scopes.lookup(name) is None:
                self.scopes.environment_overrides[name] = REPLAY_PLACEHOLDER

    def _default_rate_limit(self) -> str:
        """DrChrono's limits for DrChrono; none for the sandbox (in-process or on loopback)."""
        base_url = self.scopes.lookup("base_url") or ""
        return DRCHRONO_LIMITS if self.target == "live" and not is_loopback(base_url) else "none"

    def _load_contracts(self) -> Any:
        if self.options.contracts_dir is None:
            return None
        from harness.contracts import ContractSet

        return ContractSet.load(self.options.contracts_dir)

    def _open_token_store(self) -> Any:
        from harness.auth import TokenStore

        if self.target in ("replay", "sandbox") and self.options.token_store is None:
            # A fresh sandbox or a cassette must never read or rotate a user's real tokens.
            return TokenStore.in_memory()
        if self.options.token_store is not None:
            return TokenStore(self.options.token_store)
        return TokenStore.default()

    # --- transports ------------------------------------------------------------------------

    def _transport(self, cassette_name: str) -> httpx.BaseTransport:
        if self.options.record_mode is None and not self.options.replay:
            return self._base_transport
        from harness.cassettes import CassetteTransport, RecordMode, Scrubber

        if not hasattr(self, "_scrubber"):
            # The sandbox's random port would change every recorded URL: write a stable origin.
            origins = {self.sandbox.base_url: SANDBOX_ORIGIN} if self.sandbox is not None else None
            self._scrubber = Scrubber(secrets=self.secrets, origins=origins)
        mode = RecordMode.NONE if self.options.replay else RecordMode(self.options.record_mode)
        # Unit cassettes are named after their folder; token traffic has its own "_oauth" file.
        stem = cassette_name if cassette_name.startswith("_") else _slug(cassette_name)
        path = self._cassette_group_dir() / f"{stem}.yaml"
        transport = CassetteTransport(
            path, mode=mode, inner=self._base_transport, scrubber=self._scrubber
        )
        self.stack.callback(transport.close)
        return transport

    def _client(self, cassette_name: str) -> httpx.Client:
        client = httpx.Client(
            transport=self._transport(cassette_name),
            timeout=httpx.Timeout(self.options.timeout_request),
            follow_redirects=True,
        )
        self.stack.callback(client.close)
        return client

    def sender_for(self, unit: str) -> Sender:
        if unit not in self._senders:
            self._senders[unit] = Sender(
                self._client(unit),
                policy=RetryPolicy(retries=self.options.retries),
                limiter=self.rate_limiter,
            )
        return self._senders[unit]

    def tokens_for(self, params: Mapping[str, str]) -> TokenSource:
        from harness.auth import OAuth2Settings, TokenManager

        key = (
            params.get("tokenName", ""),
            params.get("clientId", ""),
            params.get("accessTokenUrl", ""),
        )
        with self._token_lock:
            manager = self._token_managers.get(key)
            if manager is None:
                for name in ("clientSecret", "refreshToken"):
                    self.secrets.add(params.get(name))
                refresh = self.scopes.lookup("refresh_token")
                self.secrets.add(refresh)
                manager = TokenManager(
                    OAuth2Settings.from_postman(params),
                    store=self._store,
                    client=self._client("_oauth"),
                    secrets=self.secrets,
                    refresh_token=refresh or None,
                )
                self._token_managers[key] = manager
            return manager

    # --- running ---------------------------------------------------------------------------

    def plan(self) -> list[RequestItem]:
        return self.collection.select(self.options.folders)

    def check_plan(self, items: Sequence[RequestItem]) -> None:
        names = {n for item in items for n in request_variables(item)}
        register_secrets(self.scopes, self.secrets, names)
        preflight(items, self.scopes)

    def run(self, items: Sequence[RequestItem], reporters: Sequence[Reporter]) -> RunSummary:
        rows = (
            load_iteration_data(self.options.iteration_data) if self.options.iteration_data else []
        )
        # Every row must define what the plan needs; check them all before sending anything.
        for row in rows or [{}]:
            self.scopes.data = dict(row)
            self.check_plan(items)
        runner = Runner(
            scopes=self.scopes,
            sender_for=self.sender_for,
            tokens_for=self.tokens_for,
            contracts=self.contracts,
            secrets=self.secrets,
            reporters=reporters,
            config=RunnerConfig(
                workers=self.options.workers,
                bail=self.options.bail,
                strict=self.options.strict,
                keep_bodies=self.options.keep_bodies,
                files_root=Path.cwd(),
                allow_outside_files=self.options.allow_outside_files,
            ),
            scripts=self.request_scripts(),
        )
        info = RunInfo(
            self.collection.name,
            self.target,
            len(items) * max(1, len(rows)),
            str(self.options.collection),
        )
        summary = runner.run(items, info, rows)
        summary.fatal = runner.fatal
        # --- Postman scripts: what did not run (all of them with --no-scripts) ---
        summary.not_run = (
            runner.scripts.not_run if runner.scripts else self.collection.not_run(items)
        )
        summary.coverage = self.coverage(runner.exercised)
        for reporter in reporters:
            reporter.finish(summary)
        return summary

    def request_scripts(self) -> RequestScripts | None:
        """What runs the collection's scripts around each request; None with ``--no-scripts``."""
        if not self.options.scripts.enabled:
            return None
        return RequestScripts(
            self.options.scripts,
            secrets=self.secrets,
            tokens_for=self.tokens_for,
            files_root=Path.cwd(),
            allow_outside_files=self.options.allow_outside_files,
        )

    def coverage(self, exercised: set[tuple[str, int]]) -> dict[str, Any]:
        """Contract coverage of a run, for its summary: data for machines plus a text table."""
        if self.contracts is None or not exercised:
            return {}
        coverage = self.contracts.coverage(exercised)
        return {**coverage.to_json(), "text": coverage.to_text()}


@contextlib.contextmanager
def open_session(options: RunOptions) -> Iterator[Session]:
    with contextlib.ExitStack() as stack:
        yield Session(options, stack)


def resolve_oauth2_params(
    collection_path: Path, environment_path: Path | None, env_vars: Mapping[str, str]
) -> dict[str, str]:
    """The collection's OAuth 2.0 attributes with variables resolved (for ``harness auth``)."""
    collection = load_collection(collection_path)
    options = RunOptions(
        collection=collection_path, environment=environment_path, env_vars=dict(env_vars)
    )
    scopes = load_scopes(collection, options)
    auth = collection.auth
    if auth is None or auth.type != "oauth2":
        auth = next(
            (r.auth for r in collection.requests() if r.auth and r.auth.type == "oauth2"), None
        )
    if auth is None:
        raise InputError(
            f"{collection_path} configures no OAuth 2.0 auth (collection, folder or request).",
            hint="Set Authorization > OAuth 2.0 on the collection in Postman and export it again.",
        )
    resolver = Resolver(scopes)
    params = {
        k: "" if v is None else str(resolver.resolve_any(v, "the collection's OAuth 2.0 settings"))
        for k, v in auth.params.items()
    }
    refresh = scopes.lookup("refresh_token")
    if refresh and not params.get("refreshToken"):
        params["refreshToken"] = refresh
    return params


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower() or "unnamed"


__all__ = ["RunOptions", "Session", "open_session", "os_env_name", "resolve_oauth2_params"]
