"""`harness init` and a project's settings (harness.toml or [tool.drchrono-harness])."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness import paths
from harness.cli import main
from harness.project_config import load_project_config
from harness.project_init import project_files
from tests.conftest import run_cli


def _init(directory: Path) -> None:
    assert main(["init", str(directory)]) == 0


def test_init_writes_the_project_and_its_run_uses_the_projects_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    _init(project)
    out = capsys.readouterr().out
    for name in project_files():
        assert (project / name).is_file() and f"wrote {project / name}" in out
    live = json.loads((project / "environments/live.postman_environment.json").read_text())
    assert not [v for v in live["values"] if "secret" in v["key"] or "token" in v["key"]]

    # From a sub-directory: the project's collection, and its cassette dir (record_mode once).
    (project / "harness.toml").write_text(
        (project / "harness.toml")
        .read_text()
        .replace('record_mode = "none"', 'record_mode = "once"')
    )
    monkeypatch.chdir(project / "scenarios")
    assert main(["run", "--folder", "Offices", "--json", str(tmp_path / "s.json")]) == 0
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["run"]["source"] == str(project / "collections/drchrono.postman_collection.json")
    assert sorted(p.name for p in (project / "cassettes").rglob("*.yaml"))
    assert not (project / "scenarios" / "cassettes").exists()

    # The command line beats the settings.
    other = tmp_path / "other-cassettes"
    assert main(["run", "--folder", "Offices", "--cassette-dir", str(other)]) == 0
    assert list(other.rglob("*.yaml"))


def test_init_refuses_to_overwrite_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "example.yaml").write_text("mine\n")
    assert main(["init", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "already has scenarios/example.yaml; nothing was written" in err
    assert "it would have written harness.toml, collections/" in err
    assert (tmp_path / "scenarios" / "example.yaml").read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["example.yaml", "scenarios"]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('colection = "c.json"\n', "setting 'colection' is not a setting"),
        ('record_mode = "sometimes"\n', "setting 'record_mode' is 'sometimes'"),
        ("rate_limit = 5\n", "setting 'rate_limit' must be a non-empty string"),
        ('rate_limit = "fast"\n', "setting 'rate_limit' is 'fast'"),
        ("collection = \n", "not valid TOML"),
    ],
)
def test_a_bad_setting_is_one_error_naming_the_file_and_key(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    text: str,
    named: str,
) -> None:
    (tmp_path / "harness.toml").write_text(text)
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--json", "s.json"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {tmp_path / 'harness.toml'}") and named in err
    assert "Traceback" not in err
    assert json.loads((tmp_path / "s.json").read_text())["fatal"].startswith(str(tmp_path))


def test_settings_in_pyproject_are_found_upwards_and_relative_to_their_file(
    tmp_path: Path,
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "mine"\n\n[tool.drchrono-harness]\ncassette_dir = "tapes"\n'
    )
    inner = tmp_path / "a" / "b"
    inner.mkdir(parents=True)
    (tmp_path / "a" / "pyproject.toml").write_text('[project]\nname = "no settings"\n')
    found = load_project_config(inner)
    assert found.file == tmp_path / "pyproject.toml"
    assert found.cassette_dir == tmp_path / "tapes" and found.collection is None

    (tmp_path / "a" / "harness.toml").write_text('scenarios_dir = "s"\n')  # nearer: it wins
    assert load_project_config(inner).scenarios_dir == tmp_path / "a" / "s"

    (tmp_path / "a" / "harness.toml").unlink()
    (tmp_path / "pyproject.toml").write_text("[tool.drchrono-harness]\nstrict = true\n")
    with pytest.raises(
        Exception, match=r"pyproject.toml: setting '\[tool.drchrono-harness\].strict'"
    ):
        load_project_config(inner)


def test_no_settings_means_the_shipped_defaults(tmp_path: Path) -> None:
    assert load_project_config(tmp_path).file is None


def test_the_workflow_shards_merges_and_caches_the_rotating_token_store() -> None:
    workflow = yaml.safe_load(project_files()[".github/workflows/drchrono-contracts.yml"])
    jobs = workflow["jobs"]
    assert jobs["replay"]["strategy"]["matrix"]["shard"] == [1, 2, 3]
    steps = " ".join(json.dumps(step) for job in jobs.values() for step in job["steps"])
    for needed in (
        "--shard ${{ matrix.shard }}/3",
        "harness report merge",
        "actions/cache/restore@v4",
        "actions/cache/save@v4",
        "mikepenz/action-junit-report",
        "--token-store .cache/drchrono-tokens.json",
    ):
        assert needed in steps
    assert "secrets.DRCHRONO_CLIENT_SECRET" in json.dumps(jobs["live"]["env"])


@pytest.mark.slow
def test_init_in_an_empty_directory_then_harness_run_and_pytest_pass(tmp_path: Path) -> None:
    """As a user would: three commands in a fresh directory, each in its own process."""
    assert run_cli("init", cwd=tmp_path).code == 0
    ran = run_cli("run", "--junit", "reports/junit.xml", cwd=tmp_path)
    assert ran.code == 0, ran.stdout + ran.stderr
    assert (tmp_path / "reports" / "junit.xml").is_file()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DRCHRONO_")}
    tested = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "1 passed" in tested.stdout
    assert (
        paths.DEFAULT_COLLECTION.read_text()
        == (tmp_path / "collections/drchrono.postman_collection.json").read_text()
    )
