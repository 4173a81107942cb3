"""What a new user meets first when following README.md: the messages of its commands typed
slightly wrong (a missing file) read as plain English and say what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("-e", "omit the option to run without an environment file."),
        ("-g", "omit the option to run without a globals file."),
    ],
)
def test_a_missing_variable_file_is_named_with_its_article(
    tmp_path: Path, option: str, expected: str
) -> None:
    result = run_cli("run", option, str(tmp_path / "missing.json"))
    assert result.code == 2, result.stdout + result.stderr
    assert result.stderr.startswith("error: ")
    assert "missing.json does not exist" in result.stderr
    assert expected in result.stderr
