"""Start-up stays light: `harness --version` and `--help` load no feature's heavy libraries.

The feature commands (sandbox, auth, contracts, cassettes) build their parsers on first use; these
tests pin that, so an eager import added anywhere on the start-up path shows up as a failure here.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys

import pytest

from harness import __version__
from harness.cli import FEATURE_COMMANDS, build_parser, main

HEAVY_LIBRARIES = ("starlette", "uvicorn", "faker", "jsonschema", "authlib", "vcr")

_LOADED_AFTER = """
import json, sys
from harness.cli import main
try:
    main({argv!r})
except SystemExit:
    pass
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in {heavy!r})))
"""


def _heavy_modules_loaded_by(argv: list[str]) -> list[str]:
    code = _LOADED_AFTER.format(argv=argv, heavy=set(HEAVY_LIBRARIES))
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize("argv", [["--version"], ["--help"]])
def test_version_and_help_import_no_feature_library(argv: list[str]) -> None:
    assert _heavy_modules_loaded_by(argv) == []


def test_version_still_prints_the_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.strip() == f"harness {__version__}"


def test_top_level_help_lists_every_feature_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for name, (help_line, _module) in FEATURE_COMMANDS.items():
        assert name in out
        assert help_line.split()[0] in out


def test_a_feature_command_gets_its_full_parser_on_use(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["contracts", "diff", "--help"])
    assert stopped.value.code == 0
    assert "--cassettes" in capsys.readouterr().out
    args = build_parser().parse_args(["cassettes", "show", "x.yaml"])
    assert args.cassettes_command == "show" and callable(args.func)


@pytest.mark.parametrize("name", sorted(FEATURE_COMMANDS))
def test_the_stub_help_line_is_the_features_own(name: str) -> None:
    """`harness --help` shows the stub's line; it must say what the feature's parser says."""
    help_line, module = FEATURE_COMMANDS[name]
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers()
    importlib.import_module(module).register(commands)
    (registered,) = [a for a in commands._choices_actions if a.dest == name]
    assert registered.help == help_line
