"""Time per request when replaying cassettes, next to the same run against the sandbox.

    .venv/bin/python benchmarks/bench_replay.py [--rounds 5]

Replays the shipped cassettes (``cassettes/``) of the DrChrono collection. When none are shipped,
it first records a fresh set from the local sandbox into a temporary directory and replays those.
Each replay round is what ``harness run --replay`` does after start-up: open a session (cassettes
are read as each folder starts), run the collection, close. Timed, median of the rounds: the whole
round, the run alone, and the run without contract checks; for comparison, the same collection
against an in-process sandbox. The target is to report the time per request; the check is that
every request was answered from a cassette.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from _common import machine, table, timed, verdict

from harness import paths
from harness.results import RunSummary
from harness.session import RunOptions, open_session


def shipped_cassettes() -> Path | None:
    found = any(paths.CASSETTES_DIR.rglob("*.yaml")) if paths.CASSETTES_DIR.is_dir() else False
    return paths.CASSETTES_DIR if found else None


@dataclass
class Rounds:
    """What the rounds of one kind of run measured."""

    run_s: list[float] = field(default_factory=list)  # session.run alone
    summaries: list[RunSummary] = field(default_factory=list)

    def round(self, options: RunOptions) -> None:
        """Open a session, run the collection, close: one ``harness run`` after start-up."""
        with open_session(options) as session:
            items = session.plan()
            started = time.perf_counter()
            self.summaries.append(session.run(items, []))
            self.run_s.append(time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"bench_replay ({machine()})")
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as tmp:
        cassette_dir = shipped_cassettes()
        source = f"shipped cassettes in {cassette_dir}"
        recorded: tuple[RunSummary, float] | None = None
        if cassette_dir is None:
            cassette_dir = Path(tmp) / "cassettes"
            recording = Rounds()
            recording.round(
                RunOptions(
                    environment=paths.SANDBOX_ENVIRONMENT,
                    record_mode="once",
                    cassette_dir=cassette_dir,
                )
            )
            recorded = (recording.summaries[0], recording.run_s[0])
            source = "no shipped cassettes: recorded a fresh set from the sandbox"
        files = sorted(cassette_dir.rglob("*.yaml"))
        size_kb = sum(f.stat().st_size for f in files) / 1024

        rows: dict[str, tuple[list[float], int]] = {}
        results: list[RunSummary] = []
        for label, contracts in (("with contracts", True), ("no contracts", False)):
            options = RunOptions(
                replay=True,
                cassette_dir=cassette_dir,
                contracts_dir=paths.CONTRACTS_DIR if contracts else None,
            )
            Rounds().round(options)  # warm up: imports and the page cache (a CLI run pays these)
            replay = Rounds()
            totals = [timed(partial(replay.round, options)) for _ in range(args.rounds)]
            planned = replay.summaries[-1].total
            results += replay.summaries
            rows[f"replay {label}: session + run"] = (totals, planned)
            rows[f"replay {label}: run only"] = (replay.run_s, planned)

        live = Rounds()
        for _ in range(args.rounds):
            live.round(RunOptions(environment=paths.SANDBOX_ENVIRONMENT))
        rows["sandbox in-process (no cassettes): run only"] = (live.run_s, live.summaries[-1].total)

    print(f"\n{source}: {len(files)} files, {size_kb:.0f} KB; {args.rounds} rounds")
    table_rows = [
        (
            name,
            planned,
            f"{statistics.median(s):.3f}",
            f"{statistics.median(s) / planned * 1000:.1f}",
            f"{min(s):.3f}-{max(s):.3f}",
        )
        for name, (s, planned) in rows.items()
    ]
    if recorded is not None:
        summary, seconds = recorded
        table_rows.insert(
            0,
            (
                "recording from the sandbox (once)",
                summary.total,
                f"{seconds:.3f}",
                f"{seconds / summary.total * 1000:.1f}",
                "-",
            ),
        )
    print(table(["run", "requests", "median s", "ms/request", "best-worst s"], table_rows))
    replayed = all(r.errors == 0 and r.total > 0 for r in results)
    per_request = statistics.median(rows["replay with contracts: session + run"][0]) / max(
        1, rows["replay with contracts: session + run"][1]
    )
    print()
    print(
        table(
            ["target", "measured", "result"],
            [
                (
                    "report replay time per request (session + run, with contracts)",
                    f"{per_request * 1000:.1f} ms",
                    "REPORTED",
                ),
                (
                    "every request answered from a cassette (no errors)",
                    f"{sum(r.total for r in results)} replayed",
                    verdict(replayed),
                ),
            ],
        )
    )


if __name__ == "__main__":
    main()
