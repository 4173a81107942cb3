"""The ``harness`` command.

Exit codes: 0 every check passed, 1 a check failed or a request errored, 2 bad input or set-up,
3 an internal error (a bug: the message says how to get the traceback).
A :class:`HarnessError` is printed as its one-paragraph message; no traceback reaches the user.
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from drchrono_sandbox.errors import SandboxError
from harness import __version__, paths
from harness.errors import EXIT_BAD_INPUT, EXIT_FAILED_CHECKS, EXIT_OK, HarnessError
from harness.variables import parse_assignments

if TYPE_CHECKING:
    from harness.scripting.hooks import ScriptSettings

EXIT_INTERNAL = 3
_OFF = frozenset({"", "0", "no", "false", "off"})
RECORD_MODES = ("once", "new_episodes", "all", "rewrite")
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
        description="Run DrChrono Postman collections and YAML scenarios with real OAuth 2.0, "
        "JSON-schema contracts and scrubbed cassettes.",
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
        help="Postman environment file (default: the sandbox environment)",
    )
    run.add_argument("-g", "--globals", type=Path, dest="globals_file", help="Postman globals file")
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
        "--folder",
        action="append",
        default=[],
        metavar="NAME",
        help="run only this folder or request (repeatable)",
    )
    run.add_argument("--bail", action="store_true", help="stop at the first failure")
    run.add_argument(
        "--timeout-request",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="time limit for each request (default 30)",
    )
    run.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="run independent folders and scenarios concurrently (default 1)",
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
        default=paths.CASSETTES_DIR,
        help="where cassettes are recorded and replayed (default ./cassettes)",
    )
    run.add_argument(
        "--contracts",
        type=Path,
        default=paths.CONTRACTS_DIR,
        dest="contracts_dir",
        help="contracts directory (default: the DrChrono contracts shipped with the harness)",
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
        "--allow-outside-files",
        action="store_true",
        help="let bodies upload files outside the working directory",
    )
    run.add_argument(
        "--no-scripts",
        action="store_true",
        help="do not run the collection's pre-request and test scripts (each is listed as not run)",
    )
    run.add_argument(
        "--timeout-script",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="CPU-time limit for each script execution (default 5)",
    )
    run.add_argument(
        "--script-libs",
        type=Path,
        metavar="DIR",
        help="a node_modules directory that scripts may require() packages from",
    )
    run.add_argument(
        "-v", "--verbose", action="store_true", help="show drift, scripts' console and more detail"
    )
    run.set_defaults(func=cmd_run)


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
    from harness.reporters import ConsoleReporter, JsonReporter, JUnitReporter
    from harness.results import Reporter
    from harness.session import RunOptions, open_session

    sources: list[Path] = list(args.sources) or [paths.DEFAULT_COLLECTION]
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
    environment = args.environment
    if environment is None and not args.replay:
        environment = paths.SANDBOX_ENVIRONMENT
    options = RunOptions(
        collection=collections[0] if collections else paths.DEFAULT_COLLECTION,
        environment=environment,
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
        keep_bodies=args.html is not None,
        allow_outside_files=args.allow_outside_files,
        scripts=_script_settings(args),
        fill_placeholders=args.fill_placeholders,
        access_token=_given_access_token(args),
    )
    reporters: list[Reporter] = [ConsoleReporter(verbose=args.verbose)]
    if args.junit:
        reporters.append(JUnitReporter(args.junit))
    if args.json:
        reporters.append(JsonReporter(args.json))
    if args.html:
        from harness.reporters.html import HtmlReporter

        reporters.append(HtmlReporter(args.html))
    with open_session(options) as session:
        if scenario_sources:
            summary = session.run_scenarios(scenario_sources, reporters)
        else:
            summary = session.run(session.plan(), reporters)
    if summary.fatal is not None:
        print(f"error: {summary.fatal}", file=sys.stderr)
        return EXIT_BAD_INPUT  # a set-up problem: the credentials, not the API, need fixing
    return EXIT_OK if summary.ok else EXIT_FAILED_CHECKS


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments:
        arguments = ["run"]  # the README's main job: the DrChrono suite against the sandbox
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
