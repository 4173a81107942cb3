"""Red team: plant every kind of secret and patient data, record, and find none of it anywhere.

A local echo server (started here, on 127.0.0.1) answers each request with what it received plus
secrets and PHI of its own (session headers and ids, patient records under unlisted keys, free text
quoting them in other spellings, a plain-text body, an HTML error page). A collection sends the
planted values through every ordinary place: query parameters, URL userinfo, custom auth headers,
auth blocks (bearer, basic, API key with a custom header name), JSON and form bodies, variables
typed secret in Postman. After a recording, no planted value may appear in the cassettes, the
recorded environment, the JSON summary, the JUnit file, the HTML report or the console; and
``harness cassettes scan`` must flag each kind when it is planted into a clean cassette by hand.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from harness.cassettes.scan import scan_paths
from harness.cassettes.scrub import Scrubber
from harness.phi_fields import load_phi_fields
from harness.redaction import SecretRegistry
from tests.conftest import run_cli
from tests.local_server import local_server, serving

V21 = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"

# --- what is planted ------------------------------------------------------------------------------

SECRETS = {
    "cs": "cs-typed-secret-0a1b2c3d4e",  # Postman "type": "secret", a name that says nothing
    "dbpass": "dbpass-Zq8xW2vR7tY",
    "bearer": "bearer-tok-9f8e7d6c5b4a",
    "basic_password": "basicpw-Hh3Jj4Kk5",
    "partner_key": "partner-hdr-key-77aa88bb",  # API-key auth under a custom header name
    "x_auth_token": "xauth-tok-1234abcd5678",
    "access_token_q": "qaccess-tok-5566778899",
    "apikey_q": "qapikey-a1s2d3f4g5h6",
    "key_q": "qkey-Lmn0pQrS7uVwXyZ01",
    "sig_q": "qsig-0099aabbccdd",
    "api_key_dash": "qapi-key-zzyyxxwwvv",
    "passwd": "json-passwd-Tt9Uu8",
    "pin": "482913",
    "otp_secret": "JBSWY3DPEHPK3PXP",
    "apiKey": "json-apiKey-3e4r5t6y7u",
    "client_key": "json-client-key-0o9i8u",
    "form_secret": "form-secret-Pp0Oo9Ii8",
    "form_pwd": "form-pwd-Yy6Tt5Rr4",
    "session_token": "resp-session-tok-4f4f4f4f",
    "session_id": "resp-session-id-8c8c8c8c",
    "aws": "AKIAIOSFODNN7EXAMPLE",
    "google": "AIza" + "SyA1234567890abcdefghijklmnopqrstuv",
    "private_key": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7",
}
PRIVATE_KEY_BLOCK = (
    f"-----BEGIN PRIVATE KEY-----\n{SECRETS['private_key']}\n-----END PRIVATE KEY-----"
)
PATIENT = {
    "patient_name": "Quillon Bramblewick",
    "dob": "1961-07-04",
    "birth_date": "1958-03-21",
    "DOB": "1949-11-30",
    "phone_number": "(787) 555-0142",  # a fictional number: still a real value
    "mobile": "4155550199",
    "street_address": "42 Larkspur Lane",
    "postal_code": "00901",  # a real (Puerto Rico) ZIP that looks like an old pseudonym
    "mrn": "MRN-4471-QB",
    "chart_id": "QUBR000017",
    "social_security_number": "912-70-1234",  # an ITIN, area 9xx
    "ssn": "123-45-6789",
    "email": "quillon.bramblewick@gmail.com",
    "last_name": "Bramblewick",
}
# The same values as free text quotes them: other spellings of what the fields hold.
FREE_TEXT = (
    "Call 7875550142 about BRAMBLEWICK (dob 07/04/1961), SSN 123456789 or 123 45 6789 or "
    "123.45.6789; mail quillon.bramblewick; lives at 42 Larkspur Lane."
)
FREE_TEXT_LEAKS = ["7875550142", "BRAMBLEWICK", "07/04/1961", "123456789", "123 45 6789"]
FREE_TEXT_LEAKS += ["123.45.6789", "quillon.bramblewick", "Larkspur"]
PHI_LEAKS = [v for v in PATIENT.values()] + ["Quillon", "Bramblewick"]
SECRET_LEAKS = list(SECRETS.values()) + [
    base64.b64encode(f"clinic:{SECRETS['basic_password']}".encode()).decode()
]


# --- the echo server --------------------------------------------------------------------------------


class _Echo(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        path = urlsplit(self.path)
        if path.path.endswith("/plain"):
            self._send(200, "text/plain", f"Patient {FREE_TEXT}")
            return
        if path.path.endswith("/broken"):
            page = f"<html><h1>Server Error</h1><p>{FREE_TEXT}</p></html>"
            self._send(500, "text/html", page)
            return
        document = {
            "received": {
                "query": dict(parse_qsl(path.query)),
                "body": body,
                "headers": {k: v for k, v in self.headers.items() if k.lower() != "host"},
            },
            "session_id": SECRETS["session_id"],
            "patient": {**PATIENT, "comment": FREE_TEXT},
            "insurance_group_number": "2026",
            "created": "2026-01-05T10:20:26",
            "next_cursor": "page-2026",
            "deploy_key": PRIVATE_KEY_BLOCK,
        }
        self._send(200, "application/json", json.dumps(document))

    def _send(self, status: int, content_type: str, text: str) -> None:
        payload = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Session-Token", SECRETS["session_token"])
        self.send_header("Set-Cookie", f"session_id={SECRETS['session_id']}; Path=/")
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _answer
    do_POST = _answer


@pytest.fixture(scope="module")
def echo_url() -> Iterator[str]:
    with serving(local_server(_Echo)) as url:
        yield url


def _collection(base: str) -> dict[str, object]:
    host = base.removeprefix("http://")
    query = (
        "access_token={{tok}}&apikey={{apikey}}&key={{gkey}}&sig={{sig}}&api-key={{apikeydash}}"
        "&last_name={{patient_last}}&date_of_birth=1961-07-04&social_security_number=123-45-6789"
        "&email=quillon.bramblewick%40gmail.com"
    )
    json_body = {
        "passwd": SECRETS["passwd"],
        "pin": SECRETS["pin"],
        "otp_secret": SECRETS["otp_secret"],
        "apiKey": SECRETS["apiKey"],
        "client_key": SECRETS["client_key"],
        "cloud": f"keys {SECRETS['aws']} and {SECRETS['google']}",
        **PATIENT,
        "comment": FREE_TEXT,
    }

    def request(name: str, method: str, url: str, **extra: object) -> dict[str, object]:
        return {"name": name, "request": {"method": method, "url": url, **extra}}

    return {
        "info": {"name": "redteam", "schema": V21},
        "item": [
            {
                "name": "Leaks",
                "item": [
                    request(
                        "Search with secrets in the query",
                        "GET",
                        f"http://clinic:{{{{dbpass}}}}@{host}/api/patients?{query}",
                        header=[{"key": "X-Auth-Token", "value": SECRETS["x_auth_token"]}],
                        auth={"type": "bearer", "bearer": [{"key": "token", "value": "{{cs}}"}]},
                    ),
                    request(
                        "Create with JSON secrets and PHI",
                        "POST",
                        f"{base}/api/patients",
                        header=[{"key": "Content-Type", "value": "application/json"}],
                        body={"mode": "raw", "raw": json.dumps(json_body)},
                        auth={
                            "type": "basic",
                            "basic": [
                                {"key": "username", "value": "clinic"},
                                {"key": "password", "value": SECRETS["basic_password"]},
                            ],
                        },
                    ),
                    request(
                        "Form with secrets",
                        "POST",
                        f"{base}/api/form",
                        body={
                            "mode": "urlencoded",
                            "urlencoded": [
                                {"key": "secret", "value": SECRETS["form_secret"]},
                                {"key": "pwd", "value": SECRETS["form_pwd"]},
                            ],
                        },
                        auth={
                            "type": "apikey",
                            "apikey": [
                                {"key": "key", "value": "X-Partner"},
                                {"key": "value", "value": SECRETS["partner_key"]},
                                {"key": "in", "value": "header"},
                            ],
                        },
                    ),
                    request("Plain text", "GET", f"{base}/api/plain"),
                    request("Error page", "GET", f"{base}/api/broken"),
                ],
            }
        ],
    }


def _environment(base: str) -> dict[str, object]:
    values = {
        "base_url": base,
        "harness_target": "live",
        "cs": SECRETS["cs"],
        "dbpass": SECRETS["dbpass"],
        "tok": SECRETS["access_token_q"],
        "apikey": SECRETS["apikey_q"],
        "gkey": SECRETS["key_q"],
        "sig": SECRETS["sig_q"],
        "apikeydash": SECRETS["api_key_dash"],
        "patient_last": PATIENT["last_name"],  # a patient value captured into a variable
        "patient_phone": PATIENT["phone_number"],
        "doctor_id": "278001",
    }
    return {
        "name": "redteam",
        "values": [
            {"key": k, "value": v, "type": "secret" if k == "cs" else "default", "enabled": True}
            for k, v in values.items()
        ],
    }


@pytest.fixture(scope="module")
def recorded(echo_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("redteam")
    collection = folder / "c.json"
    collection.write_text(json.dumps(_collection(echo_url)))
    environment = folder / "env.json"
    environment.write_text(json.dumps(_environment(echo_url)))
    result = run_cli(
        "run",
        str(collection),
        "-e",
        str(environment),
        "--record",
        "all",
        "-v",  # the console then shows every request and response: none may leak either
        "--no-contracts",
        "--retries",
        "0",
        "--token-store",
        str(folder / "tokens.json"),
        "--cassette-dir",
        str(folder / "cassettes"),
        "--json",
        str(folder / "summary.json"),
        "--junit",
        str(folder / "junit.xml"),
        "--html",
        str(folder / "report.html"),
        cwd=folder,
        # A fixed key makes the pseudonyms, and so this test, deterministic: with a random one, a
        # pseudonym's random digits could now and then contain a planted value ("00901") by chance.
        env={"HARNESS_PSEUDONYM_KEY": "redteam-fixed-key"},
    )
    assert result.code == 1, result.stdout + result.stderr  # the error page fails its request
    outputs = {"console": result.stdout + result.stderr}
    for path in sorted((folder / "cassettes").rglob("*")):
        if path.is_file():
            outputs[str(path.relative_to(folder))] = path.read_text()
    for name in ("summary.json", "junit.xml", "report.html"):
        outputs[name] = (folder / name).read_text()
    outputs["cassettes-dir"] = str(folder / "cassettes")
    return outputs


def _files(recorded: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in recorded.items() if k != "cassettes-dir"}


def _leaks(recorded: dict[str, str], values: list[str]) -> list[tuple[str, str]]:
    found = []
    for name, text in _files(recorded).items():
        # JSON and YAML escape what they write: compare with the text as written and as meant.
        meant = text.encode().decode("unicode_escape", "ignore") if "\\u" in text else text
        found += [(name, v[:6]) for v in values if v in text or v in meant]
    return found


def test_every_output_was_written(recorded: dict[str, str]) -> None:
    names = set(recorded)
    assert {"summary.json", "junit.xml", "report.html", "console"} <= names
    assert any(n.endswith("_environment.json") for n in names)
    assert any(n.endswith("leaks.yaml") for n in names)


def test_no_planted_secret_is_written_or_printed(recorded: dict[str, str]) -> None:
    assert _leaks(recorded, SECRET_LEAKS) == []


def test_no_planted_patient_value_is_written_or_printed(recorded: dict[str, str]) -> None:
    assert _leaks(recorded, PHI_LEAKS) == []


def test_patient_values_in_other_spellings_are_scrubbed_in_free_text(
    recorded: dict[str, str],
) -> None:
    assert _leaks(recorded, FREE_TEXT_LEAKS) == []


def test_recorded_cassettes_and_environment_scan_clean(recorded: dict[str, str]) -> None:
    files, findings = scan_paths([Path(recorded["cassettes-dir"])], load_phi_fields())
    assert any(f.name == "_environment.json" for f in files)
    assert [str(f) for f in findings] == []


def test_recorded_environment_keeps_only_plain_values(recorded: dict[str, str]) -> None:
    name = next(n for n in recorded if n.endswith("_environment.json"))
    values = {v["key"]: v["value"] for v in json.loads(recorded[name])["values"]}
    assert values["doctor_id"] == "278001"  # what replay needs stays
    for withheld in ("cs", "dbpass", "tok", "apikey", "gkey", "sig", "apikeydash"):
        assert withheld not in values
    assert values.get("patient_last", "") != PATIENT["last_name"]


def test_non_phi_data_sharing_digits_with_phi_is_left_alone(recorded: dict[str, str]) -> None:
    cassette = next(v for n, v in recorded.items() if n.endswith("leaks.yaml"))
    assert "2026-01-05T10:20:26" in cassette and "page-2026" in cassette
    assert '"insurance_group_number": "2026"' not in cassette


def test_reports_mask_query_values_and_userinfo(recorded: dict[str, str]) -> None:
    summary = json.loads(recorded["summary.json"])
    search = next(r for r in summary["results"] if r["name"].startswith("Search"))
    assert "access_token=[REDACTED]" in search["url"] and "last_name=[PHI]" in search["url"]
    assert "clinic:[REDACTED]@" in search["url"] or "clinic:" not in search["url"]


# --- the scanner flags each kind planted by hand ------------------------------------------------

CLEAN = """interactions:
- request:
    body: null
    headers:
      Accept:
      - '*/*'
    method: GET
    uri: http://drchrono-sandbox/api/patients?page=2
  response:
    body:
      string: '{"id": 1, "created": "2026-01-05T10:20:26", "cursor": "2026"}'
    headers:
      Content-Type:
      - application/json
    status:
      code: 200
      message: OK
