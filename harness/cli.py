"""The ``harness`` command.

Exit codes: 0 every check passed, 1 a check failed or a request errored, 2 bad input or set-up,
3 an internal error (a bug: the message says how to get the traceback).
A :class:`HarnessError` is printed as its one-paragraph message; no traceback reaches the user.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import io
import os
import re
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TextIO

from drchrono_sandbox.errors import SandboxError
from harness import __version__
from harness.errors import EXIT_BAD_INPUT, EXIT_FAILED_CHECKS, EXIT_OK, HarnessError
from harness.project_config import RECORD_MODES
from harness.variables import parse_assignments

if TYPE_CHECKING:
    from harness.results import Reporter
    from harness.scripting.hooks import ScriptSettings
    from harness.session import RunOptions, Session

EXIT_INTERNAL = 3
# The same four codes for every command (run, auth, contracts, cassettes, sandbox).
EXIT_CODES_HELP = """exit codes (every command):
  0  all passed (or help was asked for)
  1  a check failed: a request, contract, scan finding or breaking change
  2  bad input or set-up: a file, option, credential or target to fix first
  3  an internal error in the harness (a bug: HARNESS_DEBUG=1 shows the traceback)

Start with `harness run` (the DrChrono collection against the local sandbox)."""
_OFF = frozenset({"", "0", "no", "false", "off"})
# Sub-commands that live with their feature: name -> (help line, module with register(subparsers)).
# The module is imported only when its command is chosen, so `harness --version`, `harness --help`
# and `harness run` do not pay for the sandbox server, OAuth client, schema or cassette libraries.
FEATURE_COMMANDS: dict[str, tuple[str, str]] = {
    "sandbox": (
        "run a local DrChrono (OAuth + REST + faults) for tests and recording",
        "drchrono_sandbox.cli",
    ),
    "auth": ("log in to DrChrono and manage stored OAuth 2.0 tokens", "harness.auth.cli"),
    "contracts": ("import, inspect and compare API contracts", "harness.contracts.cli"),
    "cassettes": ("check and read recorded cassettes", "harness.cassettes.cli"),
    "report": ("merge the reports of a sharded run (--shard K/N)", "harness.reporters.cli"),
    "init": (
        "start a project of your own: collection, environments, scenarios, settings, CI",
        "harness.project_init",
    ),
}


class _FeatureCommands(argparse._SubParsersAction):
    """Sub-commands whose parsers a feature module builds on first use.

    Each feature starts as a stub parser carrying only its help line (enough for ``--help`` and for
    "invalid choice" errors). When argparse dispatches to it, the stub is swapped for the parser
    the feature's own ``register(subparsers)`` builds, and parsing continues there.
    """

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[object] | None,
        option_string: str | None = None,
    ) -> None:
        if isinstance(values, Sequence) and values and isinstance(values[0], str):
            load_feature_command(self, values[0])
        super().__call__(parser, namespace, values, option_string)


def load_feature_command(commands: argparse._SubParsersAction, name: str) -> None:
    """Replace the stub for feature command ``name`` with the feature's real parser."""
    feature = FEATURE_COMMANDS.get(name)
    stub = commands.choices.get(name)
    if feature is None or stub is None or stub.get_default("feature_stub") is not True:
        return
    del commands.choices[name]  # the feature's register() adds the real one under the same name
    commands._choices_actions[:] = [a for a in commands._choices_actions if a.dest != name]
    importlib.import_module(feature[1]).register(commands)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="harness",
        description="Run DrChrono Postman collections and YAML scenarios with real OAuth 2.0,\n"
        "JSON-schema contracts and scrubbed cassettes.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"harness {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", action=_FeatureCommands)
    _add_run(commands)
    for name, (help_text, _module) in FEATURE_COMMANDS.items():
        stub = commands.add_parser(name, help=help_text, add_help=False)
        stub.set_defaults(feature_stub=True)
    return parser


def _add_run(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser(
        "run",
        help="run a collection (or scenarios) and check every response",
        description="Run a Postman collection or YAML scenario files against the sandbox, live "
        "DrChrono or recorded cassettes. With no arguments: the DrChrono collection against the "
        "local sandbox.",
    )
    run.add_argument(
        "sources",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="collection JSON, scenario YAML files or directories "
        "(default: the DrChrono collection shipped with the harness)",
    )
    run.add_argument(
        "-e",
        "--environment",
        type=Path,
        help="Postman environment file (default: none; a DrChrono collection then runs "
        "against the local sandbox)",
    )
    run.add_argument("-g", "--globals", type=Path, dest="globals_file", help="Postman globals file")
    run.add_argument(
        "--global-var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a global variable (repeatable); beats the globals file",
    )
    run.add_argument(
        "--strict-variables",
        action="store_true",
        help="refuse a run whose requests use a variable nothing defines (by default it is "
        "sent as '{{name}}', as Newman does, after a warning)",
    )
    run.add_argument(
        "--env-var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set an environment variable (repeatable); beats the environment file",
    )
    run.add_argument(
        "--fill-placeholders",
        nargs="?",
        const="own",
        choices=("own", "existing"),
        metavar="RECORDS",
        help="fill an OpenAPI converter's <type> placeholders from the target's records and the "
        "contracts (optional ones are dropped); updates and deletes act on records the run "
        "makes ('own', the default), or with 'existing' on the target's own where it cannot "
        "make one (a disposable target: the sandbox); without it such requests are not sent",
    )
    run.add_argument(
        "-d",
        "--iteration-data",
        type=Path,
        metavar="FILE",
        help="CSV or JSON rows; the collection runs once per row (Newman's -d)",
    )
    run.add_argument(
        "-n",
        "--iteration-count",
        type=_positive_int,
        metavar="N",
        help="run the collection N times; with -d, rows past the last reuse the last row "
        "and N below the row count runs the first N rows (as Newman)",
    )
    run.add_argument(
        "--folder",
        action="append",
        default=[],
        metavar="NAME",
        help="run only this folder or request (repeatable)",
    )
    run.add_argument(
        "--list",
        action="store_true",
        help="print the collection's requests as Folder/Request names (what a scenario's "
        "'request:' and --folder take) and exit without sending anything",
    )
    run.add_argument("--bail", action="store_true", help="stop at the first failure")
    run.add_argument(
        "-x",
        "--suppress-exit-code",
        action="store_true",
        help="exit 0 even when checks fail (bad input and set-up still exit 2)",
    )
    run.add_argument(
        "--timeout-request",
        type=_duration("--timeout-request", zero="refuse"),
        default=30.0,
        metavar="TIME",
        help="time limit for each request, with its unit: 5000ms or 5s (default 30s)",
    )
    run.add_argument(
        "--timeout",
        type=_duration("--timeout", zero="none"),
        metavar="TIME",
        help="time limit for the whole run, e.g. 60000ms or 60s: then the run stops, what did "
        "not finish is reported as not run, and it exits 1 (default: none)",
    )
    run.add_argument(
        "--delay-request",
        type=_duration("--delay-request", zero="none"),
        default=0.0,
        metavar="TIME",
        help="pause between two requests, e.g. 500ms (default 0)",
    )
    run.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="run independent folders and scenarios concurrently (default 1)",
    )
    run.add_argument(
        "--shard",
        metavar="K/N",
        help="run only the K-th of N parts of the folders or scenarios (the folders a part's "
        "own read captured values from also run, unreported, with their clean-up folders); "
        "merge the parts' reports with `harness report merge`",
    )
    run.add_argument(
        "--retries",
        type=int,
        default=2,
        metavar="N",
        help="retries for 5xx/timeouts (idempotent methods) and 429 (default 2)",
    )
    run.add_argument(
        "--rate-limit",
        metavar="SPEC",
        help="client-side limit like '9/s,500/h' or 'none' (default: DrChrono's for live, none otherwise)",
    )
    run.add_argument(
        "--ignore-redirects",
        action="store_true",
        help="do not follow 3xx redirects (a request's protocolProfileBehavior.followRedirects "
        "still wins)",
    )
    run.add_argument(
        "-k",
        "--insecure",
        action="store_true",
        help="do not check TLS certificates (test servers only; a request's strictSSL still wins)",
    )
    run.add_argument(
        "--ssl-client-cert",
        type=Path,
        metavar="FILE",
        help="PEM client certificate for servers that ask for one (mutual TLS)",
    )
    run.add_argument(
        "--ssl-client-key",
        type=Path,
        metavar="FILE",
        help="PEM private key of --ssl-client-cert (when not in the certificate file)",
    )
    run.add_argument(
        "--ssl-client-passphrase",
        metavar="PASSPHRASE",
        help="passphrase of an encrypted client key (never shown or written)",
    )
    run.add_argument(
        "--ssl-extra-ca-certs",
        type=Path,
        metavar="FILE",
        help="PEM CA certificates to trust besides the system's (e.g. a self-signed test server)",
    )
    cassettes = run.add_mutually_exclusive_group()
    cassettes.add_argument(
        "--record",
        nargs="?",
        const="once",
        choices=RECORD_MODES,
        metavar="MODE",
        help="record cassettes (once [default], new_episodes, all, rewrite)",
    )
    cassettes.add_argument(
        "--replay", action="store_true", help="replay from cassettes with the network blocked"
    )
    run.add_argument(
        "--cassette-dir",
        type=Path,
        help="where cassettes are recorded and replayed (default: the project's setting, "
        "else ./cassettes)",
    )
    run.add_argument(
        "--contracts",
        type=Path,
        dest="contracts_dir",
        help="contracts directory (default: the project's setting, else the DrChrono contracts "
        "shipped with the harness)",
    )
    run.add_argument("--no-contracts", action="store_true", help="skip contract checks")
    run.add_argument("--strict", action="store_true", help="fail on unknown fields (drift)")
    run.add_argument("--token-store", type=Path, help="token store file (default: user cache dir)")
    given = run.add_mutually_exclusive_group()
    given.add_argument(
        "--access-token-env",
        metavar="NAME",
        help="send the access token held in environment variable NAME, never refreshing it "
        "(default for live runs: DRCHRONO_ACCESS_TOKEN when set)",
    )
    given.add_argument(
        "--access-token-file",
        type=Path,
        metavar="PATH",
        help="send the access token held in this file ('-': standard input), never refreshing it",
    )
    run.add_argument("--junit", type=Path, metavar="PATH", help="write JUnit XML here")
    run.add_argument("--json", type=Path, metavar="PATH", help="write a JSON summary here")
    run.add_argument("--html", type=Path, metavar="PATH", help="write an HTML report here")
    run.add_argument(
        "--export-environment",
        type=Path,
        metavar="PATH",
        help="write the environment as the run leaves it (Postman format; secrets written empty)",
    )
    run.add_argument(
        "--export-globals",
        type=Path,
        metavar="PATH",
        help="write the globals as the run leaves them (Postman format; secrets written empty)",
    )
    run.add_argument(
        "--export-collection",
        type=Path,
        metavar="PATH",
        help="write the collection with its variables as the run leaves them (secrets empty)",
    )
    run.add_argument(
        "--working-dir",
        type=Path,
        metavar="DIR",
        help="where file bodies and form files resolve from, and stay inside (default: the "
        "current directory)",
    )
    run.add_argument(
        "--allow-outside-files",
        action="store_true",
        help="let bodies upload files outside the working directory (or --working-dir)",
    )
    run.add_argument(
        "--no-scripts",
        action="store_true",
        help="do not run the collection's pre-request and test scripts (each is listed as not run)",
    )
    run.add_argument(
        "--timeout-script",
        type=_duration("--timeout-script", zero="keep"),
        default=5.0,
        metavar="TIME",
        help="CPU-time limit for each script execution, e.g. 5000ms or 5s (default 5s)",
    )
    run.add_argument(
        "--script-libs",
        type=Path,
        metavar="DIR",
        help="a node_modules directory that scripts may require() packages from",
    )
    run.add_argument(
        "--color",
        choices=("on", "off", "auto"),
        default="auto",
        help="coloured console output: on, off, or auto (on a terminal, unless NO_COLOR is set)",
    )
    run.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="show each request and response (masked), drift, scripts' console and coverage",
    )
    run.set_defaults(func=cmd_run)


