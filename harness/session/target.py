"""Where a run goes: the in-process sandbox, live DrChrono, or a replay of cassettes.

Also the recorded environment kept beside a recording (non-secret values a replay needs) and the
stand-in values a replay gives auth variables. The only module that imports the sandbox.
"""

from __future__ import annotations

import contextlib
import datetime
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import paths
from harness.atomicfile import atomic_write_text
from harness.collection import Collection
from harness.errors import InputError
from harness.loopback import is_loopback_url
from harness.ratelimit import DRCHRONO_LIMITS
from harness.redaction import SecretRegistry
from harness.run_context import SandboxControl
from harness.session.options import RunOptions
from harness.variables import Scopes, is_secret_name, load_variable_file, placeholders

if TYPE_CHECKING:
    from drchrono_sandbox import Sandbox
    from harness.cassettes import Scrubber

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
RECORDED_ENVIRONMENT = "_environment.json"
# Where the recording ran is not worth keeping (replays ignore hosts), nor whose app it was.
NOT_RECORDED_VARIABLES = {"base_url", "auth_base_url", "client_id", TARGET_VARIABLE}
SANDBOX_ANCHOR_DAY = datetime.date(2026, 1, 5)


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


@dataclass(frozen=True)
class RunTarget:
    kind: str  # "sandbox", "live" or "replay"
    sandbox: SandboxControl | None = None


def open_target(
    collection: Collection,
    scopes: Scopes,
    options: RunOptions,
    stack: contextlib.ExitStack,
    cassette_group_dir: Path,
) -> RunTarget:
    """Pick the target, start the sandbox if it is one, and fill in the variables it implies."""
    kind = target_of(scopes, options)
    sandbox: SandboxControl | None = None
    if kind == "sandbox":
        sandbox = start_sandbox(stack, scopes, options)
    elif kind == "replay":
        _load_recorded_environment(cassette_group_dir, scopes)
        _fill_replay_placeholders(collection, scopes)
    return RunTarget(kind, sandbox)


class _SandboxAdapter:
    """The :class:`SandboxControl` of an in-process :class:`drchrono_sandbox.Sandbox`."""

    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox

    @property
    def base_url(self) -> str:
        return self._sandbox.base_url

    def environment(self) -> dict[str, str]:
        return self._sandbox.environment()

    def expire_access_tokens(self) -> None:
        self._sandbox.expire_access_tokens()

    def issue_refresh_token(self, scopes: Sequence[str] | None = None) -> str:
        return self._sandbox.issue_refresh_token(scopes=None if scopes is None else list(scopes))

    def revoke(self, token: str) -> bool:
        return self._sandbox.revoke(token)

    def inject_fault(self, args: Mapping[str, Any]) -> None:
        from drchrono_sandbox.errors import SandboxError

        try:
            self._sandbox.faults.inject(**args)
        except SandboxError as exc:  # the sandbox's own error, as the harness's input error
            raise InputError(exc.message, hint=exc.hint) from exc

    def clear_faults(self) -> None:
        self._sandbox.faults.clear()


def start_sandbox(
    stack: contextlib.ExitStack, scopes: Scopes, options: RunOptions
) -> SandboxControl:
    from drchrono_sandbox import Sandbox, SandboxConfig, SandboxError

    # A fixed seed and anchor day make the sandbox's data, and so recordings, repeatable. The
    # harness hands the sandbox the DrChrono data it ships itself (the sandbox imports no harness).
    config = SandboxConfig(
        seed=0,
        anchor_date=SANDBOX_ANCHOR_DAY,
        openapi_document=paths.OPENAPI_DOCUMENT,
        contracts_dir=paths.CONTRACTS_DIR,
    )
    try:
        sandbox = Sandbox(config, host="127.0.0.1", port=0)
        stack.enter_context(sandbox)
    except SandboxError as exc:  # the sandbox's own error, as the harness's input error
        raise InputError(exc.message, hint=exc.hint) from exc
    values = sandbox.environment()
    # Sandbox values beat the file (it has none) but not --env-var.
    for name, value in values.items():
        scopes.environment[name] = value
        if name in SANDBOX_VARIABLES and name not in options.env_vars:
            # OS DRCHRONO_* variables are for live DrChrono; they must not steer the sandbox.
            scopes.environment_overrides[name] = value
    return _SandboxAdapter(sandbox)


