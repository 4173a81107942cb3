"""``drchrono-sandbox`` (and ``harness sandbox``, which delegates here): run the local DrChrono in
the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from drchrono_sandbox import __version__
from drchrono_sandbox.config import DEFAULT_ACCESS_TTL, SandboxConfig
from drchrono_sandbox.errors import SandboxError
from drchrono_sandbox.faults import FaultKind, parse_fault_flag


def seconds(text: str) -> float:
    """An argparse type: a duration of zero or more seconds (argparse turns errors into usage)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also refuses NaN
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (0 or more)")
    return value


HELP = "run a local DrChrono (OAuth + REST + faults) for tests and recording"
DESCRIPTION = (
    "Serve a local DrChrono look-alike with seeded synthetic patients. It prints the client id, "
    "secret and a ready refresh token (fake credentials for this local server only) and serves "
    "until Ctrl-C."
)


def main(argv: Sequence[str] | None = None) -> int:
    """The ``drchrono-sandbox`` console script: exit 2 with one paragraph on bad input."""
    parser = argparse.ArgumentParser(prog="drchrono-sandbox", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"drchrono-sandbox {__version__}")
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except SandboxError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code


def register(subparsers: argparse._SubParsersAction) -> None:
    """``harness sandbox``: the same command under the harness's CLI."""
    parser = subparsers.add_parser("sandbox", help=HELP, description=DESCRIPTION)
    add_arguments(parser)
    parser.set_defaults(func=run)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    kinds = ", ".join(k.name.lower() for k in FaultKind)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8765, help="port (0 picks a free one)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic data")
    parser.add_argument(
        "--access-ttl",
        type=int,
        default=DEFAULT_ACCESS_TTL,
        metavar="SECONDS",
        help="access token lifetime (DrChrono: 172800)",
    )
    parser.add_argument(
        "--refresh-grace",
        type=seconds,
        default=0.0,
        metavar="SECONDS",
        help="after a refresh, the spent refresh token gets the same new pair "
        "for this long (django-oauth-toolkit's grace period; default 0)",
    )
    parser.add_argument(
        "--state-file",
        type=Path,
        default=None,
        help="keep clients, tokens and records in this JSON file across restarts",
    )
    parser.add_argument(
        "--rate-limit",
        action="store_true",
        help="enforce 500 requests/hour and 10/second per application",
    )
    parser.add_argument(
        "--consent",
        action="store_true",
        help="show the consent page instead of approving /o/authorize/ at once",
    )
    parser.add_argument(
        "--env-file",
        type=Path,
        default=None,
        metavar="PATH",
        help="write a Postman environment for this sandbox to PATH (mode 0600)",
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="ROUTE_GLOB:KIND[:COUNT]",
        help=f"inject a fault, e.g. '/api/patients*:server_error:3'. Kinds: {kinds}",
    )


def run(args: argparse.Namespace) -> int:
    from drchrono_sandbox.server import Sandbox  # the server stack loads only to serve

    faults = [parse_fault_flag(text) for text in args.fault]
    config = SandboxConfig(
        seed=args.seed,
        access_ttl=args.access_ttl,
        refresh_grace_s=args.refresh_grace,
        rate_limit=args.rate_limit,
        state_file=args.state_file,
        auto_approve=not args.consent,
    )
    sandbox = Sandbox(config, host=args.host, port=args.port)
    for route, kind, count in faults:
        sandbox.faults.inject(route=route, kind=kind, count=count)
    with sandbox:
        env = sandbox.environment()
        # A local fake: printing its credentials is the point, so a person can paste them.
        print(f"DrChrono sandbox on {sandbox.base_url}  (OAuth at /o/, API at /api/)")
        print(f"  client_id      {env['client_id']}")
        print(f"  client_secret  {env['client_secret']}")
        print(f"  refresh_token  {env['refresh_token']}")
        print(f"  redirect_uri   {env['redirect_uri']}")
        print(
            f"  doctor_id {env['doctor_id']}  office_id {env['office_id']}  "
            f"exam_room {env['exam_room']}"
        )
        if args.env_file is not None:
            print(f"  environment    {sandbox.write_environment(args.env_file)}")
        for route, kind, count in faults:
            print(
                f"  fault          {kind.name.lower()} on {route}"
                f" ({'until stopped' if count is None else f'{count} times'})"
            )
        print("Press Ctrl-C to stop.", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("Stopping.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
