"""Time to load a 10 MB, 300-request collection, and to plan a run of it.

    .venv/bin/python benchmarks/bench_load.py [--rounds 5]

The collection is generated into a temporary directory: 30 folders of 10 requests, each with
headers, a JSON body full of ``{{variables}}``, a test script that captures an id, a description
and a saved example response of about 30 KB (exports with examples are what make collections big).
Timed, median of the rounds: ``json.loads`` of the file alone (the floor), ``load_collection``,
and the full ``Session`` planning (open the session with contracts, plan, preflight every
variable, cut the plan into units). Target: both under 0.3 s. No request is sent.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
from pathlib import Path
from typing import Any

from _common import machine, table, timed, verdict, write_environment

from harness import paths
from harness.collection import load_collection
from harness.collection_plan import plan_units
from harness.session import RunOptions, open_session

FOLDERS, PER_FOLDER = 30, 10
EXAMPLE_RECORDS = 15  # records in each saved example's list body (about 35 KB)
TARGET_S = 0.3
SIZE_MB = 10


def _record(rng: random.Random, n: int) -> dict[str, Any]:
    return {
        "id": 80000000 + n,
        "first_name": rng.choice(["Ada", "Grace", "Alan", "Edsger", "Barbara"]),
        "last_name": rng.choice(["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov"]),
        "date_of_birth": f"19{rng.randint(40, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
        "email": f"person{n}@example.com",
        "address": f"{rng.randint(1, 999)} Example Street",
        "notes": " ".join(
            rng.choice(["lorem", "ipsum", "dolor", "sit", "amet"]) for _ in range(180)
        ),
        "custom_demographics": [
            {"field_type": i, "value": f"v{rng.randint(0, 9999)}"} for i in range(10)
        ],
    }


def _request(rng: random.Random, folder: int, index: int, example: str) -> dict[str, Any]:
    body = {f"field_{k}": f"{{{{value_{k % 5}}}}}" for k in range(40)}
    body["doctor"] = "{{doctor_id}}"
    return {
        "name": f"Request {folder:02d}.{index:02d}",
        "event": [
            {
                "listen": "test",
                "script": {
                    "type": "text/javascript",
                    "exec": [
                        'pm.test("status is 201", function () { pm.response.to.have.status(201); });',
                        f'pm.collectionVariables.set("id_{folder}_{index}", pm.response.json().id);',
                    ],
                },
            }
        ],
        "request": {
            "method": "POST" if index % 2 == 0 else "GET",
            "header": [
                {"key": "X-DRC-API-Version", "value": "v4"},
                {"key": "Content-Type", "value": "application/json"},
                {"key": "X-Trace", "value": "{{$guid}}"},
            ],
            "url": {
                "raw": "{{base_url}}/api/patients/:id?verbose=true&doctor={{doctor_id}}",
                "host": ["{{base_url}}"],
                "path": ["api", "patients", ":id"],
                "query": [
                    {"key": "verbose", "value": "true"},
                    {"key": "doctor", "value": "{{doctor_id}}"},
                ],
                "variable": [
                    {
                        "key": "id",
                        "value": f"{{{{id_{folder}_{max(0, index - 1)}}}}}"
                        if index
                        else "{{doctor_id}}",
                    }
                ],
            },
            "body": {
                "mode": "raw",
                "raw": json.dumps(body, indent=2),
                "options": {"raw": {"language": "json"}},
            },
            "description": "A generated request. " * 20,
        },
        "response": [
            {
                "name": "Created",
                "code": 201,
                "status": "Created",
                "header": [{"key": "Content-Type", "value": "application/json"}],
                "body": example,
            }
        ],
    }


def generate(target: Path) -> tuple[int, int]:
    """Write the collection; returns (bytes, requests)."""
    rng = random.Random(0)
    folders = []
    for f in range(FOLDERS):
        items = []
        for i in range(PER_FOLDER):
            records = [_record(rng, f * 1000 + i * 20 + r) for r in range(EXAMPLE_RECORDS)]
            example = json.dumps({"previous": None, "next": None, "results": records}, indent=2)
            items.append(_request(rng, f, i, example))
        folders.append({"name": f"Folder {f:02d}", "description": "Generated.", "item": items})
    document = {
        "info": {
            "name": "bench load",
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
        },
        "item": folders,
        "variable": [{"key": f"value_{k}", "value": f"v{k}"} for k in range(5)],
    }
    target.write_text(json.dumps(document, indent=1))
    return target.stat().st_size, FOLDERS * PER_FOLDER


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"bench_load ({machine()})")
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        workdir = Path(tmp)
        collection = workdir / "big.postman_collection.json"
        size, requests = generate(collection)
        environment = write_environment(
            workdir / "env.json",
            {
                "base_url": "http://127.0.0.1:9",
                "doctor_id": "1",  # never contacted
            },
        )
        planned: list[int] = []

        def plan(contracts: bool) -> None:
            options = RunOptions(
                collection=collection,
                environment=environment,
                rate_limit="none",
                token_store=workdir / "tokens.json",
                contracts_dir=paths.CONTRACTS_DIR if contracts else None,
            )
            with open_session(options) as session:
                items = session.plan()
                session.check_plan(items)
                planned.append(len(plan_units(items)))

        def rounds(fn: Any) -> list[float]:
            fn()  # warm up: imports, page cache
            return [timed(fn) for _ in range(args.rounds)]

        text = collection.read_text()
        measured = {
            "json.loads of the file (floor)": rounds(lambda: json.loads(text)),
            "load_collection": rounds(lambda: load_collection(collection)),
            "Session planning, no contracts": rounds(lambda: plan(False)),
            "Session planning, with contracts": rounds(lambda: plan(True)),
        }
        loaded = load_collection(collection)
        assert len(list(loaded.requests())) == requests and set(planned) == {FOLDERS}
    print(
        f"\ncollection: {size / 1e6:.1f} MB, {requests} requests in {FOLDERS} folders; "
        f"{args.rounds} rounds"
    )
    print(
        table(
            ["step", "median s", "best-worst s"],
            [
                (name, f"{statistics.median(s):.3f}", f"{min(s):.3f}-{max(s):.3f}")
                for name, s in measured.items()
            ],
        )
    )
    load_s = statistics.median(measured["load_collection"])
    plan_s = statistics.median(measured["Session planning, with contracts"])
    print()
    print(
        table(
            ["target", "measured", "result"],
            [
                (
                    f"collection of >= {SIZE_MB} MB generated",
                    f"{size / 1e6:.1f} MB",
                    verdict(size >= SIZE_MB * 1e6),
                ),
                (f"load_collection < {TARGET_S} s", f"{load_s:.3f} s", verdict(load_s < TARGET_S)),
                (
                    f"Session planning (with contracts) < {TARGET_S} s",
                    f"{plan_s:.3f} s",
                    verdict(plan_s < TARGET_S),
                ),
            ],
        )
    )


if __name__ == "__main__":
    main()
