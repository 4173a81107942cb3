"""Peak memory of a 5,000-request run with the JUnit and JSON reporters on, and whether it is flat.

    .venv/bin/python benchmarks/bench_memory.py [--requests 5000]

A synthetic collection (folders of 100 GETs, contracts on) runs against the static server (its own
process on 127.0.0.1, answering with a real 8 KB sandbox patient record). After a warm-up run
(connections, compiled schemas), the same session runs 1,000 and then 5,000 requests:

* first plainly, reading the process's peak RSS (``ru_maxrss``, a high-water mark) after each run
  and its current RSS: if memory is flat, the 5,000 run barely raises the peak set by the 1,000 run;
* then under ``tracemalloc``, whose peak is what the run itself allocated at most.

Targets: peak RSS of the whole process through the 5,000-request run under 100 MiB, and memory
flat between 1,000 and 5,000 requests (the 5,000 run's traced peak within 2 MiB of the 1,000 run's).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path

from _common import (
    machine,
    rss_mib,
    rss_now_mib,
    sample_patient,
    static_server,
    synthetic_collection,
    table,
    verdict,
    write_environment,
)

from harness.reporters import JsonReporter, JUnitReporter
from harness.results import Reporter, RunSummary
from harness.session import RunOptions, Session, open_session

PER_FOLDER = 100
LIMIT_MIB = 100.0
FLAT_MIB = 2.0
MIB = 1024 * 1024


def peak_rss() -> float:
    # ru_maxrss is updated lazily and can trail the current RSS by a few pages.
    return max(rss_mib(), rss_now_mib())


def run(session: Session, workdir: Path, size: int) -> tuple[RunSummary, float]:
    """Run the first ``size`` requests of the plan with both file reporters; (summary, seconds)."""
    items = session.plan()[:size]
    reporters: list[Reporter] = [
        JUnitReporter(workdir / f"junit-{size}.xml"),
        JsonReporter(workdir / f"{size}.json"),
    ]
    started = time.perf_counter()
    summary = session.run(items, reporters)
    seconds = time.perf_counter() - started
    if not summary.ok or summary.total != size:
        raise RuntimeError(f"run of {size} was not clean: {summary}")
    return summary, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--small", type=int, default=1000)
    args = parser.parse_args()
    print(f"bench_memory ({machine()})")
    sizes = (args.small, args.requests)
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        workdir = Path(tmp)
        body = sample_patient(workdir)
        with static_server(body, workdir) as server:
            folders = [
                [f"/api/patients/{f}" for _ in range(PER_FOLDER)]
                for f in range(-(-args.requests // PER_FOLDER))
            ]
            collection = synthetic_collection(workdir / "collection.json", folders, oauth2=False)
            environment = write_environment(workdir / "env.json", {"base_url": server.base_url})
            options = RunOptions(
                collection=collection,
                environment=environment,
                rate_limit="none",
                token_store=workdir / "tokens.json",
            )
            with open_session(options) as session:
                run(session, workdir, 200)  # warm up
                baseline_peak, baseline_now = peak_rss(), rss_now_mib()
                plain = {}
                for size in sizes:
                    _, seconds = run(session, workdir, size)
                    plain[size] = (peak_rss(), rss_now_mib(), seconds)
                tracemalloc.start()
                traced = {}
                for size in sizes:
                    tracemalloc.reset_peak()
                    before = tracemalloc.get_traced_memory()[0]
                    run(session, workdir, size)
                    now, peak = tracemalloc.get_traced_memory()
                    traced[size] = ((peak - before) / MIB, (now - before) / MIB)
                tracemalloc.stop()
            report_kb = {
                s: (
                    (workdir / f"junit-{s}.xml").stat().st_size // 1024,
                    (workdir / f"{s}.json").stat().st_size // 1024,
                )
                for s in sizes
            }

    print(f"\nafter warm-up: peak RSS {baseline_peak:.1f} MiB, current RSS {baseline_now:.1f} MiB")
    print(
        table(
            [
                "requests",
                "req/s",
                "peak RSS MiB",
                "peak RSS growth MiB",
                "current RSS MiB",
                "traced peak MiB",
                "traced left MiB",
                "JUnit / JSON KB",
            ],
            [
                (
                    size,
                    f"{size / plain[size][2]:.0f}",
                    f"{plain[size][0]:.1f}",
                    f"{plain[size][0] - baseline_peak:+.1f}",
                    f"{plain[size][1]:.1f}",
                    f"{traced[size][0]:.2f}",
                    f"{traced[size][1]:+.2f}",
                    f"{report_kb[size][0]} / {report_kb[size][1]}",
                )
                for size in sizes
            ],
        )
    )
    small, large = sizes
    largest_rss = plain[large][0]
    growth = traced[large][0] - traced[small][0]
    print()
    print(
        table(
            ["target", "measured", "result"],
            [
                (
                    f"peak RSS through a {large}-request run < {LIMIT_MIB:.0f} MiB",
                    f"{largest_rss:.1f} MiB",
                    verdict(largest_rss < LIMIT_MIB),
                ),
                (
                    f"flat: traced peak at {large} within {FLAT_MIB:.0f} MiB of {small}",
                    f"{traced[small][0]:.2f} -> {traced[large][0]:.2f} MiB ({growth:+.2f})",
                    verdict(growth <= FLAT_MIB),
                ),
                (
                    f"flat: peak RSS rise from {small} to {large} requests",
                    f"{plain[large][0] - plain[small][0]:+.1f} MiB",
                    verdict(plain[large][0] - plain[small][0] <= FLAT_MIB),
                ),
            ],
        )
    )


if __name__ == "__main__":
    main()