version: 1
"""


def _gzip_body(text: str) -> str:
    data = base64.b64encode(gzip.compress(text.encode())).decode()
    return CLEAN.replace(
        """      string: '{"id": 1, "created": "2026-01-05T10:20:26", "cursor": "2026"}'""",
        f"      string: !!binary |\n        {data}",
    )


def _in_body(text: str) -> str:
    return CLEAN.replace('"cursor": "2026"', text)


PLANTED = {
    "x-auth-token header": CLEAN.replace(
        "      Accept:", f"      X-Auth-Token:\n      - {SECRETS['x_auth_token']}\n      Accept:"
    ),
    "x-session-token header": CLEAN.replace(
        "      Content-Type:",
        f"      x-session-token:\n      - {SECRETS['session_token']}\n      Content-Type:",
    ),
    "apikey query": CLEAN.replace("page=2", f"page=2&apikey={SECRETS['apikey_q']}"),
    "key query": CLEAN.replace("page=2", f"page=2&key={SECRETS['key_q']}"),
    "sig query": CLEAN.replace("page=2", f"page=2&sig={SECRETS['sig_q']}"),
    "api-key query": CLEAN.replace("page=2", f"page=2&api-key={SECRETS['api_key_dash']}"),
    "passwd": _in_body(f'"passwd": "{SECRETS["passwd"]}"'),
    "pin": _in_body(f'"pin": "{SECRETS["pin"]}"'),
    "otp_secret": _in_body(f'"otp_secret": "{SECRETS["otp_secret"]}"'),
    "apiKey": _in_body(f'"apiKey": "{SECRETS["apiKey"]}"'),
    "client_key": _in_body(f'"client_key": "{SECRETS["client_key"]}"'),
    "form secret": CLEAN.replace("body: null", f"body: secret={SECRETS['form_secret']}&a=1"),
    "form pwd": CLEAN.replace("body: null", f"body: a=1&pwd={SECRETS['form_pwd']}"),
    "session_id": _in_body(f'"session_id": "{SECRETS["session_id"]}"'),
    "private key": _in_body('"k": "-----BEGIN RSA PRIVATE KEY-----\\\\nMIIEowIBAAKCAQEA"'),
    "aws key": _in_body(f'"k": "{SECRETS["aws"]}"'),
    "google key": _in_body(f'"k": "{SECRETS["google"]}"'),
    "patient_name": _in_body('"patient_name": "Quillon Bramblewick"'),
    "dob": _in_body('"dob": "1961-07-04"'),
    "birth_date": _in_body('"birth_date": "1961-07-04"'),
    "DOB": _in_body('"DOB": "07/04/1961"'),
    "phone_number": _in_body('"phone_number": "(787) 555-0142"'),
    "mobile": _in_body('"mobile": "4155550199"'),
    "street_address": _in_body('"street_address": "42 Larkspur Lane"'),
    "postal_code": _in_body('"postal_code": "00901"'),
    # Not "mrn": identifiers keep their format, so their pseudonyms carry no marker and the
    # scanner cannot tell them from real ones (a documented limit; recording replaces them).
    "ITIN": _in_body('"social_security_number": "912-70-1234"'),
    "SSN spaced": _in_body('"note": "ssn 123 45 6789"'),
    "SSN dotted": _in_body('"note": "ssn 123.45.6789"'),
    "escaped e-mail": _in_body('"note": "quillon\\u0040gmail.com"'),
    "gzip binary body": _gzip_body('{"last_name": "Bramblewick", "ssn": "123-45-6789"}'),
    "base64 body": CLEAN.replace(
        """'{"id": 1, "created": "2026-01-05T10:20:26", "cursor": "2026"}'""",
        base64.b64encode(b'{"first_name": "Quillon", "email": "q@gmail.com"}').decode(),
    ),
    "folded double-quoted YAML": CLEAN.replace(
        """      string: '{"id": 1, "created": "2026-01-05T10:20:26", "cursor": "2026"}'""",
        '      string: "{\\"id\\": 1, \\"first_name\\":\n        \\"Quillon\\"}"',
    ),
    "secret variable in an environment file": json.dumps(
        {"values": [{"key": "cs", "value": SECRETS["cs"], "type": "secret"}]}
    ),
    "dbpass in an environment file": json.dumps(
        {"values": [{"key": "dbpass", "value": SECRETS["dbpass"]}]}
    ),
}


def test_a_clean_cassette_scans_clean(tmp_path: Path) -> None:
    (tmp_path / "clean.yaml").write_text(CLEAN)
    assert scan_paths([tmp_path], load_phi_fields())[1] == []


@pytest.mark.parametrize("kind", sorted(PLANTED))
def test_scan_flags_each_kind_planted_by_hand(kind: str, tmp_path: Path) -> None:
    suffix = ".json" if "environment" in kind else ".YAML"  # any file in the tree is read
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / f"planted{suffix}").write_text(PLANTED[kind])
    result = run_cli("cassettes", "scan", str(tmp_path)) if kind == "pin" else None
    findings = scan_paths([tmp_path], load_phi_fields())[1]
    assert findings, f"{kind} was not flagged"
    if result is not None:
        assert result.code == 1 and "planted.YAML" in result.stdout


# --- pseudonyms carry a marker no real value can -------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "real"),
    [("zip", "00901"), ("ssn", "912-70-1234"), ("phone", "(787) 555-0142"), ("ssn", "123456789")],
)
def test_real_values_shaped_like_old_pseudonyms_are_replaced(kind: str, real: str) -> None:
    key = {"zip": "zip_code", "ssn": "social_security_number", "phone": "cell_phone"}[kind]
    out = Scrubber(SecretRegistry(), salt=b"k").scrub_json({key: real})
    assert out[key] != real


def test_pseudonyms_are_stable_under_the_team_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_PSEUDONYM_KEY", "team-key-kept-outside-the-repo")
    first = Scrubber(SecretRegistry()).scrub_json({"last_name": "Bramblewick"})
    second = Scrubber(SecretRegistry()).scrub_json({"last_name": "Bramblewick"})
    assert first == second
    monkeypatch.delenv("HARNESS_PSEUDONYM_KEY")
    assert Scrubber(SecretRegistry()).scrub_json({"last_name": "Bramblewick"}) != first


# --- every reporter masks a failing request's URL and message the same way ----------------------


def test_json_junit_and_console_mask_failing_urls_and_messages(tmp_path: Path) -> None:
    import io

    from harness.reporters import ConsoleReporter, JsonReporter, JUnitReporter
    from harness.results import Cause, Check, Reporter, RequestResult, RunInfo, RunSummary, Verdict

    url = (
        "http://clinic:pw-Zq8xW2vR7tY@127.0.0.1:9/api/patients?access_token=qaccess-tok-55"
        "&apikey=qapikey-a1s2d3&last_name=Bramblewick&date_of_birth=1961-07-04"
        "&social_security_number=123-45-6789&email=q%40gmail.com&page=2"
    )
    failed = RequestResult(
        suite="Leaks",
        name="Search",
        method="GET",
        url=url,
        status=500,
        verdict=Verdict.FAILED,
        cause=Cause.STATUS,
        message=f"GET {url} failed",
        checks=[Check("status", False, "expected 200, got 500 for last_name=Bramblewick")],
    )
    out = io.StringIO()
    reporters: list[Reporter] = [
        JsonReporter(tmp_path / "s.json"),
        JUnitReporter(tmp_path / "j.xml"),
        ConsoleReporter(out),
    ]
    summary = RunSummary()
    summary.add(failed)
    for reporter in reporters:
        reporter.start(RunInfo("redteam", "live", 1, "c.json"))
        reporter.result(failed)
        reporter.finish(summary)
    texts = {
        "json": (tmp_path / "s.json").read_text(),
        "junit": (tmp_path / "j.xml").read_text(),
        "console": out.getvalue(),
    }
    planted = ["pw-Zq8xW2vR7tY", "qaccess-tok-55", "qapikey-a1s2d3", "Bramblewick", "1961-07-04"]
    planted += ["123-45-6789", "q%40gmail.com"]
    for name, text in texts.items():
        assert [p for p in planted if p in text] == [], name
    row = json.loads(texts["json"])["results"][0]
    assert row["url"].startswith("http://clinic:[REDACTED]@127.0.0.1:9/api/patients?")
    assert "access_token=[REDACTED]" in row["url"] and "last_name=[PHI]" in row["url"]
    assert row["url"].endswith("&page=2")  # what is not sensitive stays readable
    assert "access_token=[REDACTED]" in texts["junit"]


def test_unknown_ssns_and_real_e_mails_in_free_text_are_pseudonymised() -> None:
    scrubber = Scrubber(SecretRegistry(), salt=b"k")
    text = "Wrong SSN 321-54-9876 (or 321 54 9876) for dee.walsh@realmail.org; see user@127.0.0.1"
    out = scrubber.scrub_text(text)
    for real in ("321-54-9876", "321 54 9876", "dee.walsh@realmail.org"):
        assert real not in out
    assert "user@127.0.0.1" in out and "@pseudonym.example" in out
    from harness.cassettes.scan import scan_text

    assert scan_text(out, load_phi_fields(), "x") == []