# A duration as Newman users and our users both write it unambiguously: "5000ms" or "5s".
_DURATION = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s)?\s*", re.IGNORECASE)


def _duration(option: str, *, zero: Literal["none", "keep", "refuse"]) -> Callable[[str], float]:
    """An argparse type: ``5000ms``/``5s`` -> seconds. A bare number is refused (Newman counts
    milliseconds, this harness counted seconds: 5000 could be either), except 0 where it means
    "none" (``zero="none"``) or is judged by the option itself (``"keep"``)."""

    def parse(text: str) -> float:
        match = _DURATION.fullmatch(text)
        if match is None:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a time: write a number with its unit, e.g. 5000ms or 5s"
            )
        number, unit = float(match[1]), (match[2] or "").lower()
        if number == 0 and zero != "refuse":
            return 0.0
        if not unit:
            raise argparse.ArgumentTypeError(
                f"{text!r} has no unit: Newman's {option} counts milliseconds, the harness's "
                f"counted seconds. Write {match[1]}ms or {match[1]}s"
            )
        seconds = number / 1000 if unit == "ms" else number
        if seconds <= 0:
            raise argparse.ArgumentTypeError(f"{text!r}: give a time above 0, e.g. 30s")
        return seconds

    parse.__name__ = "time"  # argparse names the type in its messages
    return parse


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return value


