"""Killing the harness mid-write leaves every file it owns as it was or complete, never truncated.

Reports (JSON, JUnit, HTML) and cassettes are written by a helper process that dies with
``os._exit`` at an injected point (mid-write, after fsync, in place of the rename). Token refreshes
are killed at each point of ``tests/crash_helpers/crash_at.py`` during a real ``harness run``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from drchrono_sandbox import Sandbox
from tests.conftest import PROJECT, run_cli
from tests.crash_helpers.crash_at import CRASH_EXIT_CODE, POINTS
from tests.crash_helpers.write_artifact import CRASH_CODE, ROWS

# Many processes killed mid-write: slow on 2 cores. `make test-slow` (and CI) runs it.
pytestmark = pytest.mark.slow

KINDS = {"json": "out.json", "junit": "out.xml", "html": "out.html", "cassette": "c.yaml"}
CRASHES = ["write", "fsync", "replace"]


def write(kind: str, path: Path, label: str, crash: str) -> int:
    done = subprocess.run(
        [sys.executable, "-m", "tests.crash_helpers.write_artifact", kind, str(path), label, crash],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode


def label_of(kind: str, path: Path) -> str:
    """Parse the file completely and say which run wrote it; fails on a truncated file."""
    text = path.read_text(encoding="utf-8")
    if kind == "json":
        results = json.loads(text)["results"]
        labels = {r["name"].split("-")[0] for r in results}
    elif kind == "junit":
        cases = ET.fromstring(text).iter("testcase")
        labels = {c.get("name", "").split("-")[0] for c in cases}
        results = list(ET.fromstring(text).iter("testcase"))
    elif kind == "html":
        assert text.rstrip().endswith("</html>"), "the HTML report is cut short"
        labels = {word for word in ("old", "new") if f"{word}-{ROWS - 1}" in text}
        results = [None] * ROWS if labels else []
    else:
        interactions = yaml.safe_load(text)["interactions"]
        labels = {json.loads(i["response"]["body"]["string"])["label"] for i in interactions}
        results = interactions
    assert len(labels) == 1 and len(results) == ROWS, "the file mixes runs or lost rows"
    return labels.pop()


@pytest.mark.parametrize("crash", CRASHES)
@pytest.mark.parametrize("kind", list(KINDS))
def test_a_killed_write_leaves_the_old_file(tmp_path: Path, kind: str, crash: str) -> None:
    path = tmp_path / KINDS[kind]
    assert write(kind, path, "old", "none") == 0
    assert label_of(kind, path) == "old"
    assert write(kind, path, "new", crash) == CRASH_CODE
    assert label_of(kind, path) == "old"
    assert write(kind, path, "new", "none") == 0  # and the next run replaces it cleanly
    assert label_of(kind, path) == "new"


@pytest.mark.parametrize("crash", ["write", "replace"])
def test_a_killed_first_write_leaves_no_file(tmp_path: Path, crash: str) -> None:
    path = tmp_path / "report.json"
    assert write("json", path, "new", crash) == CRASH_CODE
    assert not path.exists()


def test_a_sigkill_during_a_large_write_leaves_old_or_new(tmp_path: Path) -> None:
    """No injected point: SIGKILL at whatever moment the writer has reached."""
    path = tmp_path / "c.yaml"
    assert write("cassette", path, "old", "none") == 0
    for delay in (0.05, 0.2, 0.4, 0.8):
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.crash_helpers.write_artifact",
                "cassette",
                str(path),
                "new",
                "none",
            ],
            cwd=PROJECT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            process.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        assert label_of("cassette", path) in ("old", "new")


# --- token refresh --------------------------------------------------------------------------------


def run_with_crash(
    sb: Sandbox, tmp_path: Path, env: Path, store: Path, crash: str | None
) -> tuple[int, str]:
    args = [
        "run",
        "-e",
        str(env),
        "--token-store",
        str(store),
        "--folder",
        "Users",
        "--no-contracts",
        "--rate-limit",
        "none",
        "--timeout-request",
        "5s",
    ]
    if crash is None:
        result = run_cli(*args, cwd=tmp_path)
        return result.code, result.stdout + result.stderr
    # The same command in a process armed to die at the crash point.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DRCHRONO_")}
    environment.update({"CI": "1", "NO_COLOR": "1", "PYTHONPATH": str(PROJECT)})
    done = subprocess.run(
        [sys.executable, "-m", "tests.crash_helpers.crash_at", crash, *args],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize("point", POINTS)
def test_a_run_killed_during_a_token_refresh_leaves_a_parseable_store(
    sandbox: Sandbox, tmp_path: Path, point: str
) -> None:
    env = sandbox.write_environment(tmp_path / "env.json")
    store = tmp_path / "tokens.json"
    code, output = run_with_crash(sandbox, tmp_path, env, store, None)
    assert code == 0, output
    old = json.loads(store.read_text())
    sandbox.expire_access_tokens()  # the next run must refresh, and dies doing it

    code, output = run_with_crash(sandbox, tmp_path, env, store, point)
    assert code == CRASH_EXIT_CODE, output
    now = json.loads(store.read_text())  # parses: never truncated
    if point == "before_request":
        assert now["version"] == old["version"]  # only the pending marker may differ

    code, output = run_with_crash(sandbox, tmp_path, env, store, None)
    assert "Traceback" not in output
    if point in ("after_response", "store_write_partial"):
        # The rotated refresh token died with the process: a clear auth error (the credentials
        # need fixing: exit 2), never a crash.
        assert code in (0, 2), output
        if code == 2:
            assert "interrupted" in output or "harness auth login" in output
    else:
        assert code == 0, output
    json.loads(store.read_text())
