"""Tokens for DrChrono's own collection: the shape Postman's OpenAPI converter gives it (an oauth2
block on every request, without client credentials), a token stored in a block, a token obtained
elsewhere (DRCHRONO_ACCESS_TOKEN) and the CI hand-off (`harness auth export-access-token`).

Runs go through ``harness.cli.main`` in this process (fast), against a sandbox this module starts;
each test gets its own refresh token, since the sandbox rotates them as DrChrono does.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from drchrono_sandbox import Sandbox, SandboxConfig
from harness import paths
from harness.cli import main
from tests.conftest import PROJECT, refresh_grant

# What openapi-to-postmanv2 writes on each request from DrChrono's `drchrono_oauth2` scheme.
CONVERTER_AUTH: dict[str, Any] = {
    "type": "oauth2",
    "oauth2": [
        {"key": "scope", "value": "user:read calendar:read patients:read"},
        {"key": "accessTokenUrl", "value": "https://app.drchrono.com/o/token/"},
        {"key": "authUrl", "value": "https://app.drchrono.com/o/authorize/"},
        {"key": "grant_type", "value": "authorization_code"},
    ],
}
# The shipped collection's kind of block: the client from variables.
SHIPPED_AUTH: dict[str, Any] = {
    "type": "oauth2",
    "oauth2": [
        {"key": "tokenName", "value": "DrChronoToken"},
        {"key": "grant_type", "value": "authorization_code"},
        {"key": "accessTokenUrl", "value": "{{auth_base_url}}/o/token/"},
        {"key": "clientId", "value": "{{client_id}}"},
        {"key": "clientSecret", "value": "{{client_secret}}"},
        {"key": "client_authentication", "value": "body"},
    ],
}
PATHS = (
    ("Administrative", "Current user", "/api/users/current"),
    ("Administrative", "Doctors", "/api/doctors"),
    ("Practice", "Offices", "/api/offices"),
)


def converter_collection(path: Path, auth: dict[str, Any] | None = None) -> Path:
    """A small collection of the converter's shape: one folder per tag, ``{{baseUrl}}``."""
    folders: dict[str, list[dict[str, Any]]] = {}
    for folder, name, url in PATHS:
        folders.setdefault(folder, []).append(
            {
                "name": name,
                "request": {
                    "auth": copy.deepcopy(auth or CONVERTER_AUTH),
                    "method": "GET",
                    "header": [{"key": "Accept", "value": "application/json"}],
                    "url": {
                        "raw": "{{baseUrl}}" + url,
                        "host": ["{{baseUrl}}"],
                        "path": url.strip("/").split("/"),
                    },
                },
                "response": [],
            }
        )
    document = {
        "info": {
            "name": "DrChrono API",
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
        },
        "item": [{"name": folder, "item": items} for folder, items in folders.items()],
        "variable": [{"key": "baseUrl", "value": "https://app.drchrono.com"}],
    }
    path.write_text(json.dumps(document))
    return path


def with_auth(auth: dict[str, Any], **values: str) -> dict[str, Any]:
    """``auth`` with these attributes set (added or replaced)."""
    changed = copy.deepcopy(auth)
    kept = [a for a in changed["oauth2"] if a["key"] not in values]
    changed["oauth2"] = kept + [{"key": k, "value": v} for k, v in values.items()]
    return changed


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    # The data paths the harness's own sandbox uses: parsed once for both (about 2 s saved).
    config = SandboxConfig(
        seed=11, openapi_document=paths.OPENAPI_DOCUMENT, contracts_dir=paths.CONTRACTS_DIR
    )
    with Sandbox(config, host="127.0.0.1", port=0) as running:
        yield running


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No DRCHRONO_* from the developer's shell; reports and cassettes in tmp_path."""
    import os

    for name in list(os.environ):
        if name.startswith("DRCHRONO_") or name == "GITHUB_OUTPUT":
            monkeypatch.delenv(name)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.chdir(tmp_path)


