"""`harness cassettes scan` finds planted leaks with file:line and passes clean cassettes; `show`."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from harness.cassettes import CassetteTransport, RecordMode, Scrubber
from harness.cassettes.cli import register
from harness.cassettes.errors import CassetteError
from tests.test_cassettes_support import ACCESS_TOKEN, CLIENT_SECRET, PATIENT, running_server
from tests.test_cassettes_transport import _registry, run_session


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["cassettes", *argv])
    result: int = args.func(args)
    return result


@pytest.fixture(scope="module")
def clean_cassette(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cassettes")
    with running_server() as base_url:
        run_session(
            base_url,
            CassetteTransport(
                folder / "session.yaml", RecordMode.ONCE, None, Scrubber(_registry())
            ),
        )
    return folder / "session.yaml"


def test_scan_passes_a_recorded_cassette(
    clean_cassette: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run("scan", str(clean_cassette.parent)) == 0
    assert "1 cassette(s) clean" in capsys.readouterr().out


def _planted(clean: Path, tmp_path: Path, old: str, new: str) -> Path:
    text = clean.read_text()
    assert old in text
    leaky = tmp_path / "leaky.yaml"
    leaky.write_text(text.replace(old, new, 1))
    return leaky


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ("Bearer <access_token:1>", f"Bearer {ACCESS_TOKEN}", ACCESS_TOKEN),
        (
            '"refresh_token": "<refresh_token:2>"',
            '"refresh_token": "rt-live-0123456789abcdef"',
            "rt-live",
        ),
        ("client_secret=<client_secret:1>", f"client_secret={CLIENT_SECRET}", CLIENT_SECRET),
        ("sessionid=<cookie:1>", "sessionid=abcdef123456", "abcdef123456"),
        (
            '"token_type": "Bearer"',
            '"token_type": "eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.sig"',
            "eyJhbG",
        ),
        ('"gender": "Female"', '"gender": "Female", "first_name": "Gwendolyn"', "Gwendolyn"),
        ('"gender": "Female"', '"gender": "Female", "x": "SSN 123-45-6789"', "123-45-6789"),
        ('"gender": "Female"', '"gender": "Female", "x": "gwen@gmail.com"', "gwen@gmail.com"),
        ('"gender": "Female"', '"gender": "Female", "cell_phone": "(415) 867-5309"', "867-5309"),
    ],
)
def test_scan_finds_planted_leaks_with_file_and_line_and_masks_them(
    clean_cassette: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    old: str,
    new: str,
    needle: str,
) -> None:
    leaky = _planted(clean_cassette, tmp_path, old, new)
    assert _run("scan", str(tmp_path), str(clean_cassette)) == 1
    out = capsys.readouterr().out
    assert f"{leaky}:{_line_of(leaky, needle)}:" in out
    assert needle not in out
    assert str(clean_cassette) not in out


def test_scan_of_a_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CassetteError, match="no such file"):
        _run("scan", str(tmp_path / "nope"))


def test_show_prints_a_readable_masked_transcript(
    clean_cassette: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run("show", str(clean_cassette)) == 0
    out = capsys.readouterr().out
    assert "7 interaction(s)" in out
    assert "#1 POST http://127.0.0.1:" in out and "/o/token/" in out
    assert "  < 200 OK  (" in out and " ms)" in out
    assert '  <   "access_token": "<access_token:1>",' in out
    assert "#7 GET" in out and "  < 302 Found" in out

    leaky = _planted(clean_cassette, tmp_path, "Bearer <access_token:1>", f"Bearer {ACCESS_TOKEN}")
    assert _run("show", str(leaky)) == 0
    out = capsys.readouterr().out
    assert ACCESS_TOKEN not in out and str(PATIENT["first_name"]) not in out


def test_show_of_a_corrupt_cassette_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("interactions: [")
    with pytest.raises(CassetteError, match=r"broken\.yaml is not valid YAML"):
        _run("show", str(broken))


def test_scan_does_not_flag_an_authentication_challenge(tmp_path) -> None:
    from harness.cassettes.scan import scan_text
    from harness.phi_fields import load_phi_fields

    text = '      www-authenticate:\n      - Bearer realm="api",error="invalid_token"\n'
    assert scan_text(text, load_phi_fields(), "c.yaml") == []
    assert scan_text("      - Bearer abcdefghijklmnop1234\n", load_phi_fields(), "c.yaml")
