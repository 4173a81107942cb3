"""Issue #14: for a collection Newman can run, the harness sends what Newman sends.

Each test runs a small collection through the real CLI (in this process) against an echo server
that records the raw request, then asserts what arrived: method, raw path and query, headers (other
than User-Agent and Postman-Token) and body bytes. Where Postman's documentation is silent, the
comment names the postman-runtime / postman-collection file the expected bytes come from.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

import pytest

from tests.conftest import CliResult
from tests.local_server import serving


@dataclass(frozen=True)
class Received:
    method: str
    target: str  # the raw path and query, as on the request line
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        assert len(values) <= 1, f"{name} sent {len(values)} times"
        return values[0] if values else None


class EchoServer:
    def __init__(self) -> None:
        self.received: list[Received] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.received.append(
                    Received(self.command, self.path, list(self.headers.items()), body)
                )
                redirect = re.match(r"/r(30[1-8])(/.*)", self.path)
                self.send_response(int(redirect.group(1)) if redirect else 200)
                if redirect:  # /r302/next answers "302, see /next"
                    self.send_header("Location", redirect.group(2))
                if cookie := re.match(r"/set-cookie/(\w+=\w+)$", self.path):
                    self.send_header("Set-Cookie", f"{cookie.group(1)}; Path=/")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = do_PATCH = _record
            do_OPTIONS = do_LOCK = _record

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture(scope="module")
def echo() -> Iterator[EchoServer]:
    server = EchoServer()
    with serving(server.httpd):
        yield server


class Send(Protocol):
    def __call__(
        self,
        *requests: dict[str, Any],
        behavior: dict[str, Any] | None = None,
        code: int = 0,
        environment: list[dict[str, Any]] | None = None,
        variables: list[dict[str, Any]] | None = None,
    ) -> list[Received]: ...


@pytest.fixture
def send(
    echo: EchoServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Send:
    """Run these Postman requests (``url`` relative to the echo server) through ``harness run``.

    A request's ``protocolProfileBehavior`` goes on its item; ``behavior`` on the collection.
    """
    from harness.cli import main

    def run(
        *requests: dict[str, Any],
        behavior: dict[str, Any] | None = None,
        code: int = 0,
        environment: list[dict[str, Any]] | None = None,
        variables: list[dict[str, Any]] | None = None,
    ) -> list[Received]:
        items = []
        for number, request in enumerate(requests):
            request = dict(request)
            url = request["url"]
            if isinstance(url, str) and url.startswith("/"):
                request["url"] = echo.base + url
            item = {"name": f"r{number}", "request": request}
            if "protocolProfileBehavior" in request:
                item["protocolProfileBehavior"] = request.pop("protocolProfileBehavior")
            items.append(item)
        collection = tmp_path / "wire.postman_collection.json"
        collection.write_text(
            json.dumps(
                {
                    "info": {
                        "name": "wire",
                        "schema": "https://schema.getpostman.com/json/collection/v2.1.0/",
                    },
                    "item": items,
                    "protocolProfileBehavior": behavior or {},
                    "variable": variables or [],
                }
            )
        )
        environment_file = tmp_path / "wire.postman_environment.json"
        environment_file.write_text(json.dumps({"name": "wire", "values": environment or []}))
        echo.received.clear()
        with monkeypatch.context() as patch:
            for name in [n for n in os.environ if n.startswith("DRCHRONO_")]:
                patch.delenv(name)
            patch.setenv("CI", "1")
            patch.setenv("NO_COLOR", "1")
            patch.chdir(tmp_path)
            capsys.readouterr()
            code = main(["run", str(collection), "-e", str(environment_file), "--no-contracts"])
            out, err = capsys.readouterr()
        result = CliResult(code, out, err)
        assert result.code == code, result.stdout + result.stderr
        return list(echo.received)

    return run


def multipart_parts(received: Received) -> list[tuple[str, str | None, str | None, bytes]]:
    """(name, filename, part Content-Type, content) of each part, in order."""
    content_type = received.header("Content-Type")
    assert content_type is not None
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + received.body
    )
    assert message.is_multipart(), received.body
    parts = []
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        name = str(part.get_param("name", header="content-disposition"))
        parts.append((name, part.get_filename(), part["Content-Type"], payload))
    return parts


# --- 1. formdata bodies -------------------------------------------------------------------------
# postman-runtime lib/requester/core-body-builder.js hands every formdata body to postman-request's
# `formData` (the form-data package): multipart always, fields in order, duplicates kept, a field's
# `contentType` on its part, files typed by their name.


def formdata(*fields: dict[str, Any]) -> dict[str, Any]:
    return {"mode": "formdata", "formdata": list(fields)}


def test_formdata_without_a_file_is_multipart_with_duplicates_and_part_types(send: Send) -> None:
    (got,) = send(
        {
            "method": "POST",
            "url": "/form",
            "body": formdata(
                {"key": "tag", "value": "a", "type": "text"},
                {"key": "tag", "value": "b", "type": "text"},
                {"key": "off", "value": "x", "type": "text", "disabled": True},
                {
                    "key": "meta",
                    "value": '{"a":1}',
                    "type": "text",
                    "contentType": "application/json",
                },
            ),
        }
    )
    content_type = got.header("Content-Type") or ""
    assert content_type.startswith("multipart/form-data; boundary=--------------------------")
    boundary = content_type.split("boundary=", 1)[1]
    assert len(boundary) == 50
    assert (
        got.body
        == (
            f'--{boundary}\r\nContent-Disposition: form-data; name="tag"\r\n\r\na\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="tag"\r\n\r\nb\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="meta"\r\n'
            f'Content-Type: application/json\r\n\r\n{{"a":1}}\r\n'
            f"--{boundary}--\r\n"
        ).encode()
    )
    assert got.header("Content-Length") == str(len(got.body))


def test_formdata_files_keep_duplicate_keys_and_order(send: Send, tmp_path: Path) -> None:
    (tmp_path / "consent.pdf").write_bytes(b"%PDF-1.4 one")
    (tmp_path / "notes.txt").write_bytes(b"two")
    (got,) = send(
        {
            "method": "POST",
            "url": "/upload",
            "body": formdata(
                {"key": "doc", "type": "file", "src": "consent.pdf"},
                {"key": "doc", "type": "file", "src": "notes.txt"},
                {"key": "doc", "value": "three", "type": "text"},
            ),
        }
    )
    assert multipart_parts(got) == [
        ("doc", "consent.pdf", "application/pdf", b"%PDF-1.4 one"),
        ("doc", "notes.txt", "text/plain", b"two"),
        ("doc", None, None, b"three"),
    ]


def test_a_boundaryless_multipart_header_gets_the_generated_boundary(
    send: Send, tmp_path: Path
) -> None:
    (tmp_path / "consent.pdf").write_bytes(b"%PDF-1.4")
    (got,) = send(
        {
            "method": "POST",
            "url": "/clinical_note_field_values",
            "header": [{"key": "Content-Type", "value": "multipart/form-data"}],
            "body": formdata(
                {"key": "patient", "value": "7", "type": "text"},
                {"key": "document", "type": "file", "src": "consent.pdf"},
            ),
        }
    )
    content_type = got.header("Content-Type") or ""
    assert content_type.startswith("multipart/form-data; boundary=")
    assert multipart_parts(got) == [
        ("patient", None, None, b"7"),
        ("document", "consent.pdf", "application/pdf", b"%PDF-1.4"),
    ]


# --- 2. URLs --------------------------------------------------------------------------------------
# postman-runtime sends `urlEncoder.toNodeUrl(request.url)`: postman-url-encoder's index.js builds
# the URL from the parts of the URL object (the `raw` string is not read), and encoder/index.js
# encodes each query parameter with encoder/encode-set.js's QUERY_ENCODE_SET, keeping %XX as is.


def test_a_url_object_is_sent_from_its_parts_with_newmans_query_encoding(
    send: Send, echo: EchoServer
) -> None:
    port = echo.base.rsplit(":", 1)[1]
    (got,) = send(
        {
            "method": "GET",
            "url": {
                "raw": "http://127.0.0.1:1/old/path?stale=1",
                "protocol": "http",
                "host": ["127", "0", "0", "1"],
                "port": port,
                "path": ["patients", "v1"],
                "query": [
                    {"key": "email", "value": "a%40b.com"},
                    {"key": "debug", "value": None},
                    {"key": "q", "value": "a b+c"},
                    {"key": "quote", "value": "'<x>\""},
                    {"key": "filter", "value": "a=b&c"},
                    {"key": "off", "value": "1", "disabled": True},
                    {"key": "name", "value": "Zoë"},
                ],
            },
        }
    )
    assert got.target == (
        "/patients/v1?email=a%40b.com&debug&q=a%20b+c&quote=%27%3Cx%3E%22"
        "&filter=a%3Db%26c&name=Zo%C3%AB"
    )


def test_a_url_string_query_is_encoded_the_same_way(send: Send) -> None:
    (got,) = send({"method": "GET", "url": "/items?email=a%40b.com&debug&q=a b+c&k='1'"})
    assert got.target == "/items?email=a%40b.com&debug&q=a%20b+c&k=%271%27"


def test_disable_url_encoding_sends_the_query_as_written(send: Send) -> None:
    (got,) = send(
        {
            "method": "GET",
            "url": "/items?k='1'&email=a%40b.com",
            "protocolProfileBehavior": {"disableUrlEncoding": True},
        }
    )
    assert got.target == "/items?k='1'&email=a%40b.com"


def test_a_url_objects_auth_goes_out_as_basic_auth(send: Send, echo: EchoServer) -> None:
    """A v2.1 URL object's auth {user, password} is the URL's userinfo (postman-collection
    lib/collection/url.js); postman-request sends it as Basic auth, '@' and ':' in it included
    (newman's whatwg-url fixture, 'multiple : and @ in auth')."""
    port = echo.base.rsplit(":", 1)[1]
    url = {
        "raw": f"http://us@r:p@ssword@127.0.0.1:{port}/get",
        "protocol": "http",
        "auth": {"user": "us@r", "password": "p@ssword"},
        "host": ["127", "0", "0", "1"],
        "port": port,
        "path": ["get"],
    }
    (got,) = send({"method": "GET", "url": url})
    assert got.target == "/get"
    assert got.header("Authorization") == "Basic dXNAcjpwQHNzd29yZA=="  # us@r:p@ssword


def test_disable_url_encoding_sends_the_path_as_written_too(send: Send) -> None:
    """postman-url-encoder's toNodeUrl(url, disableEncoding) encodes neither path nor query
    (newman's whatwg-url fixture: 'path encoding' with disableUrlEncoding)."""
    path = '/!/"/</>/[/]/^/`/{/|/}/~'
    (got,) = send(
        {"method": "GET", "url": path, "protocolProfileBehavior": {"disableUrlEncoding": True}},
    )
    assert got.target == path


# --- 3. Body pruning ------------------------------------------------------------------------------
# postman-runtime lib/requester/core.js getRequestBody: no body for GET, HEAD, COPY, PURGE and
# UNLOCK unless protocolProfileBehavior.disableBodyPruning; the behaviour is merged key by key from
# the collection down to the item (postman-collection lib/collection/item.js).


def raw_json(text: str) -> dict[str, Any]:
    return {"mode": "raw", "raw": text, "options": {"raw": {"language": "json"}}}


def test_a_get_body_is_pruned_unless_body_pruning_is_disabled(send: Send) -> None:
    pruned, kept, posted = send(
        {"method": "GET", "url": "/a", "body": raw_json('{"a":1}')},
        {
            "method": "GET",
            "url": "/b",
            "body": raw_json('{"b":2}'),
            "protocolProfileBehavior": {"disableBodyPruning": True},
        },
        {
            "method": "POST",
            "url": "/c",
            "body": raw_json('{"c":3}'),
        },
    )
    assert (pruned.body, pruned.header("Content-Type"), pruned.header("Content-Length")) == (
        b"",
        None,
        None,
    )
    assert (kept.body, kept.header("Content-Type")) == (b'{"b":2}', "application/json")
    assert posted.body == b'{"c":3}'


def test_a_collection_wide_disable_body_pruning_is_overridden_by_the_item(send: Send) -> None:
    kept, pruned = send(
        {"method": "GET", "url": "/a", "body": raw_json("[1]")},
        {
            "method": "GET",
            "url": "/b",
            "body": raw_json("[2]"),
            "protocolProfileBehavior": {"disableBodyPruning": False},
        },
        behavior={"disableBodyPruning": True},
    )
    assert kept.body == b"[1]"
    assert pruned.body == b""


# --- 4. Redirects ---------------------------------------------------------------------------------
# postman-runtime lib/requester/core.js maps protocolProfileBehavior onto postman-request's
# followRedirect/followAllRedirects, followOriginalHttpMethod and maxRedirects; postman-request's
# lib/redirect.js then follows every method, turns any 3xx but 307/308 into a bodiless GET (HEAD
# stays HEAD) unless followOriginalHttpMethod, and sends the previous URL as Referer.


def test_a_302_after_post_and_a_301_after_put_become_bodiless_gets_with_a_referer(
    send: Send, echo: EchoServer
) -> None:
    post, post_next, put, put_next, kept, kept_next = send(
        {"method": "POST", "url": "/r302/landing", "body": raw_json('{"a":1}')},
        {"method": "PUT", "url": "/r301/moved", "body": raw_json('{"b":2}')},
        {"method": "POST", "url": "/r307/again", "body": raw_json('{"c":3}')},
    )
    assert (post.method, post.body) == ("POST", b'{"a":1}')
    assert (post_next.method, post_next.target, post_next.body) == ("GET", "/landing", b"")
    assert post_next.header("Content-Type") is None
    assert post_next.header("Referer") == echo.base + "/r302/landing"
    assert (put.method, put_next.method, put_next.body) == ("PUT", "GET", b"")
    assert (kept_next.method, kept_next.target, kept_next.body) == ("POST", "/again", b'{"c":3}')
    assert kept_next.header("Content-Type") == "application/json"
    assert kept.body == kept_next.body


def test_redirect_settings_from_protocol_profile_behavior(send: Send) -> None:
    original, original_next, unfollowed, chain, chain_next, chain_last = send(
        {
            "method": "POST",
            "url": "/r302/landing",
            "body": raw_json('{"a":1}'),
            "protocolProfileBehavior": {"followOriginalHttpMethod": True},
        },
        {
            "method": "GET",
            "url": "/r302/nowhere",
            "protocolProfileBehavior": {"followRedirects": False},
        },
        {
            "method": "GET",
            "url": "/r302/r302/end",
            "protocolProfileBehavior": {"maxRedirects": 2, "removeRefererHeaderOnRedirect": True},
        },
    )
    assert (original_next.method, original_next.target, original_next.body) == (
        "POST",
        "/landing",
        b"",
    )
    assert unfollowed.target == "/r302/nowhere"
    assert [chain.target, chain_next.target, chain_last.target] == [
        "/r302/r302/end",
        "/r302/end",
        "/end",
    ]
    assert chain_last.header("Referer") is None


def test_more_redirects_than_max_redirects_fail_the_request(send: Send) -> None:
    received = send(
        {
            "method": "GET",
            "url": "/r302/r302/end",
            "protocolProfileBehavior": {"maxRedirects": 1},
        },
        code=1,
    )
    assert [r.target for r in received] == ["/r302/r302/end", "/r302/end"]


# --- 4b. System headers ----------------------------------------------------------------------------
# postman-runtime lib/requester/core.js addSystemHeaders: Accept: */*, Cache-Control: no-cache,
# Accept-Encoding: gzip, deflate, br and Connection: keep-alive go on every request that has not
# set them itself (User-Agent and Postman-Token name the client: not compared).


def test_newmans_system_headers_unless_the_request_sets_its_own(send: Send) -> None:
    plain, own = send(
        {"method": "GET", "url": "/plain"},
        {
            "method": "GET",
            "url": "/own",
            "header": [
                {"key": "cache-control", "value": "max-age=0"},
                {"key": "Accept", "value": "application/json"},
            ],
        },
    )
    assert plain.header("Accept") == "*/*"
    assert plain.header("Cache-Control") == "no-cache"
    assert plain.header("Accept-Encoding") == "gzip, deflate, br"
    assert plain.header("Connection") == "keep-alive"
    assert own.header("Cache-Control") == "max-age=0"
    assert own.header("Accept") == "application/json"


def test_repeated_headers_go_out_as_node_sets_them(send: Send) -> None:
    """postman-runtime gathers headers by exact name (a repeat is a list: several lines) and
    sets them on Node's request, whose setHeader ignores case: the spelling that appears last
    replaces the other. Measured with Newman 6.2.2 (benchmarks/newman_parity.py)."""
    headers = [("X-A", "1"), ("X-A", "2"), ("x-b", "1"), ("X-B", "2")]
    headers += [("X-C", "1"), ("x-c", "2"), ("X-C", "3")]
    (got,) = send(
        {"method": "GET", "url": "/dups", "header": [{"key": k, "value": v} for k, v in headers]}
    )
    sent = [(k, v) for k, v in got.headers if k.lower() in ("x-a", "x-b", "x-c")]
    assert sent == [("X-A", "1"), ("X-A", "2"), ("X-B", "2"), ("x-c", "2")]


def test_an_empty_oauth2_header_prefix_sends_the_bare_token(send: Send) -> None:
    """postman-runtime lib/authorizer/oauth2.js: headerPrefix defaults to "Bearer" only when it
    is missing (_.isNil); an empty one is trimmed and the token goes out alone."""

    def oauth2(*extra: dict[str, str]) -> dict[str, Any]:
        params = [{"key": "accessToken", "value": "tok123"}, *extra]
        return {"type": "oauth2", "oauth2": params}

    empty, missing, custom = send(
        {"method": "GET", "url": "/empty", "auth": oauth2({"key": "headerPrefix", "value": ""})},
        {"method": "GET", "url": "/missing", "auth": oauth2()},
        {
            "method": "GET",
            "url": "/custom",
            "auth": oauth2({"key": "headerPrefix", "value": " Token "}),
        },
    )
    assert empty.header("Authorization") == "tok123"
    assert missing.header("Authorization") == "Bearer tok123"
    assert custom.header("Authorization") == "Token tok123"


def test_an_api_key_replaces_its_parameter_or_header_encoded_as_the_others(send: Send) -> None:
    """postman-runtime lib/authorizer/apikey.js removes the query parameter of the same key (or
    the header of the same name, any case) and adds the pair, which postman-url-encoder then
    encodes as any query parameter (a space is %20)."""

    def apikey(where: str) -> dict[str, Any]:
        params = {"key": "api_key", "value": "v 1", "in": where}
        return {"type": "apikey", "apikey": [{"key": k, "value": v} for k, v in params.items()]}

    query, header = send(
        {"method": "GET", "url": "/k?z=1&api_key=old", "auth": apikey("query")},
        {
            "method": "GET",
            "url": "/h",
            "header": [{"key": "API_KEY", "value": "old"}],
            "auth": apikey("header"),
        },
    )
    assert query.target == "/k?z=1&api_key=v%201"
    assert [(k, v) for k, v in header.headers if k.lower() == "api_key"] == [("api_key", "v 1")]


def test_a_digest_block_with_realm_and_nonce_signs_the_first_request(send: Send) -> None:
    """postman-runtime lib/authorizer/digest.js signs at once when the block has a realm and a
    nonce (pre), writing the fields in computeHeader's order. The expected header is what Newman
    6.2.2 sent for newman's super-sandbox-test fixture (benchmarks/newman_parity.py)."""
    params = {"algorithm": "", "username": "postman", "realm": "Users", "password": "password"}
    params |= {"nonce": "ni1LiL0O37PRRhofWdCLmwFsnEtH1lew", "qop": "", "opaque": ""}
    auth = {"type": "digest", "digest": [{"key": k, "value": v} for k, v in params.items()]}
    (got,) = send({"method": "GET", "url": "/digest-auth", "auth": auth})
    assert got.header("Authorization") == (
        'Digest username="postman", realm="Users", nonce="ni1LiL0O37PRRhofWdCLmwFsnEtH1lew", '
        'uri="/digest-auth", algorithm="MD5", response="254679099562cf07df9b6f5d8d15db44"'
    )


def test_a_bodiless_request_is_framed_as_node_frames_it(send: Send) -> None:
    """Node's http client ends a request without a body with Content-Length: 0 unless its
    method is GET, HEAD, DELETE, OPTIONS, TRACE or CONNECT (lib/_http_client.js
    useChunkedEncodingByDefault); newman's custom-http-method fixture checks it for a custom one."""
    lock, options, delete = send(
        {"method": "LOCK", "url": "/lock"},
        {"method": "OPTIONS", "url": "/options"},
        {"method": "DELETE", "url": "/delete"},
    )
    assert lock.header("Content-Length") == "0"
    assert options.header("Content-Length") is None
    assert delete.header("Content-Length") is None


# --- 5. Variables -----------------------------------------------------------------------------------
# A disabled variable is not used (postman-collection's lib/collection/variable.js reads
# `disabled`; Postman's exports write `enabled: false`); a value that is not text is substituted as
# Variable#toString writes it: String() for booleans and numbers, JSON.stringify for objects.


def test_environment_values_substitute_as_postman_writes_them(send: Send) -> None:
    (got,) = send(
        {
            "method": "POST",
            "url": "/vars",
            "header": [
                {"key": "X-Flags", "value": "{{flag}} {{count}} {{ratio}} {{off}} {{gone}}"}
            ],
            "body": raw_json('{"meta": {{meta}}, "list": {{list}}}'),
        },
        environment=[
            {"key": "flag", "value": True},
            {"key": "count", "value": 1.0},
            {"key": "ratio", "value": 0.5},
            {"key": "meta", "value": {"a": 1, "b": "Zoë"}},
            {"key": "list", "value": [1, None]},
            {"key": "off", "value": "from-env", "disabled": True},
            {"key": "gone", "value": "from-env", "enabled": False},
        ],
        variables=[
            {"key": "off", "value": "from-collection"},
            {"key": "gone", "value": "from-collection"},
        ],
    )
    assert got.header("X-Flags") == "true 1 0.5 from-collection from-collection"
    assert got.body == '{"meta": {"a":1,"b":"Zoë"}, "list": [1,null]}'.encode()


# --- 6. Bodies ------------------------------------------------------------------------------------
# postman-runtime lib/requester/core-body-builder.js: raw bodies get the Content-Type of their
# language; GraphQL is written member by member with the variables text as is; urlencoded values
# are gathered per key and written by postman-request with Node's querystring plus RFC 3986
# escapes. An empty body is not sent (core.js getRequestBody isEmpty).


def test_bodies_go_out_with_newmans_bytes_and_content_types(send: Send) -> None:
    html, script, graphql, form, empty_form, empty_raw, empty_multipart = send(
        {
            "method": "POST",
            "url": "/html",
            "body": {"mode": "raw", "raw": "<p>", "options": {"raw": {"language": "html"}}},
        },
        {
            "method": "POST",
            "url": "/js",
            "body": {"mode": "raw", "raw": "f()", "options": {"raw": {"language": "javascript"}}},
        },
        {
            "method": "POST",
            "url": "/graphql",
            "body": {
                "mode": "graphql",
                "graphql": {
                    "query": "query Op { a }",
                    "operationName": "Op",
                    "variables": '{"n": 1}',
                },
            },
        },
        {
            "method": "POST",
            "url": "/form",
            "body": {
                "mode": "urlencoded",
                "urlencoded": [
                    {"key": "a", "value": "1 2"},
                    {"key": "b", "value": "x*(y)!~"},
                    {"key": "a", "value": "3"},
                ],
            },
        },
        {"method": "POST", "url": "/empty-form", "body": {"mode": "urlencoded", "urlencoded": []}},
        {
            "method": "POST",
            "url": "/empty-raw",
            "body": {"mode": "raw", "raw": "", "options": {"raw": {"language": "json"}}},
        },
        # A formdata list without members is empty too (newman's multiple-form-values fixture).
        {"method": "POST", "url": "/empty-multipart", "body": {"mode": "formdata", "formdata": []}},
    )
    assert (html.body, html.header("Content-Type")) == (b"<p>", "text/html")
    assert (script.body, script.header("Content-Type")) == (b"f()", "application/javascript")
    assert graphql.body == b'{"query":"query Op { a }","operationName":"Op","variables":{"n": 1}}'
    assert graphql.header("Content-Type") == "application/json"
    assert form.body == b"a=1%202&a=3&b=x%2A%28y%29%21~"
    assert form.header("Content-Type") == "application/x-www-form-urlencoded"
    for empty in (empty_form, empty_raw, empty_multipart):
        assert (empty.body, empty.header("Content-Type")) == (b"", None)
        assert empty.header("Content-Length") == "0"  # Node ends a bodiless POST with 0


@pytest.fixture(scope="module")
def tls_echo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EchoServer]:
    """The echo server behind a self-signed certificate no client trusts."""
    import datetime
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("tls")
    (directory / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    server = EchoServer()
    server.httpd.socket = context.wrap_socket(server.httpd.socket, server_side=True)
    server.base = server.base.replace("http://", "https://")
    with serving(server.httpd):
        yield server


def test_strict_ssl_false_skips_the_certificate_check_for_that_request_only(
    send: Send, tls_echo: EchoServer
) -> None:
    received = send(
        {
            "method": "GET",
            "url": tls_echo.base + "/lax",
            "protocolProfileBehavior": {"strictSSL": False},
        },
        {"method": "POST", "url": tls_echo.base + "/strict"},
        code=1,
    )
    assert received == []  # the plain echo server saw nothing
    assert [r.target for r in tls_echo.received] == ["/lax"]
