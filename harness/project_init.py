"""``harness init [DIR]``: a project of the user's own, ready for ``harness run`` and ``pytest``.

What it writes, and why each choice:

- ``collections/``: a **copy** of the shipped DrChrono collection, not a pointer. The collection
  is the project's test suite: the project edits it, reviews its changes in its own history, and
  a harness upgrade must not change what its CI runs.
- ``environments/``: the sandbox environment and a live template without any secret; live
  credentials come from ``DRCHRONO_CLIENT_ID``, ``DRCHRONO_CLIENT_SECRET`` and
  ``DRCHRONO_REFRESH_TOKEN`` (or the token store).
- contracts: a **pointer** to the shipped ones (no ``contracts`` setting): they describe
  DrChrono's API, not the project's tests, and are kept up to date with the harness. Set
  ``contracts`` to a directory of one's own to pin or correct them.
- ``scenarios/example.yaml`` (passes against the sandbox), ``cassettes/``, ``harness.toml`` (the
  settings; :mod:`harness.project_config`), and ``.github/workflows/drchrono-contracts.yml``.

Nothing is overwritten: when any of these files exists, nothing is written and the error names
them. Every file is written inside DIR.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness import paths
from harness.atomicfile import atomic_write_text
from harness.errors import EXIT_OK, HarnessError
from harness.project_config import CONFIG_FILE

COLLECTION = "collections/drchrono.postman_collection.json"
SANDBOX_ENVIRONMENT = "environments/sandbox.postman_environment.json"
LIVE_ENVIRONMENT = "environments/live.postman_environment.json"
EXAMPLE_SCENARIO = "scenarios/example.yaml"
CASSETTES_KEEP = "cassettes/.gitkeep"
WORKFLOW = ".github/workflows/drchrono-contracts.yml"

CONFIG_TEXT = f"""\
# drchrono-harness settings for this project. Paths are relative to this file; an option on
# the command line beats the setting. (The same keys may live in pyproject.toml under
# [tool.drchrono-harness] instead.)
collection = "{COLLECTION}"
environment = "{SANDBOX_ENVIRONMENT}"   # live: harness run -e {LIVE_ENVIRONMENT}
# contracts = "contracts"   # default: the DrChrono contracts shipped with the harness
cassette_dir = "cassettes"
scenarios_dir = "scenarios"       # the pytest plugin collects the scenarios here
record_mode = "none"              # none, replay, once, new_episodes, all, rewrite
# rate_limit = "9/s,500/h"  # default: DrChrono's limits live, none against the sandbox
"""

EXAMPLE_SCENARIO_TEXT = """\
# An example scenario: register a patient, read it back; the cleanup deletes it again.
# Run it with `harness run scenarios/` or with `pytest` (the format: drchrono-harness's
# docs/SCENARIOS.md). Names and dates are made up: never put real patient data here.
scenarios:
  - name: Register a patient
    tags: [example]
    variables:
      first_name: "{{ fake.first_name() }}"
      last_name: "{{ fake.last_name() }}"
    steps:
      - name: Create the patient
        request: Patients/Create patient
        json:
          first_name: "{{ first_name }}"
          last_name: "{{ last_name }}"
          date_of_birth: "1980-04-02"
          gender: Female
        expect:
          status: 201
          json: {first_name: "{{ first_name }}", last_name: "{{ last_name }}"}
        capture: {patient_id: "json: id"}
        cleanup: Patients/Delete patient

      - name: Read the patient back
        request: Patients/Retrieve patient
        expect:
          json: {id: "{{ patient_id }}", last_name: "{{ last_name }}"}
"""

WORKFLOW_TEXT = """\
# DrChrono contract tests. Every push and pull request: the recorded cassettes, in 3 shards
# (each also replays the folders its own need, such as a Setup), merged into one report (no
# network, no secrets). On schedule or by hand: live DrChrono.
# Record and commit the cassettes first: `harness run --record` (against the sandbox or live).
name: DrChrono contracts

on:
  push:
  pull_request:
  schedule:
    - cron: "17 6 * * 1-5"
  workflow_dispatch:

