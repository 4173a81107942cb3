"""Turn a collection request and the current variables into a concrete HTTP request.

Pure apart from reading the files a ``formdata``/``file`` body names, which must stay inside the
working directory (a collection from elsewhere must not make the harness upload ``~/.ssh``).
"""

from __future__ import annotations

import base64
import json
import mimetypes
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import httpx

from harness.collection import Auth, Body, KeyValue, ProtocolProfile, RequestItem
from harness.errors import InputError
from harness.http_headers import check_header
from harness.json_input import named_input_file
from harness.report_text import report_text
from harness.request_auth import RequestAuth, auth_for
from harness.variables import Resolver

# postman-runtime's core-body-builder.js CONTENT_TYPE_LANGUAGE; any other language is text/plain.
_RAW_CONTENT_TYPES = {
    "html": "text/html",
    "text": "text/plain",
    "json": "application/json",
    "javascript": "application/javascript",
    "xml": "application/xml",
}
_METHODS_WITHOUT_BODY = frozenset({"GET", "HEAD", "COPY", "PURGE", "UNLOCK"})
_PATH_VARIABLE = re.compile(r"(?<=/):([A-Za-z_][\w-]*)")
_SHOWN_URL_CHARS = 200  # a bad URL is quoted in the message, up to this much of it


@dataclass
class BuiltRequest:
    """What will be sent (before a token from the token manager is attached)."""

    method: str
    url: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    content: bytes | None = None
    # The effective oauth2 block, unresolved: the run's token manager for it attaches the token.
    oauth2: Auth | None = None
    auth: RequestAuth | None = None  # signs the request as it is sent (oauth1, digest, hawk, ...)
    # What the auth block puts on the wire: secrets by construction, whatever the variable's name.
    auth_secrets: list[str] = field(default_factory=list)
    protocol: ProtocolProfile = ProtocolProfile()  # redirects and TLS, as the collection says


def build_request(
    item: RequestItem,
    resolver: Resolver,
    *,
    files_root: Path,
    allow_outside_files: bool = False,
) -> BuiltRequest:
    where = f"request '{item.full_name}'"
    try:
        url = _build_url(item, resolver, where)
        headers = _as_node_sets_them(
            [
                (resolver.resolve(h.key, where), resolver.resolve(h.value, where))
                for h in item.headers
                if not h.disabled
            ]
        )
        built = BuiltRequest(method=item.method, url=url, headers=headers, protocol=item.protocol)
        password = _userinfo_password(url)
        if password:
            built.auth_secrets.append(password)  # http://user:PASSWORD@host is a credential too
        # postman-runtime's lib/requester/core.js drops the body of these methods unless the
        # request's protocolProfileBehavior sets disableBodyPruning.
        pruned = item.method in _METHODS_WITHOUT_BODY and not item.protocol.disable_body_pruning
        if item.body is not None and not pruned:
            _attach_body(built, item.body, resolver, where, files_root, allow_outside_files)
        _attach_auth(built, item, resolver, where)
    except UnicodeEncodeError as exc:
        # A JSON "\ud800" escape yields half a surrogate pair: text with no UTF-8 form to send.
        raise InputError(
            f"The {where} contains U+{ord(exc.object[exc.start]):04X}, half of a UTF-16 "
            "surrogate pair, which is not a character and cannot be sent.",
            hint="Fix the escape sequence in the collection or variable that holds it.",
        ) from None
    for name, value in built.headers:
        check_header(name, value, where)
    return built