def _script_settings(args: argparse.Namespace) -> ScriptSettings:
    from harness.scripting.hooks import ScriptSettings
    from harness.scripting.model import ScriptLimits

    if not args.timeout_script > 0:
        raise HarnessError(
            f"--timeout-script {args.timeout_script:g} is not a positive number of seconds.",
            hint="Give the CPU time each script may use, e.g. --timeout-script 5.",
        )
    if args.script_libs is not None and not args.script_libs.is_dir():
        raise HarnessError(
            f"--script-libs {args.script_libs} is not a directory.",
            hint="Give the node_modules directory your scripts require() packages from "
            "(npm install them there first).",
        )
    return ScriptSettings(
        enabled=not args.no_scripts,
        limits=ScriptLimits(timeout_s=args.timeout_script),
        script_libs=args.script_libs,
    )


def _given_access_token(args: argparse.Namespace) -> tuple[str, str] | None:
    if args.access_token_env is None and args.access_token_file is None:
        return None  # the OAuth engine is not loaded for a run that names no token
    from harness.auth.given_token import read_access_token_option

    return read_access_token_option(args.access_token_env, args.access_token_file)


def cmd_run(args: argparse.Namespace) -> int:
    from harness.project_config import fill_run_defaults, load_project_config
    from harness.reporters.files import file_reports, reporting_setup_failures

    if args.list:  # names only: nothing is sent, no report written
        from harness.scenarios.listing import list_requests

        fill_run_defaults(args, load_project_config())
        return list_requests(args.sources, args.default_collection)
    # Chosen first: whatever stops the run with exit 2 from here on is written into them too.
    reports = file_reports(junit=args.junit, json=args.json, html=args.html)
    with reporting_setup_failures(reports, ", ".join(map(str, args.sources)) or None):
        fill_run_defaults(args, load_project_config())
        return _run(args, reports)


