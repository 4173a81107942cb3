"""`harness contracts import | coverage | diff` (two contract sets, or contracts and cassettes)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from harness.errors import EXIT_FAILED_CHECKS, EXIT_OK, InputError
from harness.paths import CONTRACTS_DIR


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("contracts", help="import, inspect and compare API contracts")
    commands = parser.add_subparsers(dest="contracts_command", metavar="COMMAND")
    parser.set_defaults(func=lambda args: _usage(parser))  # alone: its help, as `harness`

    imp = commands.add_parser("import", help="OpenAPI document -> JSON Schema contracts")
    imp.add_argument("openapi", type=Path, help="DrChrono's OpenAPI 3.0 document (YAML or JSON)")
    imp.add_argument(
        "--out",
        type=Path,
        default=Path("contracts"),
        help="contracts directory to write (default: ./contracts; never the installed package)",
    )
    imp.add_argument(
        "--corrections",
        type=Path,
        default=CONTRACTS_DIR / "corrections.yaml",
        help="reviewed corrections to apply (default: contracts/corrections.yaml)",
    )
    imp.set_defaults(func=run_import)

    cov = commands.add_parser("coverage", help="operations and statuses a run exercised")
    cov.add_argument("--from", dest="results", type=Path, help="results JSON written by a run")
    cov.add_argument(
        "--contracts",
        type=Path,
        default=CONTRACTS_DIR,
        help="contracts directory (default: the DrChrono contracts shipped with the harness)",
    )
    cov.add_argument("--json", action="store_true", help="print JSON instead of a table")
    cov.add_argument("--all", action="store_true", help="list every operation, not just exercised")
    cov.set_defaults(func=run_coverage)

    col = commands.add_parser(
        "collection",
        help="generate the full DrChrono Postman collection from the contracts",
        description="Build DrChrono's whole API as a Postman v2.1 collection (one folder per "
        "resource family, chained requests, error checks) from the contracts and the hand-edits "
        "in contracts/collection.yaml. With --check, exit 1 if OUT differs from a fresh "
        "generation instead of writing it.",
    )
    col.add_argument("--out", type=Path, required=True, help="collection file to write")
    col.add_argument(
        "--contracts",
        type=Path,
        default=CONTRACTS_DIR,
        help="contracts directory (default: the DrChrono contracts shipped with the harness)",
    )
    col.add_argument(
        "--plan", type=Path, help="hand-edits (default: collection.yaml in the contracts)"
    )
    col.add_argument("--check", action="store_true", help="compare with OUT, do not write")
    col.set_defaults(func=run_collection)

    dif = commands.add_parser(
        "diff",
        help="breaking and additive changes between contract sets, or contracts and cassettes",
        description="Compare two contract directories, or (with --cassettes) the contracts with "
        "what recorded traffic actually contains. Exit 1 when anything is breaking.",
    )
    dif.add_argument("old", type=Path, help="contracts directory")
    dif.add_argument("new", type=Path, nargs="?", help="the newer contracts directory")
    dif.add_argument(
        "--cassettes",
        type=Path,
        nargs="+",
        metavar="PATH",
        help="cassette files or folders to compare with the contracts in OLD",
    )
    dif.set_defaults(func=run_diff)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return EXIT_OK


# Each command imports its engine itself: the parser is built for every `harness contracts ...`
# invocation, including --help, and should not load the schema libraries for it.


def run_import(args: argparse.Namespace) -> int:
    from harness.contracts.importer import import_contracts

    changed = import_contracts(args.openapi, args.out, args.corrections)
    print(f"Imported {args.openapi} into {args.out}: {len(changed)} file(s) changed.")
    return EXIT_OK


def run_coverage(args: argparse.Namespace) -> int:
    from harness.contracts.contract_set import ContractSet

    contracts = ContractSet.load(args.contracts)
    exercised = _exercised(args.results) if args.results else []
    coverage = contracts.coverage(exercised)
    if args.json:
        print(json.dumps(coverage.to_json(), indent=2, sort_keys=True))
    else:
        print(coverage.to_text(all_operations=args.all))
    return EXIT_OK


def run_collection(args: argparse.Namespace) -> int:
    from harness.atomicfile import atomic_write_text
    from harness.contracts.collection_gen import generate_collection

    text = generate_collection(args.contracts, args.plan)
    if args.check:
        try:
            current = args.out.read_text(encoding="utf-8")
        except OSError:
            current = None
        if current != text:
            print(
                f"{args.out} is not what the contracts generate; regenerate it with "
                f"`harness contracts collection --out {args.out}`."
            )
            return EXIT_FAILED_CHECKS
        print(f"{args.out} is up to date.")
        return EXIT_OK
    atomic_write_text(args.out, text)
    count = text.count('"request":')
    print(f"Wrote {args.out}: {count} requests.")
    return EXIT_OK


def run_diff(args: argparse.Namespace) -> int:
    if (args.new is None) == (args.cassettes is None):
        raise InputError(
            "harness contracts diff needs either two contract directories or one and --cassettes.",
            hint="Examples: harness contracts diff old/ contracts/ ; "
            "harness contracts diff contracts/ --cassettes cassettes/",
        )
    if args.cassettes is not None:
        from harness.contracts.contract_set import ContractSet
        from harness.contracts.recorded import check_recorded, load_recorded

        recorded = check_recorded(ContractSet.load(args.old), load_recorded(args.cassettes))
        print(recorded.to_text())
        return EXIT_FAILED_CHECKS if recorded.is_breaking else EXIT_OK
    from harness.contracts.diff import diff_contracts

    result = diff_contracts(args.old, args.new)
    print(result.to_text())
    return EXIT_FAILED_CHECKS if result.is_breaking else EXIT_OK


def _exercised(path: Path) -> list[tuple[str, int]]:
    """(operation, status) pairs from a results file: a list of results or {"results": [...]}."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"Cannot read results file {path}: {exc.strerror}.") from None
    except ValueError:
        raise InputError(
            f"Results file {path} is not valid JSON.",
            hint="Pass the JSON written by `harness run --report json`.",
        ) from None
    results = data.get("results") if isinstance(data, dict) else data
    if not isinstance(results, list):
        raise InputError(f"Results file {path} has no 'results' list.")
    return [
        (r["operation"], int(r["status"]))
        for r in results
        if isinstance(r, dict) and r.get("operation") and isinstance(r.get("status"), int)
    ]
