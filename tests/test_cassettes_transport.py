"""Record against a real loopback server, then replay offline: nothing secret or PHI on disk."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from harness.cassettes import CassetteMissError, CassetteTransport, RecordMode, Scrubber
from harness.cassettes.errors import CassetteError
from harness.errors import HarnessError
from harness.redaction import SecretRegistry
from tests.test_cassettes_support import (
    ACCESS_TOKEN,
    AUTH_CODE,
    CLIENT_ID,
    CLIENT_SECRET,
    PATIENT,
    PHI_VALUES,
    REFRESH_TOKEN,
    SECRETS,
    leaked_values,
    running_server,
)


def _registry() -> SecretRegistry:
    registry = SecretRegistry()
    registry.add(CLIENT_SECRET)
    registry.add(REFRESH_TOKEN)
    return registry


def _body(response: httpx.Response) -> Any:
    if "json" in response.headers.get("content-type", ""):
        return response.json()
    return response.text


def run_session(
    base_url: str, transport: httpx.BaseTransport, bearer: str | None = None
) -> list[Any]:
    """The same conversation a collection run would have; returns what the client saw."""
    seen: list[Any] = []
    with httpx.Client(transport=transport, base_url=base_url) as client:
        token = client.post(
            "/o/token/",
            data={
                "grant_type": "refresh_token",
                "refresh_token": REFRESH_TOKEN,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            },
        )
        seen.append((token.status_code, _body(token)))
        access = bearer or token.json()["access_token"]
        auth = {"Authorization": f"Bearer {access}"}
        for path, params in (
            ("/api/patients", {"last_name": str(PATIENT["last_name"])}),
            ("/api/patients/4242", None),
            ("/api/appointments", {"date": "2030-01-01"}),
            ("/api/patients/4242", None),
        ):
            response = client.get(path, params=params, headers=auth)
            seen.append((response.status_code, _body(response)))
        created = client.post(
            "/api/patients",
            json={
                "first_name": PATIENT["first_name"],
                "social_security_number": "123-45-6789",
                "doctor": 7,
            },
            headers=auth,
        )
        seen.append((created.status_code, _body(created)))
        redirect = client.get(
            "/o/authorize/", params={"client_id": CLIENT_ID, "response_type": "code"}
        )
        seen.append((redirect.status_code, redirect.headers["location"]))
    return seen


@pytest.fixture()
def recorded(tmp_path: Path) -> tuple[Path, list[Any], Scrubber]:
    cassette = tmp_path / "cassettes" / "session.yaml"
    scrubber = Scrubber(secrets=_registry())
    with running_server() as base_url:
        live = run_session(base_url, CassetteTransport(cassette, RecordMode.ONCE, None, scrubber))
    return cassette, live, scrubber


def test_recording_writes_no_secret_and_no_patient_value(
    recorded: tuple[Path, list[Any], Scrubber],
) -> None:
    cassette, live, _ = recorded
    assert cassette.is_file()
    assert (
        live[1][1]["results"][0]["first_name"] == PATIENT["first_name"]
    )  # the caller saw real data
    assert leaked_values(cassette.parent, SECRETS + PHI_VALUES) == []


def test_cassette_is_readable_yaml_with_pretty_json_and_no_volatile_headers(
    recorded: tuple[Path, list[Any], Scrubber],
) -> None:
    cassette, _, _ = recorded
    text = cassette.read_text()
    document = yaml.safe_load(text)
    assert len(document["interactions"]) == 7
    assert '  "access_token": "<access_token:1>",' in text  # one JSON member per line
    for interaction in document["interactions"]:
        names = {n.lower() for n in interaction["response"]["headers"]}
        assert not names & {"date", "server", "content-length", "content-encoding"}
        assert "host" not in {n.lower() for n in interaction["request"]["headers"]}


def test_bearer_header_and_token_response_share_one_placeholder(
    recorded: tuple[Path, list[Any], Scrubber],
) -> None:
    cassette, _, _ = recorded
    interactions = yaml.safe_load(cassette.read_text())["interactions"]
    token_body = interactions[0]["response"]["body"]["string"]
    assert '"access_token": "<access_token:1>"' in token_body
    assert interactions[1]["request"]["headers"]["Authorization"] == ["Bearer <access_token:1>"]
    assert "refresh_token=<refresh_token:1>" in interactions[0]["request"]["body"]
    assert "client_secret=<client_secret:1>" in interactions[0]["request"]["body"]
    assert interactions[0]["response"]["headers"]["set-cookie"][0].startswith(
        "sessionid=<cookie:1>"
    )
    assert "code=<code:1>" in interactions[6]["response"]["headers"]["location"][0]


def test_replay_with_server_stopped_gives_the_same_pseudonymised_responses(
    recorded: tuple[Path, list[Any], Scrubber],
) -> None:
    cassette, live, _ = recorded
    before = cassette.read_bytes()
    # A fresh process: new scrubber (new salt), server gone, another "port".
    first = run_session(
        "http://127.0.0.1:9", CassetteTransport(cassette, RecordMode.NONE, None, Scrubber())
    )
    second = run_session(
        "http://10.0.0.1:1234", CassetteTransport(cassette, RecordMode.NONE, None, Scrubber())
    )
    assert first == second
    assert [status for status, _ in first] == [status for status, _ in live]
    patient = first[2][1]
    assert patient["id"] == PATIENT["id"] and patient["doctor"] == PATIENT["doctor"]  # ids kept
    assert patient["first_name"] != PATIENT["first_name"]
    # Consistent pseudonyms: the same real person has the same fake name in every response.
    listed = first[1][1]["results"][0]
    assert listed["first_name"] == patient["first_name"] == first[5][1]["first_name"]
    assert patient["primary_insurance"]["subscriber_first_name"] == patient["first_name"]
    assert first[1][1]["next"].split("last_name=")[1].startswith(patient["last_name"])
    assert first[0][1]["access_token"] == "<access_token:1>"
    assert cassette.read_bytes() == before  # replay never writes


def test_pseudonyms_keep_formats(recorded: tuple[Path, list[Any], Scrubber]) -> None:
    cassette, _, _ = recorded
    patient = run_session(
        "http://x", CassetteTransport(cassette, RecordMode.NONE, None, Scrubber())
    )[2][1]
    import datetime as dt
    import re

    dt.date.fromisoformat(patient["date_of_birth"])
    assert re.fullmatch(r"000-\d\d-\d{4}", patient["social_security_number"])
    assert re.fullmatch(r"\(\d{3}\) \d{3}-\d{4}", patient["cell_phone"])
    assert re.fullmatch(r"[\w.]+@pseudonym\.example", patient["email"])
    assert re.fullmatch(r"\d{5}", patient["zip_code"])


def test_the_same_scrubber_gives_the_same_pseudonyms_across_cassettes(tmp_path: Path) -> None:
    scrubber = Scrubber(secrets=_registry())
    with running_server() as base_url:
        run_session(
            base_url, CassetteTransport(tmp_path / "a.yaml", RecordMode.ONCE, None, scrubber)
        )
        run_session(
            base_url, CassetteTransport(tmp_path / "b.yaml", RecordMode.ONCE, None, scrubber)
        )
    a = run_session(
        "http://x", CassetteTransport(tmp_path / "a.yaml", RecordMode.NONE, None, Scrubber())
    )
    b = run_session(
        "http://x", CassetteTransport(tmp_path / "b.yaml", RecordMode.NONE, None, Scrubber())
    )
    assert a == b


def test_missing_interaction_names_request_file_and_closest_difference(
    recorded: tuple[Path, list[Any], Scrubber],
) -> None:
    cassette, _, _ = recorded
    transport = CassetteTransport(cassette, RecordMode.NONE, None, Scrubber())
    with (
        httpx.Client(transport=transport, base_url="http://x") as client,
        pytest.raises(CassetteMissError) as caught,
    ):
        client.get("/api/appointments", params={"date": "2030-01-02"})
    message = str(caught.value)
    assert isinstance(caught.value, HarnessError)
    assert "GET /api/appointments" in message and str(cassette) in message
    assert "query differs: date=2030-01-02 vs date=2030-01-01" in message


def test_missing_interaction_never_shows_patient_values_from_the_query(
    recorded: tuple[Path, list[Any], Scrubber],
) -> None:
    cassette, _, _ = recorded
    transport = CassetteTransport(cassette, RecordMode.NONE, None, Scrubber())
    with (
        httpx.Client(transport=transport, base_url="http://x") as client,
        pytest.raises(CassetteMissError) as caught,
    ):
        client.get("/api/patients", params={"last_name": "Smithers-Jones", "cursor": "zz"})
    assert "Smithers" not in str(caught.value)
    assert "query differs: cursor=zz vs (nothing)" in str(caught.value)


def test_patient_query_values_match_whatever_the_pseudonym(
    recorded: tuple[Path, list[Any], Scrubber],
) -> None:
    cassette, _, _ = recorded
    transport = CassetteTransport(cassette, RecordMode.NONE, None, Scrubber())
    with httpx.Client(transport=transport, base_url="http://x") as client:
        response = client.get("/api/patients", params={"last_name": "Anybody"})
    assert response.status_code == 200


def test_repeated_requests_play_back_in_recorded_order_then_miss(
    recorded: tuple[Path, list[Any], Scrubber],
) -> None:
    cassette, _, _ = recorded
    transport = CassetteTransport(cassette, RecordMode.NONE, None, Scrubber())
    with httpx.Client(transport=transport, base_url="http://x") as client:
        assert client.get("/api/patients/4242").status_code == 200
        assert client.get("/api/patients/4242").status_code == 200
        with pytest.raises(CassetteMissError, match="played already"):
            client.get("/api/patients/4242")


def test_once_with_an_existing_cassette_neither_records_nor_writes(
    recorded: tuple[Path, list[Any], Scrubber],
) -> None:
    cassette, _, scrubber = recorded
    before = cassette.read_bytes()
    with running_server() as base_url:
        transport = CassetteTransport(cassette, RecordMode.ONCE, None, scrubber)
        with (
            httpx.Client(transport=transport, base_url=base_url) as client,
            pytest.raises(CassetteMissError),
        ):
            client.get("/api/patients/4243", headers={"Authorization": f"Bearer {ACCESS_TOKEN}"})
    assert cassette.read_bytes() == before


def test_new_episodes_adds_to_the_cassette_and_keeps_old_ones(
    recorded: tuple[Path, list[Any], Scrubber],
) -> None:
    cassette, _, scrubber = recorded
    with running_server() as base_url:
        transport = CassetteTransport(cassette, RecordMode.NEW_EPISODES, None, scrubber)
        with httpx.Client(transport=transport, base_url=base_url) as client:
            client.get(
                "/api/appointments", params={"date": "2030-01-01"}, headers={"Authorization": "x"}
            )
            client.get(
                "/api/appointments", params={"date": "2031-05-05"}, headers={"Authorization": "x"}
            )
    assert transport.play_count == 1
    assert len(yaml.safe_load(cassette.read_text())["interactions"]) == 8


def test_rewrite_replaces_the_cassette_only_when_the_recording_finished(
    recorded: tuple[Path, list[Any], Scrubber],
) -> None:
    cassette, _, scrubber = recorded
    before = cassette.read_bytes()
    with running_server() as base_url:
        with (
            pytest.raises(RuntimeError),
            CassetteTransport(cassette, RecordMode.REWRITE, None, scrubber) as transport,
        ):
            httpx.Client(transport=transport, base_url=base_url).get("/api/patients/4242")
            raise RuntimeError("the run crashed")
        assert cassette.read_bytes() == before
        with CassetteTransport(cassette, RecordMode.REWRITE, None, scrubber) as transport:
            httpx.Client(transport=transport, base_url=base_url).get("/api/patients/4242")
    assert len(yaml.safe_load(cassette.read_text())["interactions"]) == 1
    assert [p.name for p in cassette.parent.iterdir()] == ["session.yaml"]  # no temp files left


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("interactions: [\n  - {request: ", "not valid YAML at line"),
        ("- just\n- a list\n", "structure of a cassette"),
        ("version: 1\ninteractions:\n- request: {method: GET}\n  response: {}\n", "interaction 1"),
    ],
)
def test_tampered_cassette_gives_a_clear_error_naming_the_file(
    tmp_path: Path, content: str, expected: str
) -> None:
    cassette = tmp_path / "broken.yaml"
    cassette.write_text(content)
    with pytest.raises(CassetteError) as caught:
        CassetteTransport(cassette, RecordMode.NEW_EPISODES, None, Scrubber())
    assert expected in str(caught.value) and str(cassette) in str(caught.value)
    assert cassette.read_text() == content


def test_guard_refuses_to_write_a_cassette_holding_a_registered_secret(tmp_path: Path) -> None:
    registry = _registry()
    # A secret the scrubber cannot know by key: the server echoes it in an unkeyed header.
    leaky = "leaky-secret-value-42"
    registry.add(leaky)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"X-Echo": leaky.upper()}, json={"ok": True})

    class Leaky(Scrubber):
        def scrub_header(self, name: str, value: str) -> str:  # a scrubbing bug
            return value.lower() if name.lower() == "x-echo" else super().scrub_header(name, value)

    cassette = tmp_path / "leak.yaml"
    transport = CassetteTransport(
        cassette, RecordMode.ONCE, httpx.MockTransport(handler), Leaky(registry)
    )
    httpx.Client(transport=transport).get("http://x/api/ping")
    with pytest.raises(CassetteError) as caught:
        transport.close()
    assert leaky not in str(caught.value)
    assert not cassette.exists() and list(tmp_path.iterdir()) == []


def test_registered_secret_anywhere_in_a_body_is_replaced(tmp_path: Path) -> None:
    registry = _registry()
    registry.add("unkeyed-secret-xyz")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="debug: your key is unkeyed-secret-xyz")

    cassette = tmp_path / "echo.yaml"
    with CassetteTransport(
        cassette, RecordMode.ONCE, httpx.MockTransport(handler), Scrubber(registry)
    ) as t:
        httpx.Client(transport=t).get("http://x/echo")
    assert "unkeyed-secret-xyz" not in cassette.read_text()
    assert "<secret:" in cassette.read_text()


def test_mode_none_never_touches_the_network(tmp_path: Path) -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200)

    transport = CassetteTransport(
        tmp_path / "none.yaml", RecordMode.NONE, httpx.MockTransport(handler), Scrubber()
    )
    with (
        httpx.Client(transport=transport) as client,
        pytest.raises(CassetteMissError, match="no interactions"),
    ):
        client.get("http://x/api/patients")
    assert calls == [] and not (tmp_path / "none.yaml").exists()


def test_concurrent_cassettes_on_worker_threads_record_and_replay(tmp_path: Path) -> None:
    scrubber = Scrubber(secrets=_registry())
    errors: list[BaseException] = []

    def worker(name: str, base_url: str, mode: RecordMode) -> None:
        try:
            run_session(
                base_url, CassetteTransport(tmp_path / f"{name}.yaml", mode, None, scrubber)
            )
        except BaseException as err:  # surfaced below
            errors.append(err)

    with running_server() as base_url:
        threads = [
            threading.Thread(target=worker, args=(f"c{i}", base_url, RecordMode.ONCE))
            for i in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    replays = [
        run_session(
            "http://x",
            CassetteTransport(tmp_path / f"c{i}.yaml", RecordMode.NONE, None, Scrubber()),
        )
        for i in range(4)
    ]
    assert all(r == replays[0] for r in replays)
    assert leaked_values(tmp_path, SECRETS + PHI_VALUES) == []


def test_one_transport_shared_by_threads_keeps_every_interaction(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"n": request.url.params["n"]})

    cassette = tmp_path / "shared.yaml"
    with CassetteTransport(
        cassette, RecordMode.ONCE, httpx.MockTransport(handler), Scrubber()
    ) as transport:
        client = httpx.Client(transport=transport)
        threads = [
            threading.Thread(target=lambda i=i: client.get("http://x/api/n", params={"n": str(i)}))
            for i in range(20)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    replay = CassetteTransport(cassette, RecordMode.NONE, None, Scrubber())
    with httpx.Client(transport=replay) as client:
        assert sorted(
            int(client.get("http://x/api/n", params={"n": str(i)}).json()["n"]) for i in range(20)
        ) == list(range(20))
    assert AUTH_CODE  # imported for symmetry with the support module