def live_environment(sb: Sandbox, path: Path, *, credentials: bool = True) -> Path:
    """An environment for the module's sandbox as a live target, with a fresh refresh token
    (``credentials``) or with no client or refresh token at all (a CI shard)."""
    values = {**sb.environment(), "baseUrl": sb.base_url, "refresh_token": sb.issue_refresh_token()}
    if not credentials:
        for name in ("client_id", "client_secret", "refresh_token"):
            del values[name]
    document = {"values": [{"key": k, "value": v, "enabled": True} for k, v in values.items()]}
    path.write_text(json.dumps(document))
    return path


def access_token(sb: Sandbox) -> str:
    with httpx.Client(base_url=sb.base_url) as http:
        answer = refresh_grant(http, sb, sb.issue_refresh_token())
    token = answer.json()["access_token"]
    assert isinstance(token, str)
    return token


def summary_of(path: Path) -> dict[str, Any]:
    summary = json.loads(path.read_text())["summary"]
    assert isinstance(summary, dict)
    return summary


def error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("error:")]


# --- 1. converter-style blocks take the DrChrono app's credentials ------------------------------


def test_converter_blocks_run_and_replay_against_the_sandbox_with_no_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The sandbox's own client; a shell's live token, like every DRCHRONO_* variable, is for
    # live DrChrono only and does not steer the sandbox.
    monkeypatch.setenv("DRCHRONO_ACCESS_TOKEN", "a-live-token-of-the-shell")
    collection = converter_collection(tmp_path / "api.json")
    code = main(["run", str(collection), "--record", "--json", "s.json"])
    assert code == 0, capsys.readouterr()
    assert summary_of(tmp_path / "s.json")["passed"] == 3
    # The recording replays with no credentials either.
    code = main(["run", str(collection), "--replay", "--json", "replayed.json"])
    assert code == 0, capsys.readouterr()
    assert summary_of(tmp_path / "replayed.json")["passed"] == 3


