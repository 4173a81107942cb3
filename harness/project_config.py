"""A user's project settings: ``[tool.drchrono-harness]`` in pyproject.toml, or ``harness.toml``.

Found as pytest finds its rootdir: from the working directory upwards, the first directory with a
``harness.toml`` (top-level keys) or a ``pyproject.toml`` that has a ``[tool.drchrono-harness]``
table (a pyproject.toml without one does not stop the search). ``harness.toml`` wins when a
directory has both. The settings are defaults: an option given on the command line beats them.
Paths are relative to the file that names them, never to the working directory or to where the
harness is installed, so ``harness run`` means the same thing from any sub-directory.

A bad file is one :class:`~harness.errors.HarnessError` (exit 2) naming the file and the key.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError, InputError
from harness.ratelimit import ClientRateLimiter

CONFIG_FILE = "harness.toml"
PYPROJECT_FILE = "pyproject.toml"
TABLE = "drchrono-harness"  # [tool.drchrono-harness] in pyproject.toml
RECORD_MODES = ("once", "new_episodes", "all", "rewrite")
# "none": no cassettes (the default); a recording mode records; "replay" replays, network blocked.
CONFIG_RECORD_MODES = ("none", "replay", *RECORD_MODES)

# key -> what it holds, for the error that lists the keys.
PATH_KEYS = {
    "collection": "the Postman collection `harness run` runs with no PATH",
    "environment": "the Postman environment used when no -e is given",
    "contracts": "the contracts directory (default: the shipped DrChrono contracts)",
    "cassette_dir": "where cassettes are recorded and replayed",
    "scenarios_dir": "the scenario files the pytest plugin collects",
}
TEXT_KEYS = {
    "record_mode": f"cassettes when neither --record nor --replay is given: {', '.join(CONFIG_RECORD_MODES)}",
    "rate_limit": "the client-side rate limit, like '9/s,500/h' or 'none'",
}


@dataclass(frozen=True)
class ProjectConfig:
    """The settings of one project; every field None when unset (or no file was found)."""

    file: Path | None = None
    collection: Path | None = None
    environment: Path | None = None
    contracts: Path | None = None
    cassette_dir: Path | None = None
    scenarios_dir: Path | None = None
    record_mode: str | None = None
    rate_limit: str | None = None


def find_config_file(start: Path) -> tuple[Path, Mapping[str, object]] | None:
    """The project's settings file from ``start`` upwards and its harness table, or None."""
    for directory in (start.resolve(), *start.resolve().parents):
        own = directory / CONFIG_FILE
        if own.is_file():
            return own, _read_toml(own)
        pyproject = directory / PYPROJECT_FILE
        if pyproject.is_file():
            tool = _read_toml(pyproject).get("tool")
            if isinstance(tool, dict) and TABLE in tool:
                table = tool[TABLE]
                if not isinstance(table, dict):
                    raise _bad(pyproject, f"[tool.{TABLE}]", "is not a table")
                return pyproject, table
    return None


def load_project_config(start: Path | None = None) -> ProjectConfig:
    """The settings of the project ``start`` (default: the working directory) is in."""
    found = find_config_file(Path.cwd() if start is None else start)
    if found is None:
        return ProjectConfig()
    file, table = found
    where = "" if file.name == CONFIG_FILE else f"[tool.{TABLE}]."
    locations: dict[str, Path] = {}
    texts: dict[str, str] = {}
    for key, value in table.items():
        if key not in PATH_KEYS and key not in TEXT_KEYS:
            known = ", ".join([*PATH_KEYS, *TEXT_KEYS])
            raise _bad(file, f"{where}{key}", f"is not a setting (the settings are: {known})")
        if not isinstance(value, str) or not value.strip():
            raise _bad(file, f"{where}{key}", f"must be a non-empty string ({_describe(key)})")
        if key in PATH_KEYS:
            locations[key] = file.parent / value
        else:
            texts[key] = value.strip()
    record_mode = texts.get("record_mode")
    if record_mode is not None and record_mode not in CONFIG_RECORD_MODES:
        raise _bad(file, f"{where}record_mode", f"is {record_mode!r}; {_describe('record_mode')}")
    rate_limit = texts.get("rate_limit")
    if rate_limit is not None:
        try:
            ClientRateLimiter.parse(rate_limit)
        except InputError:
            raise _bad(
                file, f"{where}rate_limit", f"is {rate_limit!r}; {_describe('rate_limit')}"
            ) from None
    return ProjectConfig(
        file=file,
        collection=locations.get("collection"),
        environment=locations.get("environment"),
        contracts=locations.get("contracts"),
        cassette_dir=locations.get("cassette_dir"),
        scenarios_dir=locations.get("scenarios_dir"),
        record_mode=record_mode,
        rate_limit=rate_limit,
    )


def _read_toml(file: Path) -> dict[str, object]:
    import tomllib

    try:
        with file.open("rb") as stream:
            return tomllib.load(stream)
    except tomllib.TOMLDecodeError as exc:
        raise HarnessError(
            f"{file}: not valid TOML ({exc}).",
            hint="Fix the file; the harness reads its settings from it.",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise HarnessError(f"{file}: cannot be read ({exc}).") from None


def _describe(key: str) -> str:
    return PATH_KEYS.get(key) or TEXT_KEYS[key]


def _bad(file: Path, key: str, problem: str) -> HarnessError:
    return HarnessError(
        f"{file}: setting '{key}' {problem}.",
        hint="Fix or remove the setting; options on the command line beat the file's settings.",
    )


def fill_run_defaults(args: argparse.Namespace, config: ProjectConfig) -> None:
    """Give ``harness run``'s options the project's settings where the command line left them
    unset, then the harness's own defaults (the shipped collection and contracts, ./cassettes)."""
    from harness import paths

    args.default_collection = config.collection or paths.DEFAULT_COLLECTION
    if args.cassette_dir is None:
        args.cassette_dir = config.cassette_dir or paths.CASSETTES_DIR
    if args.contracts_dir is None:
        args.contracts_dir = config.contracts or paths.CONTRACTS_DIR
    if args.rate_limit is None:
        args.rate_limit = config.rate_limit
    if args.record is None and not args.replay and config.record_mode not in (None, "none"):
        if config.record_mode == "replay":
            args.replay = True
        else:
            args.record = config.record_mode
    if args.environment is None and not args.replay:
        args.environment = config.environment
