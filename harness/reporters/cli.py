"""``harness report``: work on the reports runs wrote (``merge``: a sharded run's as one)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report", help="merge the reports of a sharded run (--shard K/N)"
    )
    commands = parser.add_subparsers(dest="report_command", metavar="COMMAND", required=True)
    merge = commands.add_parser(
        "merge",
        help="merge shards' JSON summaries into one JSON (and JUnit, HTML) report",
        description="Merge the JSON summaries that `harness run --shard K/N --json ...` wrote "
        "(every shard of one run) into one summary in plan order, as the unsharded run would "
        "have written it; --junit and --html render the merged results as a run does.",
    )
    merge.add_argument("out", type=Path, metavar="OUT", help="the merged JSON summary to write")
    merge.add_argument(
        "--json",
        type=Path,
        nargs="+",
        required=True,
        dest="inputs",
        metavar="SUMMARY",
        help="the shards' JSON summaries (harness run --json)",
    )
    merge.add_argument(
        "--junit", type=Path, metavar="PATH", help="also write merged JUnit XML here"
    )
    merge.add_argument(
        "--html", type=Path, metavar="PATH", help="also write a merged HTML report here"
    )
    merge.set_defaults(func=run_merge)


def run_merge(args: argparse.Namespace) -> int:
    from harness.errors import EXIT_FAILED_CHECKS, EXIT_OK
    from harness.reporters.merge import load_summary, merge, write_merged

    merged = merge([load_summary(path) for path in args.inputs])
    write_merged(merged, json_path=args.out, junit=args.junit, html=args.html)
    summary = merged["summary"]
    print(
        f"merged {len(args.inputs)} summaries: {summary['total']} results, "
        f"{summary['passed']} passed, {summary['failed']} failed, {summary['errors']} errors, "
        f"{summary['skipped']} skipped -> {args.out}"
    )
    if merged["fatal"]:
        print(f"a shard stopped early: {merged['fatal']}")
    # The merged run's verdict, as one run's exit code (a fatal stop is a failed run here: the
    # shard that stopped already exited 2).
    return EXIT_OK if summary["ok"] else EXIT_FAILED_CHECKS
