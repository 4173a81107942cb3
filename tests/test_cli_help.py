"""CLI polish (issue #17.6): every option and sub-command has help text, `harness` alone prints
help and exits 0, and every command uses the same exit codes (0 ok, 1 a check failed, 2 bad
input or set-up, 3 internal)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import cli

# Options argparse adds itself, whose help it writes.
_BUILT_IN = (argparse._HelpAction, argparse._VersionAction)


def _sub_parsers(
    parser: argparse.ArgumentParser, path: str
) -> Iterator[tuple[str, argparse.ArgumentParser, str | None]]:
    """(command path, parser, its help line) for every sub-command, features loaded first."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for name in list(action.choices):
            cli.load_feature_command(action, name)  # the lazily registered feature commands
        helps = {choice.dest: choice.help for choice in action._choices_actions}
        for name, sub in action.choices.items():
            yield f"{path} {name}", sub, helps.get(name)
            yield from _sub_parsers(sub, f"{path} {name}")


def _all_parsers() -> list[tuple[str, argparse.ArgumentParser, str | None]]:
    root = cli.build_parser()
    return [("harness", root, "the harness"), *_sub_parsers(root, "harness")]


def test_every_command_and_option_has_help() -> None:
    missing: list[str] = []
    parsers = _all_parsers()
    names = {path for path, _, _ in parsers}
    # The walk reaches the lazily registered features and their own sub-commands.
    assert {"harness run", "harness auth login", "harness contracts diff"} <= names
    assert {"harness cassettes scan", "harness sandbox"} <= names
    for path, parser, help_line in parsers:
        if not help_line:
            missing.append(f"{path}: no help line")
        for action in parser._actions:
            if isinstance(action, (*_BUILT_IN, argparse._SubParsersAction)):
                continue
            if not action.help or action.help == argparse.SUPPRESS:
                shown = "/".join(action.option_strings) or action.dest
                missing.append(f"{path} {shown}: no help")
    assert missing == []


def test_harness_alone_prints_help_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 0
    out = capsys.readouterr().out
    assert "usage: harness" in out and "run" in out
    # The exit codes are documented where a user looks first.
    assert "exit codes" in out and "2  bad input or set-up" in out
    assert "3  an internal error" in out


@pytest.mark.parametrize("group", ["auth", "contracts", "cassettes"])
def test_a_command_group_alone_prints_its_help_and_exits_0(
    group: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main([group]) == 0
    assert f"usage: harness {group}" in capsys.readouterr().out


def test_the_console_script_alone_does_not_run_anything(tmp_path: Path) -> None:
    # In an empty directory: no collection is run, no cassette or report is written.
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "usage: harness" in done.stdout and "Summary" not in done.stdout
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "argv",
    [
        ["cassettes", "show", "missing.yaml"],
        ["cassettes", "scan", "missing"],
        ["contracts", "coverage", "--from", "missing.json"],
        ["contracts", "diff", "a"],
        ["auth", "status", "--collection", "missing.json"],
        ["run", "missing.json"],
        ["run", "--timeout-request", "5000"],
        ["run", "--no-such-option"],
    ],
)
def test_bad_input_exits_2_in_every_command(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse's own usage errors
        code = int(exc.code or 0)
    assert code == 2


def test_an_internal_error_exits_3_with_no_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(args: argparse.Namespace) -> int:
        raise RuntimeError("a bug")

    monkeypatch.delenv("HARNESS_DEBUG", raising=False)
    monkeypatch.setattr(cli, "cmd_run", broken)
    assert cli.main(["run"]) == 3
    err = capsys.readouterr().err
    assert "internal error" in err and "Traceback" not in err