jobs:
  replay:
    runs-on: ubuntu-latest
    strategy:
      fail-fast: false
      matrix:
        shard: [1, 2, 3]
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - name: Install
        run: pip install "drchrono-harness[pytest]"   # pin the version your project tested
      - name: Run shard ${{ matrix.shard }}/3 from the cassettes
        run: >
          harness run --replay --shard ${{ matrix.shard }}/3
          --json reports/summary-${{ matrix.shard }}.json
          --junit reports/junit-${{ matrix.shard }}.xml
      - uses: actions/upload-artifact@v4
        if: always()   # a run that stopped on bad input (exit 2) still wrote its reports
        with:
          name: shard-${{ matrix.shard }}
          path: reports/

  report:
    needs: replay
    if: always()
    runs-on: ubuntu-latest
    permissions:
      checks: write
    steps:
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - run: pip install drchrono-harness
      - uses: actions/download-artifact@v4
        with:
          pattern: shard-*
          path: reports/
          merge-multiple: true
      - name: Merge the shards into one report
        run: >
          harness report merge reports/summary.json
          --json reports/summary-*.json
          --junit reports/junit.xml --html reports/report.html
      - uses: mikepenz/action-junit-report@v4
        if: always()
        with:
          report_paths: reports/junit.xml
      - uses: actions/upload-artifact@v4
        if: always()
        with:
          name: report
          path: reports/

  live:
    if: github.event_name == 'schedule' || github.event_name == 'workflow_dispatch'
    runs-on: ubuntu-latest
    # DrChrono rotates the refresh token on every refresh: one live run at a time, and the
    # rotated token kept for the next run in the token store (cached below).
    concurrency: drchrono-live
    permissions:
      checks: write
    env:
      DRCHRONO_CLIENT_ID: ${{ secrets.DRCHRONO_CLIENT_ID }}
      DRCHRONO_CLIENT_SECRET: ${{ secrets.DRCHRONO_CLIENT_SECRET }}
      # Only for the very first run: afterwards the cached token store holds the rotated one.
      DRCHRONO_REFRESH_TOKEN: ${{ secrets.DRCHRONO_REFRESH_TOKEN }}
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - name: Install
        run: pip install "drchrono-harness[pytest]"
      - name: Restore the token store
        uses: actions/cache/restore@v4
        with:
          path: .cache/drchrono-tokens.json
          key: drchrono-tokens-${{ github.run_id }}
          restore-keys: drchrono-tokens-
      - name: Run against live DrChrono
        run: >
          harness run -e environments/live.postman_environment.json
          --token-store .cache/drchrono-tokens.json
          --json reports/summary.json --junit reports/junit.xml
      - name: Save the rotated token store (a new key each run, as caches are immutable)
        if: always()
        uses: actions/cache/save@v4
        with:
          path: .cache/drchrono-tokens.json
          key: drchrono-tokens-${{ github.run_id }}
      # To shard live runs, refresh once in a first job and hand the short-lived access token
      # to the shards (`harness auth export-access-token`, DRCHRONO_ACCESS_TOKEN): see the
      # harness README. Shards that each refreshed would race for the one refresh token, and
      # each shard runs the setup folders its folders need: records a setup creates with fixed
      # values (a patient, an appointment slot) would collide between live shards.
      - uses: mikepenz/action-junit-report@v4
        if: always()
        with:
          report_paths: reports/junit.xml
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "init",
        help="start a project of your own: collection, environments, scenarios, settings, CI",
        description="Write a DrChrono test project into DIR: a copy of the DrChrono collection, "
        "the sandbox environment and a live template (no secrets), an example scenario, "
        "cassettes/, harness.toml (the settings) and a GitHub Actions workflow. Existing files "
        "are never overwritten: if any would be, nothing is written.",
    )
    parser.add_argument(
        "directory",
        nargs="?",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="the project directory (default: the current directory; created if missing)",
    )
    parser.set_defaults(func=cmd_init)


def project_files() -> dict[str, str]:
    """Each file ``harness init`` writes (relative path) and its text."""
    return {
        CONFIG_FILE: CONFIG_TEXT,
        COLLECTION: paths.DEFAULT_COLLECTION.read_text(encoding="utf-8"),
        SANDBOX_ENVIRONMENT: paths.SANDBOX_ENVIRONMENT.read_text(encoding="utf-8"),
        LIVE_ENVIRONMENT: paths.LIVE_ENVIRONMENT.read_text(encoding="utf-8"),
        EXAMPLE_SCENARIO: EXAMPLE_SCENARIO_TEXT,
        CASSETTES_KEEP: "",
        WORKFLOW: WORKFLOW_TEXT,
    }


def init_project(directory: Path) -> list[Path]:
    """Write the project into ``directory``; the files written. Refuses (writing nothing) when
    any of them exists, or would land outside ``directory`` (a symbolic link leading out)."""
    if directory.exists() and not directory.is_dir():
        raise HarnessError(
            f"harness init: {directory} is a file, not a directory.",
            hint="Give the directory the project goes in.",
        )
    files = project_files()
    root = directory.resolve()
    existing = [name for name in files if (directory / name).exists()]
    if existing:
        raise HarnessError(
            f"harness init: {directory} already has {', '.join(existing)}; nothing was written "
            f"(it would have written {', '.join(files)}).",
            hint="Move those files away, or run `harness init` in another directory.",
        )
    outside = [name for name in files if not (directory / name).resolve().is_relative_to(root)]
    if outside:
        raise HarnessError(
            f"harness init: {', '.join(outside)} would be written outside {directory} (a "
            "symbolic link leads out); nothing was written.",
            hint="Run `harness init` in a directory without such links.",
        )
    written = []
    for name, text in files.items():
        target = directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(target, text)
        written.append(target)
    return written


def cmd_init(args: argparse.Namespace) -> int:
    directory: Path = args.directory
    for path in init_project(directory):
        print(f"wrote {path}")
    where = "" if directory == Path(".") else f"cd {directory} && "
    print(
        f"Next: `{where}harness run` runs the collection against the local sandbox, `pytest` "
        "runs the scenarios; harness.toml holds the settings."
    )
    return EXIT_OK
