"""Helpers of the scenario tests: the CLI run in this process."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

from harness import paths
from harness.cli import main
from tests.conftest import CliResult


def cli(*args: str, cwd: Path | None = None) -> CliResult:
    """``harness ARGS`` in this process, without the caller's DRCHRONO_* variables."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("DRCHRONO_")}
    for name in saved:
        del os.environ[name]
    here = Path.cwd()
    out, err = io.StringIO(), io.StringIO()
    try:
        os.chdir(cwd or paths.PROJECT_ROOT)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
    finally:
        os.chdir(here)
        os.environ.update(saved)
    return CliResult(code, out.getvalue(), err.getvalue())
