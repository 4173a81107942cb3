"""A collection that hard-codes DrChrono's hosts runs against the sandbox unchanged."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import PROJECT, run_cli


def test_hard_coded_drchrono_hosts_reach_the_sandbox(tmp_path: Path) -> None:
    collection = json.loads(
        (PROJECT / "collections" / "drchrono.postman_collection.json").read_text()
    )
    text = json.dumps(collection)
    text = text.replace("{{base_url}}", "https://app.drchrono.com")
    text = text.replace("{{auth_base_url}}", "https://drchrono.com")
    hard_coded = tmp_path / "hard-coded.postman_collection.json"
    hard_coded.write_text(text)
    assert "{{base_url}}" not in text

    result = run_cli(
        "run",
        str(hard_coded),
        "-e",
        str(PROJECT / "collections" / "sandbox.postman_environment.json"),
        "--json",
        str(tmp_path / "s.json"),
    )
    assert result.code == 0, result.stdout + result.stderr
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["summary"]["passed"] == 17
    assert summary["results"][0]["url"].startswith("https://app.drchrono.com/")
