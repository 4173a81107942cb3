"""Pure scrubbing: secrets become stable placeholders, PHI consistent format-keeping pseudonyms."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vcr.request import Request

from harness.cassettes import Scrubber, load_phi_fields
from harness.cassettes.pseudonyms import PseudonymTable, is_name_word, looks_pseudonymous
from harness.cassettes.scan import scan_text
from harness.cassettes.scrub import is_placeholder
from harness.errors import InputError
from harness.redaction import SecretRegistry

FIELDS = load_phi_fields()


def _scrubber(*secrets: str) -> Scrubber:
    registry = SecretRegistry()
    for secret in secrets:
        registry.add(secret)
    return Scrubber(registry, FIELDS, salt=b"test-salt")


def _json(scrubber: Scrubber, document: object, content_type: str = "application/json") -> object:
    return json.loads(scrubber.scrub_body(json.dumps(document).encode(), content_type))


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "application/vnd.api+json"],
)
def test_secret_keys_in_json_at_any_nesting_become_placeholders(content_type: str) -> None:
    out = _json(
        _scrubber(),
        {
            "a": [
                {
                    "b": {
                        "access_token": "at-123456789",
                        "password": "hunter22",
                        "token_type": "Bearer",
                    }
                }
            ]
        },
        content_type,
    )
    assert out == {
        "a": [
            {
                "b": {
                    "access_token": "<access_token:1>",
                    "password": "<password:1>",
                    "token_type": "Bearer",
                }
            }
        ]
    }


def test_form_body_secrets_are_replaced_and_client_id_kept() -> None:
    body = "grant_type=authorization_code&code=abc123&code_verifier=v-123&client_id=cid&client_secret=s%2Fx"
    out = _scrubber().scrub_body(body, "application/x-www-form-urlencoded")
    assert out == (
        "grant_type=authorization_code&code=<code:1>&code_verifier=<code_verifier:1>"
        "&client_id=cid&client_secret=<client_secret:1>"
    )


def test_same_secret_gets_same_placeholder_everywhere() -> None:
    scrubber = _scrubber()
    token = _json(scrubber, {"access_token": "tok-abcdef-123", "refresh_token": "ref-abcdef-456"})
    assert token == {"access_token": "<access_token:1>", "refresh_token": "<refresh_token:1>"}
    assert (
        scrubber.scrub_header("Authorization", "Bearer tok-abcdef-123") == "Bearer <access_token:1>"
    )
    assert scrubber.scrub_url("http://h/o/revoke_token/?token=ref-abcdef-456") == (
        "http://h/o/revoke_token/?token=<refresh_token:1>"
    )
    assert scrubber.scrub_text("echo tok-abcdef-123!") == "echo <access_token:1>!"


def test_secret_headers_and_redirects() -> None:
    scrubber = _scrubber()
    assert (
        scrubber.scrub_header("Proxy-Authorization", "Basic dXNlcjpwYXNz")
        == "Basic <basic_credentials:1>"
    )
    assert (
        scrubber.scrub_header("Cookie", "a=1; sessionid=xyz")
        == "a=<cookie:1>; sessionid=<cookie:2>"
    )
    assert scrubber.scrub_header("Set-Cookie", "sessionid=xyz; Path=/; HttpOnly") == (
        "sessionid=<cookie:2>; Path=/; HttpOnly"
    )
    assert (
        scrubber.scrub_header("Location", "https://app/cb?code=zzz999&state=s")
        == "https://app/cb?code=<code:1>&state=s"
    )
    assert scrubber.scrub_url("https://app/cb#access_token=frag-token-1&expires_in=3") == (
        "https://app/cb#access_token=<access_token:1>&expires_in=3"
    )


def test_weak_secret_code_only_when_token_like_in_json() -> None:
    out = _json(_scrubber(), {"code": "99213", "auth": {"code": "AbCdEfGhIjKlMnOpQrSt"}})
    assert out == {"code": "99213", "auth": {"code": "<code:1>"}}


def test_registered_secret_is_replaced_in_free_text_without_a_key() -> None:
    out = _json(_scrubber("client-secret-xyz"), {"detail": "bad secret client-secret-xyz given"})
    assert out == {"detail": "bad secret <secret:1> given"}


def test_placeholders_and_pseudonyms_are_left_alone_so_scrubbing_is_idempotent() -> None:
    scrubber = _scrubber()
    patient = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "date_of_birth": "1985-12-10",
        "email": "ada@math.org",
        "access_token": "tok-abcdef-123",
    }
    once = _json(scrubber, patient)
    assert isinstance(once, dict)
    assert _json(scrubber, once) == once
    # A fresh scrubber (a replay) recognises the pseudonyms; dates cannot be told apart.
    recognisable = {k: v for k, v in once.items() if k != "date_of_birth"}
    assert _json(_scrubber(), recognisable) == recognisable


def test_phi_is_pseudonymised_with_formats_kept_and_ids_kept() -> None:
    # chart_id is built from the patient's initials: pseudonymised, in its format.
    patient = {
        "id": 12,
        "doctor": 3,
        "chart_id": "LOAD000001",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "date_of_birth": "1985-12-10",
        "social_security_number": "123-45-6789",
        "cell_phone": "+1 (212) 555-9876",
        "email": "ada@math.org",
        "address": "12 St James Square",
        "zip_code": "10001-1234",
        "gender": "Female",
        "primary_insurance": {
            "insurance_id_number": "ABC-12345",
            "subscriber_last_name": "Lovelace",
        },
        "guardian": {"id": 5, "name": "Anne Byron", "phone": "2125550000"},
        "custom_demographics": [{"field_type": 1, "value": "likes tea"}],
    }
    out = _json(_scrubber(), patient)
    assert isinstance(out, dict)
    assert (out["id"], out["doctor"], out["gender"]) == (12, 3, "Female")
    assert re.fullmatch(r"[A-Z]{4}\d{6}", out["chart_id"]) and out["chart_id"] != "LOAD000001"
    assert out["first_name"] != "Ada" and is_name_word(out["first_name"])
    dt.date.fromisoformat(out["date_of_birth"])
    assert out["date_of_birth"] != "1985-12-10"
    assert re.fullmatch(r"000-\d\d-\d{4}", out["social_security_number"])
    assert re.fullmatch(r"\+1 \(0\d\d\) \d{3}-\d{4}", out["cell_phone"])
    assert out["email"].endswith("@pseudonym.example")
    assert re.fullmatch(r"000\d{2}-\d{4}", out["zip_code"])
    assert re.fullmatch(r"[A-Z]{3}-\d{5}", out["primary_insurance"]["insurance_id_number"])
    assert out["primary_insurance"]["subscriber_last_name"] == out["last_name"]
    assert out["guardian"]["id"] == 5 and "Byron" not in out["guardian"]["name"]
    assert re.fullmatch(r"0\d{9}", out["guardian"]["phone"])
    assert out["custom_demographics"][0] == {
        "field_type": 1,
        "value": out["custom_demographics"][0]["value"],
    }
    assert "tea" not in out["custom_demographics"][0]["value"]


def test_patient_names_in_free_text_and_links_are_replaced_too() -> None:
    scrubber = _scrubber()
    out = _json(
        scrubber,
        {
            "results": [{"last_name": "Lovelace"}],
            "next": "https://app/api/patients?last_name=Lovelace&cursor=c1",
            "detail": "Lovelace has a duplicate",
        },
    )
    assert isinstance(out, dict)
    fake = out["results"][0]["last_name"]
    assert out["next"] == f"https://app/api/patients?last_name={fake}&cursor=c1"
    assert out["detail"] == f"{fake} has a duplicate"


def test_query_string_phi_and_request_hook() -> None:
    scrubber = _scrubber()
    request = Request(
        "POST",
        "http://127.0.0.1:5555/api/patients?last_name=O%27Hara&since=2020-01-01",
        b'{"first_name": "Scarlett", "doctor": 1}',
        {
            "Authorization": "Bearer tok-abcdef-123",
            "Host": "127.0.0.1:5555",
            "Content-Type": "application/json",
        },
    )
    out = scrubber.scrub_request(request)
    assert "O%27Hara" not in out.uri and "since=2020-01-01" in out.uri
    assert "Host" not in out.headers and out.headers["Authorization"] == "Bearer <authorization:1>"
    assert b"Scarlett" not in out.body and json.loads(out.body)["doctor"] == 1
    assert request.headers["Authorization"] == "Bearer tok-abcdef-123"  # the original is untouched


def test_response_hook_drops_volatile_headers() -> None:
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {
            "Date": ["x"],
            "Server": ["y"],
            "Content-Length": ["9"],
            "X-Request-Id": ["z"],
            "Content-Type": ["application/json"],
        },
        "body": {"string": b'{"email": "a@b.com"}'},
    }
    out = _scrubber().scrub_response(response)
    assert list(out["headers"]) == ["Content-Type"]
    assert b"a@b.com" not in out["body"]["string"]


def test_same_value_same_pseudonym_and_different_values_differ() -> None:
    table = PseudonymTable(b"salt")
    fakes = {table.pseudonym("family_name", f"Name{i}") for i in range(300)}
    assert len(fakes) == 300
    assert table.pseudonym("family_name", "Name7") == table.pseudonym("family_name", "Name7")
    assert PseudonymTable(b"other").pseudonym("family_name", "Name7") != table.pseudonym(
        "family_name", "Name7"
    )


@settings(max_examples=60, deadline=None)
@given(
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2030, 12, 31)),
    st.text(min_size=1, max_size=30),
)
def test_pseudonyms_keep_their_format(date: dt.date, text: str) -> None:
    table = PseudonymTable(b"prop")
    dt.date.fromisoformat(table.pseudonym("date", date.isoformat()))
    assert dt.datetime.strptime(table.pseudonym("date", date.strftime("%m/%d/%Y")), "%m/%d/%Y")
    ssn = table.pseudonym("ssn", f"{date.year:03d}-{date.month:02d}-{date.day:04d}"[-11:])
    assert looks_pseudonymous("ssn", ssn)
    for kind in ("given_name", "name", "email", "street", "city", "company", "text", "url"):
        fake = table.pseudonym(kind, text)
        assert fake != text and looks_pseudonymous(kind, fake) is True


def test_placeholder_shape() -> None:
    assert is_placeholder("<access_token:12>") and not is_placeholder("Bearer <x:1>")


def test_bad_phi_field_list_is_an_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "phi.yaml"
    bad.write_text("phi:\n  first_name: nickname\n")
    with pytest.raises(InputError, match="unknown pseudonym kind"):
        load_phi_fields(bad)
    bad.write_text("phi: [\n")
    with pytest.raises(InputError, match="not valid YAML"):
        load_phi_fields(bad)


def test_accident_and_workers_comp_subscribers_are_pseudonymised() -> None:
    patient = {
        "id": 80001201,
        "auto_accident_insurance": {
            "auto_accident_subscriber_first_name": "Patricia",
            "auto_accident_subscriber_last_name": "Fields",
            "auto_accident_subscriber_social_security": "189-76-1324",
            "auto_accident_subscriber_date_of_birth": "1991-01-04",
            "auto_accident_subscriber_phone_number": "(189) 426-2235",
            "auto_accident_subscriber_address": "31045 Sarah Fort",
            "auto_accident_policy_number": "POL-99812",
            "auto_accident_notes": "Patricia hit the windscreen",
        },
        "workers_comp_insurance": {
            "workers_comp_case_number": "WC-2231-77",
            "workers_comp_notes": "Injured lifting crates at Fields Freight",
        },
    }
    text = _scrubber().scrub_body(json.dumps(patient), "application/json")
    assert isinstance(text, str)
    for real in (
        "Patricia",
        "Fields",
        "189-76-1324",
        "1991-01-04",
        "426-2235",
        "Sarah Fort",
        "POL-99812",
        "WC-2231-77",
        "windscreen",
        "crates",
    ):
        assert real not in text
    assert scan_text(text, FIELDS, "patient.json") == []


def test_coded_fields_keep_their_codes_when_a_name_shares_the_word() -> None:
    """A patient named "Black" must not turn race "black" into a pseudonym (replay contracts)."""
    from harness.cassettes import Scrubber

    scrubber = Scrubber()
    body = scrubber.scrub_json({"results": [{"last_name": "black", "race": "black"}]})
    row = body["results"][0]
    assert row["race"] == "black"
    assert row["last_name"] != "black"


def test_a_body_too_deep_to_scrub_is_refused_not_written_half_scrubbed() -> None:
    import pytest

    from harness.cassettes import CassetteError, Scrubber

    deep = "[" * 300 + '{"last_name": "Realname"}' + "]" * 300
    with pytest.raises(CassetteError, match="cannot be scrubbed safely"):
        Scrubber().scrub_body(deep, "application/json")
