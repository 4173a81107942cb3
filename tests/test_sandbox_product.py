"""The sandbox as a product of its own: its console script, version and errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

import drchrono_sandbox
from drchrono_sandbox.cli import main


def test_drchrono_sandbox_prints_its_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.strip() == f"drchrono-sandbox {drchrono_sandbox.__version__}"


def test_a_bad_fault_flag_is_one_paragraph_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--port", "0", "--fault", "/api/patients*:melt"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "melt" in err and "Traceback" not in err


def test_harness_sandbox_reports_the_same_error_with_exit_2() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli", "sandbox", "--port", "0", "--fault", "x:melt"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and "melt" in done.stderr