def _run(args: argparse.Namespace, reports: Sequence[Reporter]) -> int:
    from harness.reporters import ConsoleReporter
    from harness.session import RunOptions, open_session
    from harness.sharding import Shard

    sources: list[Path] = list(args.sources) or [args.default_collection]
    collections = [s for s in sources if s.suffix.lower() == ".json"]
    scenario_sources = [s for s in sources if s.suffix.lower() != ".json"]
    if len(collections) > 1:
        raise HarnessError(
            f"Give one collection at a time (got {', '.join(map(str, collections))}).",
            hint="Run the harness once per collection.",
        )
    if args.replay and not any(args.cassette_dir.glob("*/*.yaml")):
        # Cassettes are the user's, in the directory they run in: none there means none recorded.
        raise HarnessError(
            f"--replay: no cassettes in {args.cassette_dir}/ (looked for "
            f"{args.cassette_dir}/<collection or scenarios>/*.yaml).",
            hint="Record them first with `harness run --record` (against the sandbox or live "
            "DrChrono), or point --cassette-dir at recorded cassettes.",
        )
    options = RunOptions(
        collection=collections[0] if collections else args.default_collection,
        # None: the target follows the collection (DrChrono's goes to the sandbox).
        environment=args.environment,
        globals_file=args.globals_file,
        iteration_data=args.iteration_data,
        env_vars=parse_assignments(args.env_var),
        folders=args.folder,
        bail=args.bail,
        timeout_request=args.timeout_request,
        workers=max(1, args.workers),
        record_mode=args.record,
        replay=args.replay,
        cassette_dir=args.cassette_dir,
        # Scenario runs record their own cassettes (and token traffic) beside the collection's.
        cassette_group="scenarios" if scenario_sources else None,
        contracts_dir=None if args.no_contracts else args.contracts_dir,
        strict=args.strict,
        token_store=args.token_store,
        rate_limit=args.rate_limit,
        retries=max(0, args.retries),
        keep_bodies=args.html is not None or args.verbose,  # -v shows them on the console
        allow_outside_files=args.allow_outside_files,
        scripts=_script_settings(args),
        fill_placeholders=args.fill_placeholders,
        access_token=_given_access_token(args),
        shard=Shard.parse(args.shard) if args.shard else None,
        strict_variables=args.strict_variables,
    )
    options = _newman_options(options, args, scenarios=bool(scenario_sources))
    reporters: list[Reporter] = [
        ConsoleReporter(verbose=args.verbose, color=args.color),
        *reports,
    ]
    with open_session(options, notify=_notice) as session:
        if scenario_sources:
            summary = session.run_scenarios(scenario_sources, reporters)
        else:
            summary = session.run(session.plan(), reporters)
        _export(session, args)
    if summary.fatal is not None:
        print(f"error: {summary.fatal}", file=sys.stderr)
        return EXIT_BAD_INPUT  # a set-up problem: the credentials, not the API, need fixing
    if summary.timed_out is not None:
        print(f"error: {summary.timed_out}", file=sys.stderr)
    if summary.ok:
        return EXIT_OK
    return EXIT_OK if args.suppress_exit_code else EXIT_FAILED_CHECKS