def save_recorded_environment(
    group_dir: Path,
    scopes: Scopes,
    options: RunOptions,
    *,
    withheld: set[str],
    secrets: SecretRegistry,
    scrubber: Scrubber,
) -> None:
    """Keep the plain variables of the recording (doctor_id, office_id...) beside its
    cassettes: a replay sends the same paths, with no sandbox or account to ask.

    Called when the session closes: by then the run has shown which values it used as
    credentials (query keys, auth blocks) and which were patient data. Only what replay needs is
    kept, and it is committed, so nothing secret or personal: not a variable in ``withheld``
    (Postman's secret type, those an auth block uses: replay fills those with stand-ins), nor
    one whose name says secret, nor a value the run used as a credential anywhere (a query
    ``key``, a password in a URL), nor one that looks like a credential or patient data (the
    cassette scanner's rules). Patient values (under PHI names, or seen in PHI fields during the
    run) are written as their pseudonyms: replay matches PHI query values by presence, and the
    cassettes hold the same pseudonyms.
    """
    from harness.cassettes.scan import scan_text
    from harness.cassettes.scrub import PLACEHOLDER

    path = group_dir / RECORDED_ENVIRONMENT
    if options.record_mode == "once" and path.exists():
        return
    fields = scrubber.fields
    names = set(scopes.environment) | set(scopes.environment_overrides)
    values: dict[str, str] = {}
    for name in sorted(names - NOT_RECORDED_VARIABLES - withheld):
        value = scopes.lookup(name)
        if value is None or is_secret_name(name) or fields.is_secret_key(name):
            continue
        if secrets.find_in(value) or scrubber.is_known_secret(value):
            continue
        if fields.phi_kind(name) is not None:
            value = str(scrubber.scrub_json({name: value})[name])
        else:
            value = scrubber.scrub_text(value)  # patient values the run saw: pseudonyms
        if PLACEHOLDER.search(value) or scan_text(f"{name}: {value}", fields, RECORDED_ENVIRONMENT):
            continue  # held a secret, or shaped like a credential, an SSN, a real e-mail
        values[name] = value
    document = {
        "name": "recorded environment (non-secret values only)",
        "values": [{"key": k, "value": v, "enabled": True} for k, v in values.items()],
    }
    atomic_write_text(path, json.dumps(document, indent=2) + "\n")


def _load_recorded_environment(group_dir: Path, scopes: Scopes) -> None:
    path = group_dir / RECORDED_ENVIRONMENT
    if path.exists():
        for name, value in load_variable_file(path, what="recorded environment").items():
            scopes.environment.setdefault(name, value)


def auth_variable_names(collection: Collection) -> set[str]:
    """Variables any auth block of the collection uses: credentials whatever their names."""
    return {
        name
        for item in collection.requests()
        if item.auth is not None
        for value in item.auth.params.values()
        for name in placeholders(str(value))
    }


def _fill_replay_placeholders(collection: Collection, scopes: Scopes) -> None:
    """Cassettes hold no secrets, so replay needs none: give auth variables stand-in values,
    and DrChrono's app the client that blocks without one of their own take."""
    for name in auth_variable_names(collection) | {"refresh_token", "client_id", "client_secret"}:
        if scopes.lookup(name) is None:
            scopes.environment_overrides[name] = REPLAY_PLACEHOLDER


def default_rate_limit(target: str, scopes: Scopes) -> str:
    """DrChrono's limits for DrChrono; none for the sandbox (in-process or on loopback)."""
    base_url = scopes.lookup("base_url") or ""
    return DRCHRONO_LIMITS if target == "live" and not is_loopback_url(base_url) else "none"
