"""What a run was asked to do: the command line's (or the pytest plugin's) options."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness import paths
from harness.exchange import ExchangeSettings
from harness.scripting.hooks import ScriptSettings
from harness.sharding import Shard


@dataclass(frozen=True)
class TlsOptions:
    """How certificates are checked and presented (Newman's ``-k`` and ``--ssl-*``)."""

    insecure: bool = False  # -k: no certificate checks for any request
    client_cert: Path | None = None  # PEM certificate (chain) shown to servers that ask (mTLS)
    client_key: Path | None = None  # its PEM private key, when not in the certificate file
    client_passphrase: str | None = None  # the private key's passphrase (registered as a secret)
    extra_ca_certs: Path | None = None  # PEM CA bundle trusted beside the system's


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
    # --fill-placeholders: values for a converter's <type> placeholders (harness.fill): None (not
    # filled), "own" (updates and deletes on records the run makes) or "existing" (also on the
    # target's own records, where the run cannot make one)
    fill_placeholders: str | None = None
    # An access token obtained elsewhere and where it came from (--access-token-env/-file): every
    # OAuth 2.0 request carries it and nothing is refreshed. None: DRCHRONO_ACCESS_TOKEN (live).
    access_token: tuple[str, str] | None = field(default=None, repr=False)
    shard: Shard | None = None  # --shard K/N: run only this shard's folders or scenarios
    # Newman's run options (issue #14):
    iteration_count: int | None = None  # -n: passes; with -d, the last row repeats past the end
    delay_request_s: float = 0.0  # --delay-request: pause between two requests
    run_timeout_s: float | None = None  # --timeout: the whole run's time limit (None: none)
    follow_redirects: bool = True  # False with --ignore-redirects (a request's own setting wins)
    tls: TlsOptions = field(default_factory=TlsOptions)  # -k, --ssl-*
    global_vars: dict[str, str] = field(default_factory=dict)  # --global-var, beats -g's file
    working_dir: Path | None = None  # --working-dir: where file bodies resolve (None: cwd)
    # --strict-variables: refuse a run whose requests use a variable nothing defines (by
    # default such a '{{name}}' is sent as written, as Newman does, after a warning).
    strict_variables: bool = False

    @property
    def files_root(self) -> Path:
        """Where collection and script file paths resolve from (and must stay inside)."""
        return self.working_dir if self.working_dir is not None else Path.cwd()

    def exchange_settings(self) -> ExchangeSettings:
        return ExchangeSettings(
            strict=self.strict,
            keep_bodies=self.keep_bodies,
            files_root=self.files_root,
            allow_outside_files=self.allow_outside_files,
        )
