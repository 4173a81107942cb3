"""Requests per second of the harness against a plain httpx loop sending the same requests.

    .venv/bin/python benchmarks/bench_throughput.py [--rounds 7]

Servers, each in its own process on 127.0.0.1: a static server answering every request with one
fixed patient record at once, the same after a 2 ms delay (standing in for network latency, where
concurrency pays), and the DrChrono sandbox (``harness sandbox``). Against each, the same GET
requests (a synthetic collection of independent folders) are sent by:

* a plain ``httpx.Client`` loop: the practical limit of a sequential Python client;
* the harness, sequential, with contract validation (the default) and without it;
* the harness with ``--workers 8``;
* (for reference) the plain loop spread over 8 threads.

All clients are warmed up, then timed in interleaved rounds; the median round counts.
Targets: sequential harness with contracts >= 0.6x the plain loop; with 8 workers > the plain loop.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from _common import (
    API_HEADERS,
    Server,
    machine,
    refresh_grant,
    sandbox_server,
    split,
    static_server,
    synthetic_collection,
    table,
    timed,
    verdict,
    write_environment,
)

from harness import paths
from harness.auth import TokenStore
from harness.session import RunOptions, Session, open_session

FOLDERS = 24
WORKERS = 8
SEQUENTIAL_TARGET = 0.6


@dataclass
class Contender:
    name: str
    run: Callable[[], None]
    seconds: list[float] = field(default_factory=list)


def plain_loop(client: httpx.Client, urls: list[str]) -> Callable[[], None]:
    def run() -> None:
        for url in urls:
            response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"plain loop: {url} answered {response.status_code}")

    return run


def plain_threads(client: httpx.Client, urls: list[str]) -> Callable[[], None]:
    chunks = [urls[i::WORKERS] for i in range(WORKERS)]

    def run() -> None:
        with ThreadPoolExecutor(WORKERS) as pool:
            list(pool.map(lambda chunk: plain_loop(client, chunk)(), chunks))

    return run


def harness_run(session: Session) -> Callable[[], None]:
    items = session.plan()

    def run() -> None:
        summary = session.run(items, [])
        if not summary.ok or summary.total != len(items):
            raise RuntimeError(
                f"harness run was not clean: {summary.passed} passed, {summary.failed} failed, "
                f"{summary.errors} errors of {len(items)}"
            )

    return run


def measure(
    label: str,
    server: Server,
    api_paths: list[str],
    *,
    oauth2: bool,
    workdir: Path,
    rounds: int,
) -> list[Contender]:
    folder = workdir / label
    folder.mkdir()
    collection = synthetic_collection(
        folder / "collection.json", split(api_paths, FOLDERS), oauth2=oauth2
    )
    environment = write_environment(
        folder / "environment.json", {**server.environment, "base_url": server.base_url}
    )
    urls = [server.base_url + p for p in api_paths]
    token_store = folder / "tokens.json"  # shared: one refresh serves every session

    def options(workers: int, contracts: bool) -> RunOptions:
        return RunOptions(
            collection=collection,
            environment=environment,
            workers=workers,
            contracts_dir=paths.CONTRACTS_DIR if contracts else None,
            rate_limit="none",
            token_store=token_store,
        )

    with contextlib.ExitStack() as stack:
        client = stack.enter_context(httpx.Client(headers=API_HEADERS))
        harness = [
            Contender(
                "harness sequential + contracts",
                harness_run(stack.enter_context(open_session(options(1, True)))),
            ),
            Contender(
                "harness sequential, no contracts",
                harness_run(stack.enter_context(open_session(options(1, False)))),
            ),
            Contender(
                f"harness --workers {WORKERS} + contracts",
                harness_run(stack.enter_context(open_session(options(WORKERS, True)))),
            ),
        ]
        for contender in harness:  # warm up: connections, the token, compiled schemas
            contender.run()
        if oauth2:
            # A refresh revokes the previous access token, so the plain loop borrows the one
            # the harness obtained (and keeps using) instead of refreshing on its own.
            (stored,) = TokenStore(token_store).all()
            client.headers["Authorization"] = f"Bearer {stored.access_token}"
        plain = [
            Contender("plain httpx loop", plain_loop(client, urls)),
            Contender(f"plain httpx, {WORKERS} threads (reference)", plain_threads(client, urls)),
        ]
        for contender in plain:
            contender.run()
        contenders = [plain[0], *harness, plain[1]]
        for _ in range(rounds):  # interleaved, so a noisy neighbour hits every contender alike
            for contender in contenders:
                contender.seconds.append(timed(contender.run))
    return contenders


def report(label: str, contenders: list[Contender], requests: int) -> list[tuple[str, bool, str]]:
    rates = {c.name: requests / statistics.median(c.seconds) for c in contenders}
    plain = rates["plain httpx loop"]
    print(f"\n{label}: {requests} GET requests per round, {len(contenders[0].seconds)} rounds")
    print(
        table(
            ["client", "req/s (median)", "ratio to plain loop", "best-worst round s"],
            [
                (
                    c.name,
                    f"{rates[c.name]:.0f}",
                    f"{rates[c.name] / plain:.2f}x",
                    f"{min(c.seconds):.3f}-{max(c.seconds):.3f}",
                )
                for c in contenders
            ],
        )
    )
    sequential = rates["harness sequential + contracts"] / plain
    parallel = rates[f"harness --workers {WORKERS} + contracts"] / plain
    return [
        (
            f"{label}: sequential + contracts >= {SEQUENTIAL_TARGET}x plain",
            sequential >= SEQUENTIAL_TARGET,
            f"{sequential:.2f}x",
        ),
        (f"{label}: --workers {WORKERS} > plain", parallel > 1.0, f"{parallel:.2f}x"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--static-requests", type=int, default=480)
    parser.add_argument("--sandbox-requests", type=int, default=240)
    parser.add_argument(
        "--delay-ms", type=float, default=2.0, help="latency of the third, slow static server"
    )
    args = parser.parse_args()
    print(f"bench_throughput ({machine()})")
    targets: list[tuple[str, bool, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmp:
        workdir = Path(tmp)
        with sandbox_server(workdir) as sandbox:
            # A token of our own to pick the requests; the harness later refreshes with the
            # rotated refresh token, as a user pointing it at this server would.
            token = refresh_grant(sandbox)
            auth = {"Authorization": f"Bearer {token}", **API_HEADERS}
            listing = httpx.get(f"{sandbox.base_url}/api/patients?page_size=25", headers=auth)
            ids = [p["id"] for p in listing.json()["results"]]
            # The static server answers with a real sandbox patient, valid under the contract.
            body = httpx.get(f"{sandbox.base_url}/api/patients/{ids[0]}", headers=auth).content
            env = sandbox.environment
            mix = [f"/api/patients/{i}" for i in ids[:6]] + [
                f"/api/doctors/{env['doctor_id']}",
                "/api/doctors",
            ]
            with static_server(body, workdir) as static:
                static_paths = [
                    f"/api/patients/{ids[i % len(ids)]}" for i in range(args.static_requests)
                ]
                contenders = measure(
                    "static",
                    static,
                    static_paths,
                    oauth2=False,
                    workdir=workdir,
                    rounds=args.rounds,
                )
                targets += report(
                    f"static server ({len(body)} B patient record)", contenders, len(static_paths)
                )
            with static_server(body, workdir, delay_ms=args.delay_ms) as slow:
                slow_paths = static_paths[: args.sandbox_requests]
                contenders = measure(
                    "slow", slow, slow_paths, oauth2=False, workdir=workdir, rounds=args.rounds
                )
                targets += report(
                    f"static server + {args.delay_ms:g} ms latency", contenders, len(slow_paths)
                )
            sandbox_paths = [mix[i % len(mix)] for i in range(args.sandbox_requests)]
            contenders = measure(
                "sandbox", sandbox, sandbox_paths, oauth2=True, workdir=workdir, rounds=args.rounds
            )
            targets += report(
                "sandbox (patients and doctors; OAuth 2.0)", contenders, len(sandbox_paths)
            )
    print()
    print(table(["target", "measured", "result"], [(n, m, verdict(ok)) for n, ok, m in targets]))


if __name__ == "__main__":
    main()
