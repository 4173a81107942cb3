"""Turn a collection request and the current variables into a concrete HTTP request.

Pure apart from reading the files a ``formdata``/``file`` body names, which must stay inside the
working directory (a collection from elsewhere must not make the harness upload ``~/.ssh``).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx

from harness.collection import Auth, Body, KeyValue, RequestItem
from harness.errors import InputError
from harness.http_headers import check_header
from harness.json_input import named_input_file
from harness.report_text import report_text
from harness.request_auth import RequestAuth, auth_for
from harness.variables import Resolver

_PATH_VARIABLE = re.compile(r"(?<=/):([A-Za-z_][\w-]*)")
_SHOWN_URL_CHARS = 200  # a bad URL is quoted in the message, up to this much of it


@dataclass
class BuiltRequest:
    """What will be sent (before a token from the token manager is attached)."""

    method: str
    url: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    content: bytes | None = None
    files: list[tuple[str, tuple[str, bytes]]] | None = None
    form: list[tuple[str, str]] | None = None  # multipart text fields alongside files
    # The effective oauth2 block, unresolved: the run's token manager for it attaches the token.
    oauth2: Auth | None = None
    auth: RequestAuth | None = None  # signs the request as it is sent (oauth1, digest, hawk, ...)
    # What the auth block puts on the wire: secrets by construction, whatever the variable's name.
    auth_secrets: list[str] = field(default_factory=list)


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
        headers = [
            (resolver.resolve(h.key, where), resolver.resolve(h.value, where))
            for h in item.headers
            if not h.disabled
        ]
        built = BuiltRequest(method=item.method, url=url, headers=headers)
        password = _userinfo_password(url)
        if password:
            built.auth_secrets.append(password)  # http://user:PASSWORD@host is a credential too
        if item.body is not None:
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


def _build_url(item: RequestItem, resolver: Resolver, where: str) -> str:
    raw = resolver.resolve(item.url.raw, f"the URL of {where}")
    path_values = {
        v.key: resolver.resolve(v.value, f"path variable :{v.key} of {where}")
        for v in item.url.path_variables
    }
    if path_values:
        raw = _PATH_VARIABLE.sub(lambda m: path_values.get(m.group(1), m.group(0)), raw)
    query = [
        (resolver.resolve(q.key, where), resolver.resolve(q.value, where))
        for q in item.url.query
        if not q.disabled
    ]
    if query:
        raw += ("&" if "?" in raw else "?") + urlencode(query, safe="/:,")
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
        built.content = text.encode()
        if body.language == "json":
            _default_header(built, "Content-Type", "application/json")
        elif body.language == "xml":
            _default_header(built, "Content-Type", "application/xml")
        elif text:
            _default_header(built, "Content-Type", "text/plain")
    elif body.mode == "urlencoded":
        pairs = [
            (resolver.resolve(f.key, body_where), resolver.resolve(f.value, body_where))
            for f in body.fields
            if not f.disabled
        ]
        built.content = urlencode(pairs).encode()
        _default_header(built, "Content-Type", "application/x-www-form-urlencoded")
    elif body.mode == "formdata":
        built.form, built.files = [], []
        for f in body.fields:
            if f.disabled:
                continue
            key = resolver.resolve(f.key, body_where)
            if f.type == "file":
                for src in _sources(f):
                    path = _safe_path(src, files_root, allow_outside, where)
                    built.files.append((key, (path.name, _read(path, where))))
            else:
                built.form.append((key, resolver.resolve(f.value, body_where)))
    elif body.mode == "file":
        if body.file_src:
            built.content = _read(
                _safe_path(body.file_src, files_root, allow_outside, where), where
            )
    elif body.mode == "graphql":
        variables_text = resolver.resolve(body.graphql_variables, body_where).strip()
        try:
            variables = json.loads(variables_text) if variables_text else {}
        except json.JSONDecodeError as exc:
            raise InputError(
                f"The GraphQL variables of {where} are not valid JSON ({exc.msg}).",
                hint="Fix the variables in the collection.",
            ) from None
        payload = {
            "query": resolver.resolve(body.graphql_query, body_where),
            "variables": variables,
        }
        built.content = json.dumps(payload).encode()
        _default_header(built, "Content-Type", "application/json")


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
        key, value = str(params.get("key", "")), str(params.get("value", ""))
        built.auth_secrets.append(value)
        if params.get("in") == "query":
            built.url += ("&" if "?" in built.url else "?") + urlencode([(key, value)])
        else:
            _default_header(built, key, value)
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
