"""Re-recordings diff cleanly: canonical origins instead of random ports, coarse timings."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from vcr.request import Request

from drchrono_sandbox import Sandbox, SandboxConfig
from harness.cassettes import CassetteTransport, RecordMode, Scrubber
from harness.cassettes.origins import OriginMap
from harness.cassettes.show import transcript
from harness.cassettes.transport import ELAPSED_KEY, coarse_elapsed
from harness.errors import InputError
from harness.redaction import SecretRegistry

CANONICAL = "http://drchrono-sandbox"
RECORDED = "http://127.0.0.1:37923"


def scrubber(origins: dict[str, str] | None = None, *secrets: str) -> Scrubber:
    registry = SecretRegistry()
    for secret in secrets:
        registry.add(secret)
    return Scrubber(registry, salt=b"fixed-salt", origins=origins or {RECORDED: CANONICAL})


# -- the origin map on its own ----------------------------------------------------------------


def test_origin_is_rewritten_only_where_it_is_whole() -> None:
    origins = OriginMap({RECORDED: CANONICAL})
    assert origins.rewrite(f"{RECORDED}/api/patients?page=2") == f"{CANONICAL}/api/patients?page=2"
    assert origins.rewrite(f'see "{RECORDED}" and {RECORDED}.') == (
        f'see "{CANONICAL}" and {CANONICAL}.'
    )
    assert origins.rewrite("HTTP://127.0.0.1:37923/x") == f"{CANONICAL}/x"  # case-insensitive
    # Another port, a longer port, or another host are other origins.
    for other in (
        "http://127.0.0.1:3792/x",
        "http://127.0.0.1:379230/x",
        "http://127.0.0.10:37923",
        "https://127.0.0.1:37923/x",
        "http://127.0.0.1:37923.example/x",
    ):
        assert origins.rewrite(other) == other
    # Percent-encoded, as in a redirect_uri or next parameter of a query string.
    assert origins.rewrite("next=http%3A%2F%2F127.0.0.1%3A37923%2Fapi") == (
        "next=http%3A%2F%2Fdrchrono-sandbox%2Fapi"
    )


def test_origin_without_port_leaves_ported_urls_alone() -> None:
    origins = OriginMap({"http://localhost": CANONICAL})
    assert origins.rewrite("http://localhost/a") == f"{CANONICAL}/a"
    assert origins.rewrite("http://localhost:8080/a") == "http://localhost:8080/a"
    assert origins.rewrite("http://localhost.example/a") == "http://localhost.example/a"
    assert origins.rewrite("http%3A%2F%2Flocalhost%3A8080") == "http%3A%2F%2Flocalhost%3A8080"


def test_trailing_slash_and_identity_are_accepted() -> None:
    origins = OriginMap({f"{RECORDED}/": f"{CANONICAL}/", CANONICAL: CANONICAL})
    assert origins.origins == {RECORDED: CANONICAL}
    assert not OriginMap() and not OriginMap({})


@pytest.mark.parametrize(
    "recorded, canonical, words",
    [
        ("http://127.0.0.1:1/api", CANONICAL, "no path"),
        ("127.0.0.1:37923", CANONICAL, "http(s) URL"),
        ("ftp://host", CANONICAL, "http(s) URL"),
        ("http://user:pw@host", CANONICAL, "user name"),
        (RECORDED, "drchrono-sandbox", "http(s) URL"),
        (RECORDED, f"{CANONICAL}?x=1", "no path"),
    ],
)
def test_a_bad_origin_is_a_clear_input_error(recorded: str, canonical: str, words: str) -> None:
    with pytest.raises(InputError, match=re.escape(words)):
        OriginMap({recorded: canonical})


def test_chained_origins_are_refused() -> None:
    with pytest.raises(InputError, match="both rewritten and written instead"):
        OriginMap({"http://a": "http://b", "http://b": "http://c"})


# -- where the scrubber applies it ------------------------------------------------------------


def test_scrubbed_request_has_the_canonical_origin_in_uri_headers_and_body() -> None:
    request = Request(
        "POST",
        f"{RECORDED}/o/token/?redirect_uri=http%3A%2F%2F127.0.0.1%3A37923%2Fcb",
        b"grant_type=authorization_code&redirect_uri=http%3A%2F%2F127.0.0.1%3A37923%2Fcb",
        {"Content-Type": "application/x-www-form-urlencoded", "Referer": f"{RECORDED}/o/"},
    )
    scrubbed = scrubber().scrub_request(request)
    text = f"{scrubbed.uri} {scrubbed.headers} {scrubbed.body!r}"
    assert "127.0.0.1" not in text
    assert scrubbed.uri == f"{CANONICAL}/o/token/?redirect_uri=http%3A%2F%2Fdrchrono-sandbox%2Fcb"
    assert scrubbed.headers["Referer"] == f"{CANONICAL}/o/"


def test_scrubbed_response_has_the_canonical_origin_in_links_and_location() -> None:
    body = {
        "next": f"{RECORDED}/api/patients?cursor=abc&last_name=Featherstonehaugh",
        "previous": f"{RECORDED}/api/patients",
        "results": [{"id": 1, "photo": f"{RECORDED}/media/1.png", "note": f"moved to {RECORDED}"}],
    }
    response = {
        "status": {"code": 302, "message": "Found"},
        "headers": {
            "Location": [f"{RECORDED}/api/users/410301"],
            "Link": [f'<{RECORDED}/api/patients?cursor=abc>; rel="next"'],
            "Content-Type": ["application/json"],
        },
        "body": {"string": json.dumps(body).encode()},
    }
    scrubbed = scrubber().scrub_response(response)
    assert "127.0.0.1" not in repr(scrubbed)
    assert scrubbed["headers"]["Location"] == [f"{CANONICAL}/api/users/410301"]
    assert scrubbed["headers"]["Link"] == [f'<{CANONICAL}/api/patients?cursor=abc>; rel="next"']
    written = json.loads(scrubbed["body"]["string"])
    assert written["previous"] == f"{CANONICAL}/api/patients"
    assert written["next"].startswith(f"{CANONICAL}/api/patients?cursor=abc&last_name=")
    assert "Featherstonehaugh" not in written["next"]  # the origin rewrite keeps PHI scrubbing
    assert written["results"][0]["photo"] == f"{CANONICAL}/media/1.png"


def test_without_origins_nothing_is_rewritten() -> None:
    plain = Scrubber(SecretRegistry(), salt=b"fixed-salt")
    assert plain.scrub_url(f"{RECORDED}/api/x") == f"{RECORDED}/api/x"


# -- timings ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "elapsed_ms, written",
    [
        (0.0, "under 10 ms"),
        (2.1, "under 10 ms"),
        (9.9, "under 10 ms"),
        (10, "under 100 ms"),
        (350, "under 1 s"),
        (999.9, "under 1 s"),
        (1000, "under 10 s"),
        (42_000, "under 100 s"),
    ],
)
def test_timings_are_written_as_an_order_of_magnitude(elapsed_ms: float, written: str) -> None:
    assert coarse_elapsed(elapsed_ms) == written


def test_show_prints_coarse_timings_and_the_exact_ones_of_older_cassettes() -> None:
    def interaction(response_extra: dict[str, Any]) -> dict[str, Any]:
        return {
            "request": {"method": "GET", "uri": f"{CANONICAL}/api/doctors", "headers": {}},
            "response": {
                "status": {"code": 200, "message": "OK"},
                "headers": {},
                "body": {"string": ""},
                **response_extra,
            },
        }

    document = {
        "version": 1,
        "interactions": [
            interaction({ELAPSED_KEY: "under 10 ms"}),
            interaction({"elapsed_ms": 2.1}),
        ],
    }
    text = transcript(document, "c.yaml")
    assert "  < 200 OK  (under 10 ms)" in text
    assert "  < 200 OK  (2.1 ms)" in text


# -- recording the sandbox twice ----------------------------------------------------------------


def converse(base_url: str, transport: httpx.BaseTransport, sb: Sandbox) -> list[Any]:
    """Refresh a token, then page through patients by following the `next` links given."""
    seen: list[Any] = []
    with httpx.Client(transport=transport, base_url=base_url) as client:
        token = client.post(
            "/o/token/",
            data={
                "grant_type": "refresh_token",
                "refresh_token": sb.refresh_token,
                "client_id": sb.client_id,
                "client_secret": sb.client_secret,
            },
        )
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        url: str | None = f"{base_url}/api/patients?page_size=12"
        while url is not None:
            page = client.get(url, headers=headers)
            seen.append((page.status_code, page.json()["results"]))
            url = page.json()["next"]
        seen.append(client.get("/api/users/current", headers=headers).status_code)
    return seen


def record(sb: Sandbox, path: Path) -> list[Any]:
    secrets = SecretRegistry()
    secrets.add(sb.client_secret)
    secrets.add(sb.refresh_token)
    scrubbing = Scrubber(secrets, salt=b"fixed-salt", origins={sb.base_url: CANONICAL})
    with CassetteTransport(path, mode=RecordMode.ONCE, scrubber=scrubbing) as transport:
        return converse(sb.base_url, transport, sb)


@pytest.fixture()
def two_sandboxes() -> Iterator[tuple[Sandbox, Sandbox]]:
    config = SandboxConfig(seed=3, patients=30)
    with ExitStack() as stack:  # both at once, so that their ports surely differ
        yield stack.enter_context(Sandbox(config)), stack.enter_context(Sandbox(config))


def without_timings(text: str) -> str:
    return re.sub(rf"^\s*{ELAPSED_KEY}: .*\n", "", text, flags=re.MULTILINE)


def test_recording_twice_gives_the_same_cassette(
    two_sandboxes: tuple[Sandbox, Sandbox], tmp_path: Path
) -> None:
    first, second = two_sandboxes
    assert first.base_url != second.base_url
    record(first, tmp_path / "one.yaml")
    record(second, tmp_path / "two.yaml")
    one, two = (tmp_path / "one.yaml").read_text(), (tmp_path / "two.yaml").read_text()
    assert without_timings(one) == without_timings(two)
    assert "127.0.0.1" not in one
    assert f'"next": "{CANONICAL}/api/patients?page_size=12&cursor=' in one
    document = yaml.safe_load(one)
    assert all(
        re.fullmatch(r"under \d+ m?s", i["response"][ELAPSED_KEY]) for i in document["interactions"]
    )
    assert [i["request"]["uri"].split("?")[0] for i in document["interactions"]] == [
        f"{CANONICAL}/o/token/",
        *[f"{CANONICAL}/api/patients"] * 3,
        f"{CANONICAL}/api/users/current",
    ]


def test_canonical_cassette_replays_from_any_origin(
    two_sandboxes: tuple[Sandbox, Sandbox], tmp_path: Path
) -> None:
    sb = two_sandboxes[0]
    path = tmp_path / "c.yaml"
    recorded = record(sb, path)
    offline = httpx.MockTransport(lambda request: pytest.fail(f"network used: {request.url}"))
    replay = CassetteTransport(
        path, mode=RecordMode.NONE, inner=offline, scrubber=Scrubber(salt=b"fixed-salt")
    )
    with replay:
        # The `next` links replayed point at the canonical origin; following them still matches.
        replayed = converse("http://127.0.0.1:1", replay, sb)

    def ids(seen: list[Any]) -> list[Any]:  # replayed names are pseudonyms; ids are kept
        return [[p["id"] for p in page[1]] if isinstance(page, tuple) else page for page in seen]

    assert ids(replayed) == ids(recorded)
    assert [page[0] for page in replayed[:-1]] == [200, 200, 200] and replayed[-1] == 302
    assert replay.play_count == 5