def _as_node_sets_them(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The headers Newman sends: postman-runtime gathers them by exact name (a repeated name
    becomes a list, sent as several lines) and sets each name on Node's request in order of
    first appearance; Node's setHeader ignores case, so of ``x-b`` and ``X-B`` the spelling
    that appeared last replaces the other with all its values."""
    winner: dict[str, str] = {}
    seen: set[str] = set()
    for name, _ in headers:
        if name not in seen:
            seen.add(name)
            winner[name.lower()] = name
    return [(name, value) for name, value in headers if winner[name.lower()] == name]


def _build_url(item: RequestItem, resolver: Resolver, where: str) -> str:
    raw = resolver.resolve(item.url.raw, f"the URL of {where}")
    path_values = {
        v.key: resolver.resolve(v.value, f"path variable :{v.key} of {where}")
        for v in item.url.path_variables
    }
    if path_values:
        raw = _PATH_VARIABLE.sub(lambda m: path_values.get(m.group(1), m.group(0)), raw)
    raw, hash_mark, fragment = raw.partition("#")
    raw, question_mark, raw_query = raw.partition("?")
    # Every parameter is encoded as postman-url-encoder's encoder/index.js does: only the query
    # percent-encode set, an existing %XX kept (never "%2540"), "?debug" without "=".
    encode = item.protocol.disable_url_encoding is False
    params = [_raw_query_param(p, encode) for p in raw_query.split("&")] if question_mark else []
    params += [
        _query_param(
            resolver.resolve(q.key, where), resolver.resolve(q.value, where), q.has_value, encode
        )
        for q in item.url.query
        if not q.disabled
    ]
    if question_mark or any(not q.disabled for q in item.url.query):
        raw += "?" + "&".join(params)
    raw += hash_mark + fragment
    if "://" not in raw:
        raw = "http://" + raw  # Postman's default when the protocol is left out
    shown = repr(raw[:_SHOWN_URL_CHARS]) + (" (cut short)" if len(raw) > _SHOWN_URL_CHARS else "")
    try:
        # httpx's parser is the one the sender uses: what passes here can be sent.
        host = httpx.URL(raw).host
    except httpx.InvalidURL as exc:
        raise InputError(
            f"The URL of {where} resolves to {shown}, which is not a valid URL "
            f"({report_text(str(exc))[:200]}).",
            hint="Use forward slashes (a backslash is not a URL separator) and check the "
            "variables the URL uses."
            if "\\" in raw
            else "Fix the URL in the collection, or the variables it uses.",
        ) from None
    if not host:
        raise InputError(
            f"The URL of {where} resolves to {shown}, which has no host.",
            hint="Check the base URL variable in the environment.",
        )
    return raw


# postman-url-encoder's encoder/encode-set.js QUERY_ENCODE_SET; C0 controls and non-ASCII too.
_QUERY_ENCODED = frozenset(b" \"#&'<=>")
_PRE_ENCODED = re.compile(rb"%[0-9A-Fa-f]{2}")


def _raw_query_param(text: str, encode: bool) -> str:
    key, equals, value = text.partition("=")
    return _query_param(key, value, bool(equals), encode)


def _query_param(key: str, value: str, has_value: bool, encode: bool) -> str:
    """``key=value`` (``key`` alone when it has no value), encoded unless disableUrlEncoding."""
    if encode:
        key, value = _percent_encode(key), _percent_encode(value)
    return key + "=" + value if has_value else key


def _percent_encode(text: str) -> str:
    data, out, index = text.encode(), [], 0
    while index < len(data):
        if _PRE_ENCODED.match(data, index):
            out.append(data[index : index + 3].decode())
            index += 3
            continue
        byte = data[index]
        plain = 0x20 <= byte < 0x7F and byte not in _QUERY_ENCODED
        out.append(chr(byte) if plain else f"%{byte:02X}")
        index += 1
    return "".join(out)


def _attach_body(
    built: BuiltRequest,
    body: Body,
    resolver: Resolver,
    where: str,
    files_root: Path,
    allow_outside: bool,
) -> None:
    body_where = f"the body of {where}"
    if body.mode == "raw":
        text = resolver.resolve(body.raw, body_where)
        if text:  # an empty body is not sent, nor a Content-Type for it (core.js isEmpty)
            built.content = text.encode()
            language = _RAW_CONTENT_TYPES.get(body.language or "text", "text/plain")
            _default_header(built, "Content-Type", language)
    elif body.mode == "urlencoded" and body.fields:  # no fields at all: no body (isEmpty)
        # core-body-builder.js gathers a repeated key's values at its first place; postman-request
        # writes them with Node's querystring plus RFC 3986 escapes: only A-Z a-z 0-9 - _ . ~
        # stay as they are, a space is %20.
        grouped: dict[str, list[str]] = {}
        for f in body.fields:
            if not f.disabled:
                key = resolver.resolve(f.key, body_where)
                grouped.setdefault(key, []).append(resolver.resolve(f.value, body_where))
        pairs = [(key, value) for key, values in grouped.items() for value in values]
        built.content = urlencode(pairs, quote_via=quote, safe="").encode()
        _default_header(built, "Content-Type", "application/x-www-form-urlencoded")
    elif body.mode == "formdata" and body.fields:  # no fields at all: no body (isEmpty)
        # Always multipart, in the collection's order with duplicate keys kept, each part with its
        # own contentType: what postman-runtime's lib/requester/core-body-builder.js hands to the
        # form-data package, with or without a file among the fields.
        parts: list[_Part] = []
        for f in body.fields:
            if f.disabled:
                continue
            key = resolver.resolve(f.key, body_where)
            if f.type == "file":
                for src in _sources(f):
                    path = _safe_path(src, files_root, allow_outside, where)
                    content_type = f.content_type or _guessed_type(path.name)
                    parts.append(_Part(key, _read(path, where), content_type, path.name))
            else:
                value = resolver.resolve(f.value, body_where).encode()
                parts.append(_Part(key, value, f.content_type))
        boundary = "-" * 26 + "".join(secrets.choice("0123456789") for _ in range(24))
        built.content = _multipart(parts, _boundary_header(built, boundary))
    elif body.mode == "file":
        if body.file_src:
            path = _safe_path(body.file_src, files_root, allow_outside, where)
            built.content = _read(path, where)
            # postman-runtime hands the file to postman-request as a read stream, which types it
            # by its name, else application/octet-stream (request.js, on 'pipe').
            _default_header(built, "Content-Type", _guessed_type(path.name))
    elif body.mode == "graphql":
        # postman-runtime's core-body-builder.js writes the variables text as it is (not
        # re-serialised), after the query and the operationName, and leaves out empty variables.
        members = ['"query":' + _js_string(resolver.resolve(body.graphql_query, body_where))]
        if body.graphql_operation_name is not None:
            operation = resolver.resolve(body.graphql_operation_name, body_where)
            members.append('"operationName":' + _js_string(operation))
        variables_text = resolver.resolve(body.graphql_variables, body_where)
        if variables_text:
            members.append('"variables":' + variables_text)
        built.content = ("{" + ",".join(members) + "}").encode()
        _default_header(built, "Content-Type", "application/json")


def _js_string(text: str) -> str:
    """``text`` as JavaScript's JSON.stringify writes it (non-ASCII left as it is)."""
    return json.dumps(text, ensure_ascii=False)


def _attach_auth(built: BuiltRequest, item: RequestItem, resolver: Resolver, where: str) -> None:
    auth = item.auth
    if auth is None:
        return
    if auth.type == "oauth2":
        built.oauth2 = auth  # resolved once per configuration, not per request
        return
    params = {
        k: resolver.resolve_any(v, f"the {auth.type} auth of {where}")
        for k, v in auth.params.items()
    }
    if auth.type == "bearer":
        built.auth_secrets.append(str(params.get("token", "")))
        _default_header(built, "Authorization", f"Bearer {params.get('token', '')}")
    elif auth.type == "basic":
        pair = f"{params.get('username', '')}:{params.get('password', '')}".encode()
        encoded = base64.b64encode(pair).decode()
        # Not the user name: a plain word such as "drchrono" would be masked inside every URL.
        built.auth_secrets += [str(params.get("password", "")), encoded]
        _default_header(built, "Authorization", "Basic " + encoded)
    elif auth.type == "apikey":
        # postman-runtime lib/authorizer/apikey.js: the pair replaces a query parameter of the
        # same key (encoded as every query parameter is) or a header of the same name.
        key, value = str(params.get("key", "")), str(params.get("value", ""))
        built.auth_secrets.append(value)
        if params.get("in") == "query" and (key or value):
            encode = not item.protocol.disable_url_encoding
            url, hash_mark, fragment = built.url.partition("#")
            base, _, query = url.partition("?")
            written_key = _query_param(key, "", False, encode)
            kept = [p for p in query.split("&") if p and p.split("=", 1)[0] != written_key]
            query = "&".join([*kept, _query_param(key, value, True, encode)])
            built.url = f"{base}?{query}{hash_mark}{fragment}"
        elif key or value:
            built.headers = [(n, v) for n, v in built.headers if n.lower() != key.lower()]
            built.headers.append((key, value))
    else:
        built.auth = auth_for(
            auth.type, params, where, header_names=[name for name, _ in built.headers]
        )


def _userinfo_password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:  # a malformed host; the sender reports it
        return None


def _default_header(built: BuiltRequest, name: str, value: str) -> None:
    if not any(k.lower() == name.lower() for k, _ in built.headers):
        built.headers.append((name, value))


@dataclass(frozen=True)
class _Part:
    name: str
    content: bytes
    content_type: str | None = None
    filename: str | None = None


def _boundary_header(built: BuiltRequest, boundary: str) -> str:
    """The boundary the body uses, after making the Content-Type header announce it.

    A header the user set to ``multipart/form-data`` without a boundary gets the generated one
    (the form-data package's headers win over a boundary-less one); a header with its own boundary
    keeps it; any other Content-Type the user set is theirs to keep, as in Newman.
    """
    for index, (name, value) in enumerate(built.headers):
        if name.lower() != "content-type":
            continue
        own = re.search(r";\s*boundary=\"?([^\";]+)\"?", value, flags=re.IGNORECASE)
        if own:
            return own.group(1)
        if value.strip().lower().startswith("multipart/"):
            built.headers[index] = (name, f"{value.strip().rstrip(';')}; boundary={boundary}")
        return boundary
    built.headers.append(("Content-Type", f"multipart/form-data; boundary={boundary}"))
    return boundary


def _multipart(parts: list[_Part], boundary: str) -> bytes:
    """The body the form-data package (used by postman-request) writes for these parts."""
    out = bytearray()
    for part in parts:
        disposition = f'Content-Disposition: form-data; name="{part.name}"'
        if part.filename is not None:
            disposition += f'; filename="{part.filename}"'
        head = f"--{boundary}\r\n{disposition}\r\n"
        if part.content_type:
            head += f"Content-Type: {part.content_type}\r\n"
        out += (head + "\r\n").encode() + part.content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out)


def _guessed_type(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def _sources(field: KeyValue) -> list[str]:
    if field.src is None:
        return []
    return [field.src] if isinstance(field.src, str) else list(field.src)


def _safe_path(src: str, root: Path, allow_outside: bool, where: str) -> Path:
    return named_input_file(
        src,
        base=root,
        roots={"the working directory": root},
        allow_outside=allow_outside,
        refusal=f"{where} wants to upload",
        hint="Move the file under the working directory, or pass --allow-outside-files "
        "if you trust this collection.",
    )


def _read(path: Path, where: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"{where} uploads {path}, which cannot be read ({exc.strerror}).",
            hint="Check the file path in the collection's body.",
        ) from None
