"""The wheel, installed outside the checkout without pytest, runs the DrChrono suite on its own.

Honest and fast: the wheel is built offline from a copy of the sources (nothing is written into
the checkout); it is installed with --no-deps into a fresh venv that sees the project venv's
third-party packages except pytest and its plugins (so the CLI must not need them); the commands
run in an empty directory, where the shipped collection, contracts and OpenAPI document can only
come from the installed package.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

from harness import paths
from tests.conftest import run_cli

# The [pytest] extra (and what only it brings): a CLI user has none of these.
PYTEST_ONLY = ("pytest", "_pytest", "pytest_recording", "xdist", "pluggy", "iniconfig", "py")
SOURCES = (
    "pyproject.toml",
    "README.md",
    "harness",
    "drchrono_sandbox",
    "collections",
    "contracts",
)


def _run(*args: str | Path, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DRCHRONO_", "PYTHON"))}
    env.update({"CI": "1", "NO_COLOR": "1"})
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    if check:
        assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done


def _without_pytest(site_packages: Path, view: Path) -> None:
    """A directory of links to every installed package but pytest's."""
    view.mkdir()
    for entry in site_packages.iterdir():
        name = entry.name.split("-")[0].split(".")[0].lower()
        if name in PYTEST_ONLY or name.startswith(("pytest_", "_pytest", "__editable__")):
            continue
        if (
            entry.suffix == ".pth"
            or name.startswith("drchrono_harness")
            or name in ("harness", "drchrono_sandbox")
        ):
            continue
        (view / entry.name).symlink_to(entry)


# Builds a wheel and a fresh venv (~6 s): CI runs it with the slow tests.
@pytest.mark.slow
def test_the_wheel_runs_and_replays_in_an_empty_directory_without_pytest(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in SOURCES:
        origin = paths.PROJECT_ROOT / name
        if origin.is_dir():
            shutil.copytree(
                origin, source / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy(origin, source / name)
    _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "-q",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "-w",
        tmp_path / "dist",
        source,
        cwd=tmp_path,
    )
    [wheel] = (tmp_path / "dist").glob("drchrono_harness-*.whl")

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    _run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "-q",
        "--no-deps",
        "--no-index",
        wheel,
        cwd=tmp_path,
    )
    venv_site = Path(
        _run(
            python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path
        ).stdout.strip()
    )
    [project_site] = [Path(p) for p in site.getsitepackages() if Path(p).is_dir()][:1]
    _without_pytest(project_site, tmp_path / "deps")
    (venv_site / "deps.pth").write_text(str(tmp_path / "deps") + "\n")

    work = tmp_path / "empty"
    work.mkdir()
    assert _run(python, "-c", "import pytest", cwd=work, check=False).returncode != 0
    where = _run(
        python, "-c", "from harness import paths; print(paths.DEFAULT_COLLECTION)", cwd=work
    )
    assert where.stdout.startswith(str(venv_site)), where.stdout

    harness = venv / "bin" / "harness"
    assert "harness " in _run(harness, "--version", cwd=work).stdout
    # The sandbox product: its own command, and the shipped data found in the installed package.
    assert (
        "drchrono-sandbox " in _run(venv / "bin" / "drchrono-sandbox", "--version", cwd=work).stdout
    )
    document = _run(
        python,
        "-c",
        "from drchrono_sandbox.paths import default_openapi_document as d; print(d().is_file(), d())",
        cwd=work,
    )
    assert document.stdout.startswith(f"True {venv_site}"), document.stdout
    recorded = _run(harness, "run", "--record", "--json", "recorded.json", cwd=work)
    assert "passed" in recorded.stdout
    assert list((work / "cassettes").rglob("*.yaml")), "recorded into ./cassettes"
    replayed = _run(harness, "run", "--replay", "--json", "replayed.json", cwd=work)
    assert '"failed": 0' in (work / "replayed.json").read_text(), replayed.stdout
    # Nothing but what was asked for was written: reports and ./cassettes.
    assert sorted(p.name for p in work.iterdir()) == ["cassettes", "recorded.json", "replayed.json"]


def test_replay_in_a_directory_without_cassettes_says_to_record_first(tmp_path: Path) -> None:
    result = run_cli("run", "--replay", cwd=tmp_path)
    assert result.code == 2, result.stdout + result.stderr
    assert "--replay: no cassettes in cassettes/" in result.stderr
    assert "harness run --record" in result.stderr
    assert list(tmp_path.iterdir()) == []
