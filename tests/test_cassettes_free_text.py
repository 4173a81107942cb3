"""Free-text scrubbing rewrites identifying patient values only: never a common word that sits in
a PHI field, a contract's enum text, or the scrubber's own pseudonym markers (issue 16)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.cassettes import CassetteTransport, RecordMode, Scrubber
from harness.cassettes.free_text import PatientTextIndex
from harness.cassettes.scan import scan_paths
from harness.phi_fields import free_text_pattern, load_phi_fields
from tests.conftest import run_cli

FIELDS = load_phi_fields()
# As a sandbox seeds them: a relation and a name field holding plain words.
PATIENT = {
    "id": 7,
    "first_name": "Quillon",
    "last_name": "Bramblewick",
    "nick_name": "during",
    "email": "example@gmail.com",
    "emergency_contacts": [{"name": "Ada Lovelace", "relation": "Mother"}],
    "emergency_contact_relation": "during",
}
MEDICATION = {
    "id": 3,
    "patient": 7,
    "order_status": "Administered during visit",  # PatientDrug's enum (contracts/schemas)
    "signature_note": "Take during meals; Quillon knows.",
}


def _server(request: httpx.Request) -> httpx.Response:
    if request.url.path.startswith("/api/patients"):
        return httpx.Response(200, json={"results": [PATIENT], "next": None})
    if request.url.path.startswith("/api/medications"):
        return httpx.Response(200, json={"results": [MEDICATION], "next": None})
    contact = {"detail": "Write to Bramblewick; copy files.pseudonym.example, not Mother."}
    return httpx.Response(200, json=contact)


def _record(tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """One recording of three responses; what the cassette file holds for each."""
    cassettes = tmp_path / "cassettes"
    cassettes.mkdir()
    path = cassettes / "patients.yaml"
    transport = CassetteTransport(
        path, RecordMode.ONCE, httpx.MockTransport(_server), Scrubber(salt=b"t")
    )
    with httpx.Client(transport=transport, base_url="http://drchrono.test") as client:
        for url in ("/api/patients", "/api/medications", "/api/contact"):
            assert client.get(url).status_code == 200
    transport.close()
    recorded = yaml.safe_load(path.read_text(encoding="utf-8"))["interactions"]
    bodies = [json.loads(i["response"]["body"]["string"]) for i in recorded]
    return bodies[0]["results"][0], bodies[1]["results"][0], bodies[2]


def test_a_common_word_in_a_phi_field_is_scrubbed_there_and_nowhere_else(tmp_path: Path) -> None:
    patient, medication, contact = _record(tmp_path)
    # In its own field, every PHI value is a pseudonym, common word or not.
    assert patient["nick_name"] != "during"
    assert patient["emergency_contact_relation"] != "during"
    assert patient["emergency_contacts"][0]["relation"] != "Mother"
    assert "Lovelace" not in json.dumps(patient)
    # Elsewhere the word is just a word; the patient's own name is still replaced.
    fake_first = patient["first_name"]
    assert medication["signature_note"] == f"Take during meals; {fake_first} knows."
    assert contact["detail"].startswith(f"Write to {patient['last_name']};")
    assert contact["detail"].endswith("not Mother.")


def test_a_contract_enum_text_survives_and_replays(tmp_path: Path) -> None:
    _, medication, _ = _record(tmp_path)
    assert medication["order_status"] == "Administered during visit"


def test_the_pseudonym_domain_is_kept_whole_and_scans_clean(tmp_path: Path) -> None:
    """A patient whose e-mail is "example@..." must not turn pseudonym.example into a real
    domain (which the scan would then flag) in the scrubber's own addresses and links."""
    patient, _, contact = _record(tmp_path)
    assert patient["email"].endswith("@pseudonym.example")
    assert "files.pseudonym.example" in contact["detail"]
    assert scan_paths([tmp_path / "cassettes"], FIELDS)[1] == []
    scan = run_cli("cassettes", "scan", str(tmp_path / "cassettes"))
    assert scan.code == 0, scan.stdout + scan.stderr


def test_the_scan_does_not_flag_the_scrubbers_own_pseudonyms(tmp_path: Path) -> None:
    scrubber = Scrubber(salt=b"t")
    body = scrubber.scrub_json(
        {"email": "ada@math.org", "patient_photo": "https://cdn.real-clinic.com/p/1.jpg"}
    )
    assert body["email"].endswith("@pseudonym.example")
    assert body["patient_photo"].startswith("https://files.pseudonym.example/")
    line = json.dumps({"detail": f"sent to {body['email']}, photo {body['patient_photo']}"})
    (tmp_path / "own.yaml").write_text(
        yaml.safe_dump({"interactions": [{"response": {"body": {"string": line}}}]})
    )
    assert scan_paths([tmp_path], FIELDS)[1] == []


def test_placeholder_words_and_enum_texts_in_phi_fields_stay_in_their_fields() -> None:
    """What forms put in a field with no value ("Unknown", "none"), and a value spelled as a
    contract enum, are pseudonymised where they are and left alone everywhere else."""
    scrubber = Scrubber(salt=b"t")
    out = scrubber.scrub_json(
        {
            "patient": {
                "last_name": "Unknown",
                "drivers_license": "none",
                "nick_name": "Discontinued",
                "middle_name": "Hope",
            },
            "detail": "Unknown patient; none on file; Discontinued; Hope, HOPE, hope",
            "order_status": "Discontinued",
        }
    )
    patient = out["patient"]
    assert {patient["last_name"], patient["drivers_license"], patient["nick_name"]}.isdisjoint(
        {"Unknown", "none", "Discontinued"}
    )
    fake = patient["middle_name"]
    # A name is found as written, in capitals or capitalised; in lower case it is a word.
    assert out["detail"] == (
        f"Unknown patient; none on file; Discontinued; {fake}, {fake.upper()}, hope"
    )
    assert out["order_status"] == "Discontinued"


@settings(max_examples=150, deadline=None)
@given(
    value=st.sampled_from(
        [
            ("phone", "(787) 555-0142"),
            ("ssn", "123-45-6789"),
            ("date", "1961-07-04"),
            ("family_name", "Bramblewick"),
            ("name", "Quillon Bramblewick"),
            ("street", "42 Larkspur Lane"),
            ("identifier", "MRN-4471-QB"),
            ("email", "quillon.bramblewick@gmail.com"),
        ]
    ),
    spelling=st.sampled_from(["{}", "{upper}", "{digits}", "{us}", "{spaced}"]),
    before=st.text(alphabet="ab 1-./@(", max_size=6),
    after=st.text(alphabet="ab 1-./@)", max_size=6),
)
def test_the_anchor_index_finds_what_one_alternation_finds(
    value: tuple[str, str], spelling: str, before: str, after: str
) -> None:
    """The fast index (values filed by anchor) replaces exactly where the reporters' single
    pattern of all forms matches, whatever surrounds the value and however it is spelled."""
    kind, real = value
    digits = "".join(c for c in real if c.isdigit())
    written = spelling.format(
        real,
        upper=real.upper(),
        digits=digits,
        us=f"{real[5:7]}/{real[8:10]}/{real[:4]}" if kind == "date" else real,
        spaced=" ".join([digits[:3], digits[3:5], digits[5:]]),
    )
    text = f"{before}{written}{after}"
    reference = free_text_pattern([(kind, real)])
    assert reference is not None
    index = PatientTextIndex("<[a-z]+:\\d+>")
    index.add(kind, real)
    assert index.sub(text, lambda m: "#") == reference.sub("#", text)
