"""Whole processes, as a user runs them: start-up, and a run's throughput against a plain httpx loop.

    .venv/bin/python benchmarks/bench_process.py [--rounds 5] [--requests 5000]

Unlike bench_throughput.py (which times runs inside one warmed-up process), every figure here
includes the interpreter start, the imports, loading the collection and contracts, and writing
the console output: what `harness run` costs end to end. One static server (its own process on
127.0.0.1, one fixed patient record for every request) serves every contender:

* ``harness --version`` (the console script), and ``python -c pass`` as the interpreter's floor;
* a plain ``httpx.Client`` loop process sending the same GET requests one after another;
* ``harness run --no-scripts`` of a synthetic collection of those requests, with contracts (the
  default) and with ``--no-contracts``: the harness's own cost, which the targets are about;
* the default run, which also runs each request's one-line test script in the JavaScript engine.

The contenders run in interleaved rounds (a noisy neighbour hits each alike) and the median round
counts. stdout goes to a pipe that is drained, as in CI, with ``PYTHONUNBUFFERED=1`` (common in
CI) and byte-code caching on (a warm-up round writes the .pyc files, as any installed package has
them). Targets (issue #13): ``harness --version``
under 0.25 s; the harness at >= 0.6x the plain loop's throughput with contracts, >= 0.75x without.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from _common import (
    API_HEADERS,
    machine,
    sample_patient,
    split,
    static_server,
    synthetic_collection,
    table,
    timed,
    verdict,
    write_environment,
)

FOLDERS = 24
VERSION_TARGET_S = 0.25
CONTRACTS_TARGET = 0.6
NO_CONTRACTS_TARGET = 0.75
BIN = Path(sys.executable).parent
CHILD_ENV = {
    **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    "PYTHONUNBUFFERED": "1",
}

PLAIN_LOOP = """
import sys, httpx
urls = open(sys.argv[1]).read().split()
with httpx.Client(headers={headers!r}) as client:
    for url in urls:
        if client.get(url).status_code != 200:
            sys.exit(f"plain loop: {{url}} did not answer 200")
"""


@dataclass
class Contender:
    name: str
    command: list[str]
    seconds: list[float] = field(default_factory=list)

    def run(self, workdir: Path) -> None:
        done = subprocess.run(
            self.command, cwd=workdir, capture_output=True, text=True, env=CHILD_ENV
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{self.name} exited {done.returncode}: {(done.stderr or done.stdout)[-500:]}"
            )

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def contenders(workdir: Path, base_url: str, requests: int) -> list[Contender]:
    api_paths = [f"/api/patients/{i}" for i in range(requests)]
    collection = synthetic_collection(
        workdir / "collection.json", split(api_paths, FOLDERS), oauth2=False
    )
    environment = write_environment(workdir / "environment.json", {"base_url": base_url})
    urls = workdir / "urls.txt"
    urls.write_text("\n".join(base_url + p for p in api_paths))
    run = [
        str(BIN / "harness"),
        "run",
        str(collection),
        "-e",
        str(environment),
        "--rate-limit",
        "none",
        "--token-store",
        str(workdir / "tokens.json"),
    ]
    plain = [sys.executable, "-c", PLAIN_LOOP.format(headers=API_HEADERS), str(urls)]
    return [
        Contender("python -c pass (floor)", [sys.executable, "-c", "pass"]),
        Contender("harness --version", [str(BIN / "harness"), "--version"]),
        Contender(f"plain httpx loop, {requests} GETs", plain),
        # The targets compare the harness's own work with the plain loop, which runs no
        # JavaScript: they are judged with --no-scripts. The default run (each request's one-line
        # test script in a fresh QuickJS context) is shown beside them.
        Contender("harness run + contracts", [*run, "--no-scripts"]),
        Contender("harness run --no-contracts", [*run, "--no-scripts", "--no-contracts"]),
        Contender("harness run + contracts + scripts", run),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=5000)
    args = parser.parse_args()

    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="bench-process-") as tmp:
        workdir = Path(tmp)
        body = sample_patient(workdir)
        with static_server(body, workdir) as server:
            contestants = contenders(workdir, server.base_url, args.requests)
            for contender in contestants:  # warm up: page cache, .pyc files, the token store
                contender.run(workdir)
            for _ in range(args.rounds):
                for contender in contestants:
                    contender.seconds.append(timed(partial(contender.run, workdir)))
                loads.append(os.getloadavg()[0])

    by_name = {c.name: c for c in contestants}
    plain = by_name[f"plain httpx loop, {args.requests} GETs"].median
    print(f"{machine()}; load average (1 min) during the rounds {min(loads):.2f}-{max(loads):.2f}")
    print(f"{args.rounds} interleaved rounds, median; whole processes, stdout to a drained pipe\n")
    rows = []
    for c in contestants:
        sends = c.name.startswith(("plain", "harness run"))
        rows.append(
            (
                c.name,
                f"{c.median:.3f}",
                f"{args.requests / c.median:.0f}" if sends else "",
                f"{plain / c.median:.2f}x" if sends else "",
                f"{min(c.seconds):.3f}-{max(c.seconds):.3f}",
            )
        )
    print(table(["process", "median s", "req/s", "throughput vs plain", "best-worst s"], rows))
    version = by_name["harness --version"].median
    with_contracts = plain / by_name["harness run + contracts"].median
    without = plain / by_name["harness run --no-contracts"].median
    print()
    for label, met, figure in [
        (
            f"harness --version < {VERSION_TARGET_S} s",
            version < VERSION_TARGET_S,
            f"{version:.3f} s",
        ),
        (
            f"harness run + contracts >= {CONTRACTS_TARGET}x plain",
            with_contracts >= CONTRACTS_TARGET,
            f"{with_contracts:.2f}x",
        ),
        (
            f"harness run --no-contracts >= {NO_CONTRACTS_TARGET}x plain",
            without >= NO_CONTRACTS_TARGET,
            f"{without:.2f}x",
        ),
    ]:
        print(f"{verdict(met)}  {label}: {figure}")


if __name__ == "__main__":
    main()
