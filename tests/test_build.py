"""From collection request plus variables to the concrete HTTP request."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from harness.build import build_request
from harness.collection import Auth, Body, KeyValue, RequestItem, Url
from harness.errors import InputError, UnresolvedVariableError
from harness.oauth_attributes import PerOAuth2Config, resolve_oauth2_attributes
from harness.variables import Resolver, Scopes


def item(**overrides: object) -> RequestItem:
    fields: dict[str, object] = {
        "name": "r",
        "folder_path": ("F",),
        "method": "GET",
        "url": Url("{{base}}/api/x"),
        "headers": (),
        "body": None,
        "auth": None,
    }
    fields.update(overrides)
    return RequestItem(**fields)  # type: ignore[arg-type]


def resolver(**values: str) -> Resolver:
    return Resolver(Scopes(environment={"base": "https://h", **values}, os_environ={}))


def test_url_query_path_variables_and_disabled_headers(tmp_path: Path) -> None:
    request = item(
        url=Url(
            "{{base}}/api/patients/:id",
            query=(KeyValue("date", "{{d}}"), KeyValue("x", "1", disabled=True)),
            path_variables=(KeyValue("id", "{{pid}}"),),
        ),
        headers=(KeyValue("X-A", "{{d}}"), KeyValue("X-Off", "1", disabled=True)),
    )
    built = build_request(request, resolver(d="2030-01-02", pid="7"), files_root=tmp_path)
    assert built.url == "https://h/api/patients/7?date=2030-01-02"
    assert built.headers == [("X-A", "2030-01-02")]


def test_raw_json_body_gets_content_type_and_numbers_unquoted(tmp_path: Path) -> None:
    request = item(method="POST", body=Body("raw", raw='{"doctor": {{doc}}}', language="json"))
    built = build_request(request, resolver(doc="5"), files_root=tmp_path)
    assert json.loads(built.content or b"") == {"doctor": 5}
    assert ("Content-Type", "application/json") in built.headers


def test_urlencoded_and_graphql_bodies(tmp_path: Path) -> None:
    form = build_request(
        item(
            method="POST",
            body=Body(
                "urlencoded", fields=(KeyValue("a", "{{d}}"), KeyValue("b", "x", disabled=True))
            ),
        ),
        resolver(d="1 2"),
        files_root=tmp_path,
    )
    assert form.content == b"a=1%202"  # Node querystring: a space is %20
    gql = build_request(
        item(
            method="POST",
            body=Body("graphql", graphql_query="{ a }", graphql_variables='{"n": {{d}}}'),
        ),
        resolver(d="3"),
        files_root=tmp_path,
    )
    assert json.loads(gql.content or b"") == {"query": "{ a }", "variables": {"n": 3}}


def test_basic_bearer_apikey_and_oauth2_auth(tmp_path: Path) -> None:
    basic = build_request(
        item(auth=Auth("basic", {"username": "u", "password": "{{pw}}"})),
        resolver(pw="p"),
        files_root=tmp_path,
    )
    assert ("Authorization", "Basic " + base64.b64encode(b"u:p").decode()) in basic.headers
    bearer = build_request(
        item(auth=Auth("bearer", {"token": "{{t}}"})), resolver(t="abc"), files_root=tmp_path
    )
    assert ("Authorization", "Bearer abc") in bearer.headers
    apikey = build_request(
        item(auth=Auth("apikey", {"key": "k", "value": "v", "in": "query"})),
        resolver(),
        files_root=tmp_path,
    )
    assert apikey.url.endswith("?k=v")
    block = Auth("oauth2", {"clientId": "{{cid}}"})
    oauth = build_request(item(auth=block), resolver(cid="c1"), files_root=tmp_path)
    assert oauth.oauth2 is block  # the run's token manager for this block attaches the token
    assert not any(k == "Authorization" for k, _ in oauth.headers)
    assert resolve_oauth2_attributes(block, resolver(cid="c1")) == {"clientId": "c1"}


def test_oauth2_attributes_are_resolved_once_per_configuration() -> None:
    block = Auth(
        "oauth2",
        {"clientId": "{{cid}}", "accessTokenUrl": "https://h/o/token/", "state": "{{$guid}}"},
    )
    made: list[dict[str, str]] = []

    def create(attributes: dict[str, str]) -> int:
        made.append(attributes)
        return len(made)

    managers = PerOAuth2Config(create)
    first = [managers.get(block, resolver(cid="c1")) for _ in range(3)]
    assert first == [1, 1, 1] and len(made) == 1  # one {{$guid}}, not one per request
    assert made[0]["clientId"] == "c1" and made[0]["state"] != "{{$guid}}"
    # Another client id (say, from an iteration data row) names another token set.
    assert managers.get(block, resolver(cid="c2")) == 2
    assert made[1]["clientId"] == "c2"
    # Another block with the same values may place the token differently: its own manager.
    query_block = Auth("oauth2", {**block.params, "addTokenTo": "queryParams"})
    assert managers.get(query_block, resolver(cid="c1")) == 3
    assert managers.get(block, resolver(cid="c1")) == 1


def test_unresolved_variable_is_raised_before_anything_is_built(tmp_path: Path) -> None:
    with pytest.raises(UnresolvedVariableError, match="request 'F/r'"):
        build_request(item(url=Url("{{base}}/api/{{missing}}")), resolver(), files_root=tmp_path)


def test_file_bodies_cannot_escape_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "inside.txt").write_text("ok")
    inside = build_request(
        item(method="PUT", body=Body("file", file_src="inside.txt")),
        resolver(),
        files_root=tmp_path,
    )
    assert inside.content == b"ok"
    with pytest.raises(InputError, match="outside the working directory"):
        build_request(
            item(method="PUT", body=Body("file", file_src="../../etc/passwd")),
            resolver(),
            files_root=tmp_path,
        )
    upload = item(
        method="POST",
        body=Body("formdata", fields=(KeyValue("f", "", type="file", src="/etc/hostname"),)),
    )
    with pytest.raises(InputError, match="--allow-outside-files"):
        build_request(upload, resolver(), files_root=tmp_path)