def test_every_block_of_the_app_shares_one_token_and_one_refresh(
    sb: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Converter blocks on both DrChrono hosts, and the shipped collection's kind of block: all
    # one token set, so one refresh for the run (a second would spend a rotated refresh token).
    collection = converter_collection(tmp_path / "api.json")
    document = json.loads(collection.read_text())
    requests = [r for folder in document["item"] for r in folder["item"]]
    requests[1]["request"]["auth"] = with_auth(
        CONVERTER_AUTH, accessTokenUrl="https://drchrono.com/o/token/"
    )
    requests[2]["request"]["auth"] = copy.deepcopy(SHIPPED_AUTH)
    collection.write_text(json.dumps(document))
    environment = live_environment(sb, tmp_path / "env.json")
    sb.reset_request_counts()
    code = main(
        [
            "run",
            str(collection),
            "-e",
            str(environment),
            "--token-store",
            "tokens.json",
            "--workers",
            "2",
            "--json",
            "s.json",
        ]
    )
    assert code == 0, capsys.readouterr()
    assert summary_of(tmp_path / "s.json")["passed"] == 3
    assert sb.request_count("/o/token/") == 1
    stored = json.loads((tmp_path / "tokens.json").read_text())
    assert len(stored["tokens"]) == 1, stored.keys()


def test_no_client_credentials_stop_the_run_once_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    collection = converter_collection(tmp_path / "api.json")
    environment = tmp_path / "live.json"
    environment.write_text(json.dumps({"values": [{"key": "harness_target", "value": "live"}]}))
    code = main(["run", str(collection), "-e", str(environment), "--json", "s.json"])
    err = capsys.readouterr().err
    assert code == 2
    [line] = error_lines(err)
    assert "no client id" in line and "DRCHRONO_CLIENT_ID" in line
    assert "DRCHRONO_ACCESS_TOKEN" in line
    summary = summary_of(tmp_path / "s.json")
    assert (summary["errors"], summary["skipped"]) == (1, 2)


def test_a_client_without_a_refresh_token_stops_the_run_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DRCHRONO_CLIENT_ID", "my-app")
    monkeypatch.setenv("DRCHRONO_CLIENT_SECRET", "my-app-secret")
    collection = converter_collection(tmp_path / "api.json")
    environment = tmp_path / "live.json"
    environment.write_text(json.dumps({"values": [{"key": "harness_target", "value": "live"}]}))
    run = ["run", str(collection), "-e", str(environment), "--token-store", "t.json"]
    assert main([*run, "--json", "s.json"]) == 2
    [line] = error_lines(capsys.readouterr().err)
    assert "No refresh token" in line and "DRCHRONO_ACCESS_TOKEN" in line
    summary = summary_of(tmp_path / "s.json")
    assert (summary["errors"], summary["skipped"]) == (1, 2)


# --- 2. a token stored in the block -------------------------------------------------------------


def test_a_stored_access_token_is_sent_as_postman_sends_it(
    sb: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = access_token(sb)
    auth = with_auth(CONVERTER_AUTH, accessToken=token, tokenType="Bearer", addTokenTo="header")
    collection = converter_collection(tmp_path / "api.json", auth)
    environment = live_environment(sb, tmp_path / "env.json", credentials=False)
    sb.reset_request_counts()
    code = main(["run", str(collection), "-e", str(environment), "--json", "s.json"])
    assert code == 0, capsys.readouterr()
    assert sb.request_count("/o/token/") == 0
    assert token not in (tmp_path / "s.json").read_text()


def test_an_expired_stored_token_says_so_once(
    sb: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    auth = with_auth(CONVERTER_AUTH, accessToken="stored-token-from-last-week")
    collection = converter_collection(tmp_path / "api.json", auth)
    environment = live_environment(sb, tmp_path / "env.json")
    code = main(["run", str(collection), "-e", str(environment), "--json", "s.json"])
    out, err = capsys.readouterr()
    assert code == 2
    [line] = error_lines(err)
    assert "stored in the collection's OAuth 2.0 settings" in line and "expired" in line
    assert "Get New Access Token" in line
    assert "stored-token-from-last-week" not in out + err
    summary = summary_of(tmp_path / "s.json")
    assert (summary["errors"], summary["skipped"]) == (1, 2)


# --- 3. a token obtained elsewhere ----------------------------------------------------------------


def test_drchrono_access_token_runs_without_refreshing_and_is_never_written(
    sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A CI shard: no client, no refresh token; the shipped kind of block names {{client_id}}.
    token = access_token(sb)
    monkeypatch.setenv("DRCHRONO_ACCESS_TOKEN", token)
    collection = converter_collection(tmp_path / "api.json", SHIPPED_AUTH)
    environment = live_environment(sb, tmp_path / "env.json", credentials=False)
    sb.reset_request_counts()
    code = main(
        [
            "run",
            str(collection),
            "-e",
            str(environment),
            "--record",
            "--cassette-dir",
            "cassettes",
            "--json",
            "s.json",
            "--junit",
            "junit.xml",
            "--html",
            "report.html",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert sb.request_count("/o/token/") == 0
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "env.json"]
    assert {"s.json", "junit.xml", "report.html"} <= {p.name for p in written}
    assert any(p.suffix == ".yaml" for p in written)  # the cassettes
    for path in written:
        assert token not in path.read_text(errors="replace"), path
    assert token not in out + err


def test_a_refused_access_token_stops_the_run_once_with_exit_2(
    sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DRCHRONO_ACCESS_TOKEN", "expired-access-token-0123")
    collection = converter_collection(tmp_path / "api.json")
    environment = live_environment(sb, tmp_path / "env.json")
    sb.reset_request_counts()
    code = main(["run", str(collection), "-e", str(environment), "--json", "s.json"])
    out, err = capsys.readouterr()
    assert code == 2
    [line] = error_lines(err)
    assert "DRCHRONO_ACCESS_TOKEN" in line and "export-access-token" in line
    assert sb.request_count("/o/token/") == 0  # never refreshed
    assert sb.request_count("/api/") == 1  # and nothing sent after the refusal
    report = (tmp_path / "s.json").read_text()
    assert "expired-access-token-0123" not in out + err + report
    summary = summary_of(tmp_path / "s.json")
    assert (summary["errors"], summary["skipped"]) == (1, 2)
    [refused] = [r for r in json.loads(report)["results"] if r["attempts"]]
    assert refused["attempts"][-1]["note"] == "401: the given token may not be refreshed"
    assert "unset DRCHRONO_ACCESS_TOKEN" in refused["message"]


def test_access_token_from_a_file_or_a_named_variable(
    sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    collection = converter_collection(tmp_path / "api.json")
    environment = live_environment(sb, tmp_path / "env.json", credentials=False)
    (tmp_path / "token.txt").write_text(access_token(sb) + "\n")
    run = ["run", str(collection), "-e", str(environment)]
    assert main([*run, "--access-token-file", "token.txt"]) == 0, capsys.readouterr()

    monkeypatch.setenv("SHARD_TOKEN", access_token(sb))
    assert main([*run, "--access-token-env", "SHARD_TOKEN"]) == 0, capsys.readouterr()

    assert main([*run, "--access-token-env", "NOT_SET_ANYWHERE"]) == 2
    [line] = error_lines(capsys.readouterr().err)
    assert "NOT_SET_ANYWHERE is not set" in line


# --- 5. the CI hand-off -------------------------------------------------------------------------


def test_export_access_token_prints_a_token_another_run_accepts(
    sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environment = live_environment(sb, tmp_path / "env.json")
    seed = json.loads(environment.read_text())["values"]
    seed_token = next(v["value"] for v in seed if v["key"] == "refresh_token")
    store = tmp_path / "tokens.json"
    sb.reset_request_counts()
    code = main(
        ["auth", "export-access-token", "-e", str(environment), "--token-store", str(store)]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    token = out.strip()
    assert out == token + "\n" and token  # the token alone: $(harness auth export-access-token)
    assert "expires" in err and token not in err
    # Rotation-safe: the store holds the new refresh token, not the spent seed.
    assert seed_token not in store.read_text()
    assert sb.request_count("/o/token/") == 1

    monkeypatch.setenv("DRCHRONO_ACCESS_TOKEN", token)
    shard = live_environment(sb, tmp_path / "shard.json", credentials=False)
    collection = converter_collection(tmp_path / "api.json")
    code = main(["run", str(collection), "-e", str(shard), "--json", "s.json"])
    assert code == 0, capsys.readouterr()
    assert summary_of(tmp_path / "s.json")["passed"] == 3
    assert sb.request_count("/o/token/") == 1  # the shard refreshed nothing


def test_export_access_token_to_a_masked_github_output(
    sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = tmp_path / "github_output"
    outputs.write_text("earlier=kept\n")
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    environment = live_environment(sb, tmp_path / "env.json")
    command = ["auth", "export-access-token", "-e", str(environment), "--token-store", "t.json"]
    code = main([*command, "--github-output", "drchrono_token"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.startswith("::add-mask::") and out.count("\n") == 1
    token = out.removeprefix("::add-mask::").strip()
    assert outputs.read_text() == f"earlier=kept\ndrchrono_token={token}\n"
    assert token not in err

    monkeypatch.delenv("GITHUB_OUTPUT")
    assert main([*command, "--github-output", "drchrono_token"]) == 2
    assert "GITHUB_OUTPUT is not set" in capsys.readouterr().err


def test_harness_auth_completes_a_converter_collection(
    sb: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `harness auth` on the converter's collection acts on the same token set as the run.
    collection = converter_collection(tmp_path / "api.json")
    environment = live_environment(sb, tmp_path / "env.json")
    code = main(
        ["auth", "status", "--collection", str(collection), "-e", str(environment)]
        + ["--token-store", "t.json"]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "DrChronoToken" in out and f"{sb.base_url}/o/token/" in out


def test_the_shipped_collection_names_the_same_token_set() -> None:
    # Blocks without a client are completed to the shipped collection's token set, so that its
    # `harness auth login` serves DrChrono's published collection too.
    from harness.oauth_attributes import DRCHRONO_TOKEN_NAME

    shipped = json.loads((PROJECT / "collections" / "drchrono.postman_collection.json").read_text())
    attributes = {a["key"]: a["value"] for a in shipped["auth"]["oauth2"]}
    assert attributes["tokenName"] == DRCHRONO_TOKEN_NAME
    assert attributes["accessTokenUrl"] == "{{auth_base_url}}/o/token/"
    assert attributes["clientId"] == "{{client_id}}"
