"""The JavaScript engine is loaded only when a script runs."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from harness.cli import main
import harness.scripting
try:
    main(["--version"])
except SystemExit:
    pass
print("engine loaded" if "quickjs" in sys.modules else "engine not loaded")
"""


def test_version_and_importing_the_package_do_not_load_the_engine() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
    ).stdout
    assert out.splitlines()[-1] == "engine not loaded"
