"""``harness cassettes scan PATH…`` and ``harness cassettes show PATH``."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.errors import EXIT_FAILED_CHECKS, EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("cassettes", help="check and read recorded cassettes")
    commands = parser.add_subparsers(dest="cassettes_command", metavar="COMMAND")
    parser.set_defaults(func=lambda args: _usage(parser))  # alone: its help, as `harness`

    scan = commands.add_parser(
        "scan",
        help="find secrets and patient data in cassettes (exit 1 when anything is found)",
    )
    scan.add_argument(
        "paths", nargs="+", type=Path, metavar="PATH", help="cassette files or folders"
    )
    scan.add_argument("--phi-fields", type=Path, default=None, help="PHI field list (YAML)")
    scan.set_defaults(func=run_scan)

    show_parser = commands.add_parser("show", help="print a recorded session as a transcript")
    show_parser.add_argument("path", type=Path, metavar="PATH", help="a cassette file")
    show_parser.add_argument("--phi-fields", type=Path, default=None, help="PHI field list (YAML)")
    show_parser.set_defaults(func=run_show)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return EXIT_OK


# Each command imports its engine itself, so building this parser (also for --help) stays cheap.


def run_scan(args: argparse.Namespace) -> int:
    from harness.cassettes.scan import scan_paths
    from harness.phi_fields import load_phi_fields

    files, findings = scan_paths(args.paths, load_phi_fields(args.phi_fields))
    for finding in findings:
        print(finding)
    if findings:
        print(
            f"{len(findings)} finding(s) in {len({f.path for f in findings})} of {len(files)} cassette(s)."
        )
        return EXIT_FAILED_CHECKS
    print(f"{len(files)} cassette(s) clean.")
    return EXIT_OK


def run_show(args: argparse.Namespace) -> int:
    from harness.cassettes.show import show
    from harness.phi_fields import load_phi_fields

    print(show(args.path, load_phi_fields(args.phi_fields)))
    return EXIT_OK
