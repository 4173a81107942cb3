"""What a run was asked to do: the command line's (or the pytest plugin's) options."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness import paths
from harness.exchange import ExchangeSettings
from harness.scripting.hooks import ScriptSettings


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

    def exchange_settings(self) -> ExchangeSettings:
        return ExchangeSettings(
            strict=self.strict,
            keep_bodies=self.keep_bodies,
            files_root=Path.cwd(),
            allow_outside_files=self.allow_outside_files,
        )