def _newman_options(
    options: RunOptions, args: argparse.Namespace, *, scenarios: bool
) -> RunOptions:
    """``options`` with Newman's options (``-n``, ``--delay-request``, ``--timeout``, TLS...)."""
    from harness.session.exports import check_export_path
    from harness.session.options import TlsOptions

    if args.iteration_count is not None and scenarios:
        raise HarnessError(
            "-n/--iteration-count repeats a collection; scenarios repeat with their own 'data:'.",
            hint="Drop -n, or give the scenario a data: list with one row per run.",
        )
    for option, path in (
        ("--export-environment", args.export_environment),
        ("--export-globals", args.export_globals),
        ("--export-collection", args.export_collection),
    ):
        if path is not None:
            check_export_path(path, option)
    if args.working_dir is not None and not args.working_dir.is_dir():
        raise HarnessError(
            f"--working-dir {args.working_dir} is not a directory.",
            hint="Give the directory the collection's file bodies and form files are relative to.",
        )
    return dataclasses.replace(
        options,
        iteration_count=args.iteration_count,
        delay_request_s=args.delay_request,
        run_timeout_s=args.timeout or None,
        follow_redirects=not args.ignore_redirects,
        tls=TlsOptions(
            insecure=args.insecure,
            client_cert=args.ssl_client_cert,
            client_key=args.ssl_client_key,
            client_passphrase=args.ssl_client_passphrase,
            extra_ca_certs=args.ssl_extra_ca_certs,
        ),
        global_vars=parse_assignments(args.global_var, option="--global-var"),
        working_dir=args.working_dir.resolve() if args.working_dir is not None else None,
    )


def _export(session: Session, args: argparse.Namespace) -> None:
    """``--export-*`` after the run (also a failed or timed-out one, as Newman does)."""
    from harness.session.exports import ExportPaths

    wanted = ExportPaths(args.export_environment, args.export_globals, args.export_collection)
    if wanted == ExportPaths():
        return
    for exported in session.export(wanted):
        print(exported)


def _notice(message: str) -> None:
    """What the run decided by itself (its target, unresolved variables), before its report
    (standard error holds only the one-paragraph error of a run that could not start)."""
    print(message)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments:  # `harness` alone: what it can do (running is `harness run`)
        parser.print_help()
        return EXIT_OK
    args = parser.parse_args(arguments)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return EXIT_BAD_INPUT
    stdout = sys.stdout
    sys.stdout = _ReaderMayLeave(stdout)
    try:
        return int(args.func(args))
    except (HarnessError, SandboxError) as exc:  # `harness sandbox` runs the sandbox's own CLI
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug in the harness, not in the user's input
        if debugging():
            traceback.print_exc()
        else:
            print(
                f"internal error: {type(exc).__name__} in the harness itself. This is a bug; "
                "run again with HARNESS_DEBUG=1 to see the traceback and report it.",
                file=sys.stderr,
            )
        return EXIT_INTERNAL
    finally:
        sys.stdout.flush()  # while a closed pipe is still handled: Python's flush at exit is not
        sys.stdout = stdout


def debugging() -> bool:
    """``HARNESS_DEBUG=1`` (or yes/true/on) shows tracebacks; unset, empty, 0, no, false, off do not."""
    return os.environ.get("HARNESS_DEBUG", "").strip().lower() not in _OFF


class _ReaderMayLeave(io.TextIOBase):
    """Standard output for every command, that outlives its reader (``harness ... | head``).

    Once the pipe is closed, what is still printed goes to /dev/null: the command finishes its
    work (a run still writes its reports) and exits with its own code, without a traceback.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._discard_the_rest()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._discard_the_rest()

    def _discard_the_rest(self) -> None:
        # Point the descriptor at /dev/null, so that the buffered text, and Python's own flush
        # at exit, go there instead of raising again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self._stream.fileno())
        finally:
            os.close(devnull)

    def fileno(self) -> int:
        return self._stream.fileno()

    def isatty(self) -> bool:
        return self._stream.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]  # read-only in io.TextIOBase too
        return self._stream.encoding

    def writable(self) -> bool:
        return True


if __name__ == "__main__":
    sys.exit(main())
