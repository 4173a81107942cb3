"""Issue #12, inputs: templates see only declared values, user text never escapes its directory,
and oversized or hostile input is refused with a clear message instead of hanging or crashing."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from typing import Protocol

import pytest

from harness import paths
from harness.scenarios.templates import TemplateProblem, check_syntax, render_text
from tests.conftest import CliResult, run_cli

SANDBOX_ENV = str(paths.SANDBOX_ENVIRONMENT)


class InProcessCli(Protocol):
    def __call__(
        self, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> CliResult: ...


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> InProcessCli:
    """``harness ARGS`` in this process (a subprocess costs seconds of imports per test); kept
    for the tests whose failure would hang or exhaust memory, which use :func:`run_cli`."""
    from harness.cli import main

    def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> CliResult:
        with monkeypatch.context() as patch:
            for name in [n for n in os.environ if n.startswith("DRCHRONO_")]:
                patch.delenv(name)
            for name, value in {"CI": "1", "NO_COLOR": "1", **(env or {})}.items():
                patch.setenv(name, value)
            patch.chdir(cwd or paths.PROJECT_ROOT)
            capsys.readouterr()
            code = main(list(args))
            out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


# --- Blocker 1: templates cannot read the OS environment -------------------------------------


def test_a_template_cannot_read_the_os_environment(tmp_path: Path, cli: InProcessCli) -> None:
    scenario = write(
        tmp_path / "leak.yaml",
        """
        scenarios:
          - name: Leak
            steps:
              - request: Patients/List patients
                query: {leak: "{{ env.HARNESS_TEST_OS_SECRET }}"}
        """,
    )
    report = tmp_path / "report.json"
    done = cli(
        "run",
        str(scenario),
        "-e",
        SANDBOX_ENV,
        "--no-contracts",
        "--json",
        str(report),
        env={"HARNESS_TEST_OS_SECRET": "os-secret-value-42"},
    )
    assert done.code == 2, done.stdout + done.stderr
    assert f"{scenario}:4:" in done.stderr and "'env'" in done.stderr
    assert "os-secret-value-42" not in done.stdout + done.stderr
    assert not report.exists() or "os-secret-value-42" not in report.read_text()


def test_an_os_supplied_variable_is_masked_in_reports(tmp_path: Path, cli: InProcessCli) -> None:
    environment = tmp_path / "env.json"
    environment.write_text(
        json.dumps(
            {
                "values": [
                    {"key": "harness_target", "value": "sandbox"},
                    {"key": "marker", "value": "from-the-file"},
                ]
            }
        )
    )
    scenario = write(
        tmp_path / "marker.yaml",
        """
        scenarios:
          - name: Marker
            steps:
              - request: Patients/List patients
                query: {marker: "{{ marker }}"}
        """,
    )
    report = tmp_path / "report.json"
    done = cli(
        "run",
        str(scenario),
        "-e",
        str(environment),
        "--no-contracts",
        "--json",
        str(report),
        env={"DRCHRONO_MARKER": "os-value-77431"},
    )
    assert done.code == 0, done.stdout + done.stderr
    text = report.read_text()
    assert "marker=" in text
    assert "os-value-77431" not in text + done.stdout + done.stderr


# --- Blocker 2: cassette names from user text stay inside --cassette-dir ----------------------


def scenario_file(path: Path, *names: str) -> Path:
    body = "".join(
        f"  - name: {json.dumps(name)}\n    steps:\n      - request: Patients/List patients\n"
        for name in names
    )
    return write(path, "scenarios:\n" + body)


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def test_a_scenario_name_cannot_write_outside_the_cassette_dir(
    tmp_path: Path, cli: InProcessCli
) -> None:
    scenario = scenario_file(tmp_path / "s" / "evil.yaml", "_/../../../victim")
    cassettes = tmp_path / "a" / "b" / "cassettes"
    done = cli(
        "run",
        str(scenario),
        "-e",
        SANDBOX_ENV,
        "--no-contracts",
        "--record",
        "all",
        "--cassette-dir",
        str(cassettes),
    )
    assert done.code in (0, 1), done.stdout + done.stderr
    written = files_under(tmp_path) - {scenario}
    assert written and all(p.is_relative_to(cassettes) for p in written), written
    assert (cassettes / "scenarios" / "victim.yaml").is_file()


def test_names_that_share_a_cassette_are_refused_before_sending(
    tmp_path: Path, cli: InProcessCli
) -> None:
    scenario = scenario_file(tmp_path / "clash.yaml", "Foo Bar", "foo/bar")
    cassettes = tmp_path / "cassettes"
    done = cli(
        "run",
        str(scenario),
        "-e",
        SANDBOX_ENV,
        "--no-contracts",
        "--record",
        "all",
        "--cassette-dir",
        str(cassettes),
    )
    assert done.code == 2, done.stdout + done.stderr
    assert "'foo/bar' and 'Foo Bar' would share the cassette" in done.stderr
    assert "Traceback" not in done.stderr
    assert not files_under(cassettes) - {cassettes / "scenarios" / "_environment.json"}


def test_a_user_name_never_maps_onto_the_token_cassette(tmp_path: Path, cli: InProcessCli) -> None:
    scenario = scenario_file(tmp_path / "oauth.yaml", "_oauth")
    cassettes = tmp_path / "cassettes"
    done = cli(
        "run",
        str(scenario),
        "-e",
        SANDBOX_ENV,
        "--no-contracts",
        "--record",
        "all",
        "--cassette-dir",
        str(cassettes),
    )
    assert done.code == 0, done.stdout + done.stderr
    user = (cassettes / "scenarios" / "oauth.yaml").read_text()
    token = (cassettes / "scenarios" / "_oauth.yaml").read_text()
    assert "/api/patients" in user and "/api/patients" not in token


def test_collection_folders_that_share_a_cassette_are_refused(
    tmp_path: Path, cli: InProcessCli
) -> None:
    def folder(name: str) -> dict[str, object]:
        request = {"method": "GET", "url": "{{base_url}}/api/doctors"}
        return {"name": name, "item": [{"name": "List", "request": request}]}

    collection = tmp_path / "c.postman_collection.json"
    collection.write_text(
        json.dumps(
            {
                "info": {
                    "name": "Clash",
                    "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
                },
                "item": [folder("_/../../victim"), folder("Victim")],
            }
        )
    )
    cassettes = tmp_path / "cassettes"
    done = cli(
        "run",
        str(collection),
        "-e",
        SANDBOX_ENV,
        "--no-contracts",
        "--record",
        "all",
        "--cassette-dir",
        str(cassettes),
    )
    assert done.code == 2, done.stdout + done.stderr
    assert "would share the cassette" in done.stderr and "'_/../../victim'" in done.stderr
    assert files_under(tmp_path) - {collection} <= files_under(cassettes)


# --- Caps: alias bombs and huge template values ------------------------------------------------


def test_a_yaml_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ['      a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 9):
        refs = ",".join([f"*a{level - 1}"] * 9)
        lines.append(f"      a{level}: &a{level} [{refs}]")
    scenario = write(
        tmp_path / "bomb.yaml",
        "scenarios:\n  - name: Bomb\n    variables:\n"
        + "\n".join(lines)
        + "\n    steps:\n      - request: Patients/List patients\n",
    )
    done = run_cli("run", str(scenario), "-e", SANDBOX_ENV, "--no-contracts", timeout=60)
    assert done.code == 2, done.stdout + done.stderr
    assert f"{scenario}:" in done.stderr and "100,000 values" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_template_value_is_capped(tmp_path: Path) -> None:
    scenario = write(
        tmp_path / "huge.yaml",
        """
        scenarios:
          - name: Huge
            steps:
              - request: Patients/List patients
                query: {q: "{{ 'a' * 10**9 }}"}
          - name: Loops
            steps:
              - request: Patients/List patients
                query: {q: "{% for i in range(99999) %}{% for j in range(99999) %}x{% endfor %}{% endfor %}"}
        """,
    )
    report = tmp_path / "report.json"
    done = run_cli(
        "run",
        str(scenario),
        "-e",
        SANDBOX_ENV,
        "--no-contracts",
        "--json",
        str(report),
        timeout=60,
    )
    # A value that cannot be rendered fails its step (as an undefined name does), not the run.
    assert done.code == 1, done.stdout + done.stderr
    messages = [r["message"] for r in json.loads(report.read_text())["results"]]
    assert f"{scenario}:4:" in messages[0] and "1,000,000 characters" in messages[0]
    assert f"{scenario}:8:" in messages[1] and "1,000,000 characters" in messages[1]


# --- Input size caps, one data-row reader, one rule for files named inside inputs --------------


def test_an_oversized_collection_is_refused_naming_the_limit(
    tmp_path: Path, cli: InProcessCli
) -> None:
    collection = tmp_path / "big.postman_collection.json"
    collection.write_text('{"info": {"name": "big"}, "item": [], "pad": "' + "x" * 1_200_000 + '"}')
    done = cli("run", str(collection), env={"HARNESS_MAX_INPUT_MB": "1"})
    assert done.code == 2, done.stdout + done.stderr
    assert f"The collection file {collection} is larger than 1 MB" in done.stderr
    assert "HARNESS_MAX_INPUT_MB" in done.stderr and "Traceback" not in done.stderr


def test_too_many_iteration_rows_are_refused_naming_the_limit(
    tmp_path: Path, cli: InProcessCli
) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("n\n" + "".join(f"{i}\n" for i in range(6)))
    done = cli(
        "run",
        "-e",
        SANDBOX_ENV,
        "--no-contracts",
        "-d",
        str(rows),
        env={"HARNESS_MAX_DATA_ROWS": "5"},
    )
    assert done.code == 2, done.stdout + done.stderr
    assert f"{rows} has more than 5 rows" in done.stderr and "HARNESS_MAX_DATA_ROWS" in done.stderr


def test_scenario_data_uses_the_same_reader_and_limits(tmp_path: Path, cli: InProcessCli) -> None:
    (tmp_path / "rows.csv").write_text('n\n"1\n')
    scenario = write(
        tmp_path / "data.yaml",
        """
        scenarios:
          - name: Data
            data: rows.csv
            steps: [Patients/List patients]
        """,
    )
    done = cli("run", str(scenario), "-e", SANDBOX_ENV, "--no-contracts")
    assert done.code == 2, done.stdout + done.stderr
    assert (
        f"{scenario}:3:" in done.stderr and "quote that opens a cell is not closed" in done.stderr
    )


def test_scenario_data_outside_the_allowed_directories_is_refused(
    tmp_path: Path, cli: InProcessCli
) -> None:
    (tmp_path / "private.csv").write_text("secret\nleak-me-123456\n")
    work = tmp_path / "work"
    scenario = write(
        work / "scenarios" / "s.yaml",
        """
        scenarios:
          - name: Outside
            data: ../../private.csv
            steps: [Patients/List patients]
        """,
    )
    done = cli("run", str(scenario), "-e", SANDBOX_ENV, "--no-contracts", cwd=work)
    assert done.code == 2, done.stdout + done.stderr
    assert f"{scenario}:3:" in done.stderr and "outside the working directory" in done.stderr
    assert "leak-me-123456" not in done.stdout + done.stderr


# --- Stray temp files of killed writers ----------------------------------------------------------


def test_stale_temp_files_of_dead_writers_are_removed_on_the_next_write(
    tmp_path: Path, cli: InProcessCli
) -> None:
    import os
    import time

    out = tmp_path / "out"
    out.mkdir()
    dead = out / ".report.json.999999999.k3j2.tmp"  # no process has that id
    unowned_old = out / ".report.json.ab12cd.tmp"  # an older writer's name, an hour old
    alive = out / f".report.json.{os.getpid()}.zz99.tmp"  # a writer that is still running
    other = out / ".other.json.999999999.k3j2.tmp"  # another file's temp: not ours to judge
    for temp in (dead, unowned_old, alive, other):
        temp.write_text("half a report")
    hour_ago = time.time() - 7200
    os.utime(unowned_old, (hour_ago, hour_ago))
    scenario = scenario_file(tmp_path / "s.yaml", "Write a report")
    done = cli(
        "run",
        str(scenario),
        "-e",
        SANDBOX_ENV,
        "--no-contracts",
        "--json",
        str(out / "report.json"),
    )
    assert done.code == 0, done.stdout + done.stderr
    assert (out / "report.json").is_file()
    assert {p.name for p in out.iterdir()} == {"report.json", alive.name, other.name}


@pytest.mark.parametrize(
    "template",
    [
        "{{ 'a' * 10**9 }}",
        "{{ [0] * 10**9 }}",
        "{{ 'a'.ljust(10**9) }}",
        "{{ 'a' | center(10**9) }}",
        "{{ '{:>1000000000}'.format(1) }}",
        "{{ '%1000000000s' % 1 }}",
        "{{ '%1000000000s' | format(1) }}",
        "x{% for i in range(99999) %}{% for j in range(99999) %}x{% endfor %}{% endfor %}",
    ],
)
def test_every_way_to_build_a_huge_value_is_refused_before_allocating(template: str) -> None:
    with pytest.raises(TemplateProblem, match="1,000,000"):
        check_syntax(template)
        render_text(template, {})


def test_ordinary_padding_and_formatting_still_work() -> None:
    text = "{{ 'ab'.ljust(4) }}|{{ 'x' | center(3) }}|{{ '{:>3}'.format(1) }}|{{ '%03d' % 7 }}"
    assert render_text(text, {}) == "ab  | x |  1|007"
    assert render_text("{{ 2 ** 10 * 3 }}", {}) == 3072
