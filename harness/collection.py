"""Postman collection model (v2.0 and v2.1) and its loader.

Loading is pure: it reads one file and builds immutable objects, nothing else. Auth inheritance is
resolved here (a request without ``auth`` takes its folder's, then the collection's), so the runner
sees each request's effective auth, and script inheritance too: each request carries the scripts
Newman runs for it (collection, folders outer to inner, its own). The common one-line idioms are
also read statically (see :mod:`harness.scripts`), for runs without scripts and for planning.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.errors import InputError
from harness.json_input import parse_json, read_input_text
from harness.results import NotRun
from harness.scripts import (
    Capture,
    ScriptFacts,
    ScriptNotRun,
    ScriptSource,
    read_test_script,
    script_sources,
    scripts_not_run,
    variables_set_by,
)

SCHEMA_VERSIONS = {"v2.0.0": "2.0", "v2.1.0": "2.1"}
AUTH_TYPES = {
    "noauth", "bearer", "basic", "apikey", "oauth2", "oauth1", "digest", "hawk", "awsv4", "ntlm",
    "akamai", "edgegrid", "jwt", "asap",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class KeyValue:
    key: str
    value: str
    disabled: bool = False
    type: str = "text"  # formdata: "text" or "file"
    src: str | tuple[str, ...] | None = None  # formdata file path(s)
    content_type: str | None = None  # formdata: the part's own Content-Type
    has_value: bool = True  # url.query: False for "?debug", sent without "="


@dataclass(frozen=True, slots=True)
class Auth:
    """An auth block; ``type == "noauth"`` means explicitly none (it stops inheritance)."""

    type: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Url:
    raw: str
    query: tuple[KeyValue, ...] = ()
    path_variables: tuple[KeyValue, ...] = ()


@dataclass(frozen=True, slots=True)
class Body:
    mode: str  # raw | urlencoded | formdata | file | graphql
    raw: str = ""
    language: str | None = None  # options.raw.language: json, text, xml, ...
    fields: tuple[KeyValue, ...] = ()  # urlencoded / formdata
    file_src: str | None = None
    graphql_query: str = ""
    graphql_variables: str = ""
    graphql_operation_name: str | None = None  # sent only when the collection names one


@dataclass(frozen=True, slots=True)
class ProtocolProfile:
    """A request's ``protocolProfileBehavior``, merged key by key from the collection down through
    its folders to the item, the nearest setting winning (postman-collection's lib/collection/
    item.js getProtocolProfileBehaviorResolved). ``None``: the run's default."""

    disable_body_pruning: bool = False
    disable_url_encoding: bool = False
    follow_redirects: bool | None = None
    follow_original_http_method: bool = False
    max_redirects: int | None = None
    remove_referer_header: bool = False
    strict_ssl: bool | None = None

    @classmethod
    def from_settings(cls, settings: Mapping[str, object]) -> ProtocolProfile:
        def flag(key: str) -> bool | None:
            value = settings.get(key)
            return value if isinstance(value, bool) else None

        redirects = settings.get("maxRedirects")
        return cls(
            disable_body_pruning=flag("disableBodyPruning") or False,
            disable_url_encoding=flag("disableUrlEncoding") or False,
            follow_redirects=flag("followRedirects"),
            follow_original_http_method=flag("followOriginalHttpMethod") or False,
            max_redirects=redirects
            if isinstance(redirects, int) and not isinstance(redirects, bool) and redirects >= 0
            else None,
            remove_referer_header=flag("removeRefererHeaderOnRedirect") or False,
            strict_ssl=flag("strictSSL"),
        )


@dataclass(frozen=True, slots=True)
class ExampleResponse:
    name: str
    code: int | None
    body: str = ""


@dataclass(frozen=True, slots=True)
class RequestItem:
    name: str
    folder_path: tuple[str, ...]
    method: str
    url: Url
    headers: tuple[KeyValue, ...]
    body: Body | None
    auth: Auth | None  # effective auth after inheritance; None = send no credentials
    description: str = ""
    examples: tuple[ExampleResponse, ...] = ()
    script: ScriptFacts = field(default_factory=ScriptFacts)
    # Every script Newman runs for this request, in its order: the collection's, each enclosing
    # folder's (outer to inner), then the request's own; both events.
    scripts: tuple[ScriptSource, ...] = ()
    id: str = ""  # Postman's item id: setNextRequest may name a request by it
    protocol: ProtocolProfile = ProtocolProfile()

    @property
    def full_name(self) -> str:
        return "/".join((*self.folder_path, self.name))

    @property
    def suite(self) -> str:
        return "/".join(self.folder_path) or "(root)"

    @property
    def expected_statuses(self) -> tuple[int, ...]:
        """What the collection says to expect; empty means "any 2xx or 3xx".

        A status in the test script is an explicit expectation and may name any code. Saved
        examples only document responses: a 4xx or 5xx example (API converters save one per
        documented error) never makes that error acceptable, but 2xx/3xx examples say which
        success is expected (201 rather than 200).
        """
        if self.script.expected_statuses:
            return self.script.expected_statuses
        documented = {e.code for e in self.examples if e.code is not None}
        return tuple(sorted(code for code in documented if 200 <= code < 400))

    @property
    def captures(self) -> tuple[Capture, ...]:
        return self.script.captures

    @property
    def variables_set(self) -> frozenset[str]:
        """Variables this request's scripts (or its one-line captures) may set for later ones."""
        return variables_set_by(self.scripts) | {c.variable for c in self.captures}


@dataclass(frozen=True, slots=True)
class Folder:
    name: str
    items: tuple[Folder | RequestItem, ...]
    description: str = ""
    scripts_not_run: tuple[ScriptNotRun, ...] = ()  # folder scripts, listed with --no-scripts


@dataclass(frozen=True, slots=True)
class Collection:
    name: str
    schema_version: str  # "2.0" or "2.1"
    items: tuple[Folder | RequestItem, ...]
    variables: Mapping[str, str]
    auth: Auth | None
    source: Path
    description: str = ""
    scripts_not_run: tuple[ScriptNotRun, ...] = ()  # collection scripts, listed with --no-scripts

    def requests(self) -> Iterator[RequestItem]:
        """Every request, depth first, in collection order."""
        yield from _walk(self.items)

    def not_run(self, plan: Sequence[RequestItem]) -> list[NotRun]:
        """The scripts a run of ``plan`` with ``--no-scripts`` leaves unexecuted: the collection's,
        those of the folders holding a planned request, and the requests' own, in collection
        order (apart from the one-liners read statically)."""
        if not plan:
            return []
        planned = {id(item) for item in plan}
        found = [NotRun("the collection", s.describe()) for s in self.scripts_not_run]

        def visit(items: Sequence[Folder | RequestItem], path: tuple[str, ...]) -> None:
            for entry in items:
                if isinstance(entry, RequestItem):
                    if id(entry) in planned:
                        found.extend(
                            NotRun(f"request {entry.full_name}", s.describe())
                            for s in entry.script.not_run
                        )
                    continue
                inner = (*path, entry.name)
                if any(id(item) in planned for item in _walk(entry.items)):
                    found.extend(
                        NotRun(f"folder {'/'.join(inner)}", s.describe())
                        for s in entry.scripts_not_run
                    )
                    visit(entry.items, inner)

        visit(self.items, ())
        return found

    def select(self, names: Sequence[str]) -> list[RequestItem]:
        """Requests under the named folders or with the given names (Newman's ``--folder``).

        A name matches a folder or request name at any depth, or a full path like ``Patients/Create``.
        """
        if not names:
            return list(self.requests())
        wanted = list(names)
        chosen = [r for r in self.requests() if any(_matches(r, n) for n in wanted)]
        unknown = [n for n in wanted if not any(_matches(r, n) for r in self.requests())]
        if unknown:
            folders = sorted({r.folder_path[0] for r in self.requests() if r.folder_path})
            raise InputError(
                f"--folder {unknown[0]!r} matches no folder or request in {self.source}.",
                hint=f"Top-level folders are: {', '.join(folders) or '(none)'}.",
            )
        return chosen

    def find(self, path: str) -> RequestItem | None:
        """The request at ``Folder/Sub/Request name`` (used by scenarios)."""
        for request in self.requests():
            if request.full_name == path:
                return request
        return None


def _walk(items: Iterable[Folder | RequestItem]) -> Iterator[RequestItem]:
    for item in items:
        if isinstance(item, Folder):
            yield from _walk(item.items)
        else:
            yield item


def _matches(request: RequestItem, name: str) -> bool:
    """Exact names only, as Newman's ``--folder``: "Auth" is not "Authors"."""
    path = name.rstrip("/")
    return (
        name == request.name
        or name in request.folder_path
        or request.full_name == path
        or request.full_name.startswith(path + "/")
    )


# ---------------------------------------------------------------------------------------------
# Loading


def load_collection(path: Path | str) -> Collection:
    """Read and model a Postman collection file; :class:`InputError` for anything unusable."""
    source = Path(path)
    text = read_input_text(
        source,
        what="collection file",
        hint="Pass the path of a Postman collection exported as v2.1 (or v2.0) JSON.",
    )
    document = parse_json(text, source, what="Postman collection")
    return build_collection(document, source)


def build_collection(document: Any, source: Path) -> Collection:
    if not isinstance(document, dict):
        raise InputError(f"{source} is not a Postman collection: the top level is not an object.")
    info = document.get("info")
    if info is None and isinstance(document.get("item"), list):
        # Newman runs a collection without 'info' (postman-collection's Collection takes any
        # object): it is named after its file and read as v2.1, Postman's current format.
        info = {"name": source.stem.removesuffix(".postman_collection"), "schema": "/v2.1.0/"}
    if not isinstance(info, dict):
        if "requests" in document and "order" in document:
            raise InputError(
                f"{source} is a Postman v1 collection, which this harness does not read.",
                hint="Open it in Postman and export it as Collection v2.1.",
            )
        raise InputError(
            f"{source} is not a Postman collection: it has no 'info' object.",
            hint="Export the collection from Postman as Collection v2.1 JSON.",
        )
    schema = str(info.get("schema", ""))
    version = next((v for key, v in SCHEMA_VERSIONS.items() if f"/{key}/" in schema), None)
    if version is None:
        raise InputError(
            f"{source} declares schema {schema or '(none)'!r}; only Postman collection v2.0.0 and "
            "v2.1.0 are supported.",
            hint="Export the collection from Postman as Collection v2.1.",
        )
    loader = _Loader(source, version)
    auth = loader.auth(document.get("auth"), "the collection")
    behavior = loader.behavior(document, {}, "the collection")
    items = loader.items(
        document.get("item", []),
        (),
        auth,
        behavior,
        script_sources(document.get("event"), "the collection"),
    )
    return Collection(
        name=str(info.get("name", source.stem)),
        schema_version=version,
        items=items,
        variables=loader.variables(document.get("variable", [])),
        auth=auth,
        source=source,
        description=_description(info.get("description")),
        scripts_not_run=scripts_not_run(document.get("event")),
    )


class _Loader:
    """Turns the JSON tree into model objects, naming the item path in every error."""

    def __init__(self, source: Path, version: str) -> None:
        self.source = source
        self.version = version

    def fail(self, where: str, problem: str) -> InputError:
        return InputError(
            f"{self.source}: {where}: {problem}.",
            hint="Fix the collection (or re-export it from Postman) and run again.",
        )

    def items(
        self,
        raw: Any,
        folder_path: tuple[str, ...],
        inherited: Auth | None,
        inherited_behavior: Mapping[str, object],
        scripts: tuple[ScriptSource, ...] = (),
    ) -> tuple[Folder | RequestItem, ...]:
        if not isinstance(raw, list):
            raise self.fail("/".join(folder_path) or "the collection", "'item' is not a list")
        built: list[Folder | RequestItem] = []
        for index, entry in enumerate(raw):
            where = "/".join(folder_path) + f"[{index}]" if folder_path else f"item[{index}]"
            if not isinstance(entry, dict):
                raise self.fail(where, "an item is not an object")
            name = str(entry.get("name", f"item {index + 1}"))
            where = "/".join((*folder_path, name))
            own_auth = self.auth(entry.get("auth"), where)
            effective = own_auth if own_auth is not None else inherited
            behavior = self.behavior(entry, inherited_behavior, where)
            if "item" in entry:
                folder_scripts = script_sources(entry.get("event"), f"folder '{where}'")
                children = self.items(
                    entry["item"],
                    (*folder_path, name),
                    effective,
                    behavior,
                    scripts + folder_scripts,
                )
                built.append(
                    Folder(
                        name,
                        children,
                        _description(entry.get("description")),
                        scripts_not_run(entry.get("event")),
                    )
                )
            elif "request" in entry:
                item = self.request(entry, name, folder_path, effective, where, behavior)
                own = script_sources(entry.get("event"), f"request '{where}'")
                built.append(replace(item, scripts=scripts + own, id=_text(entry.get("id"))))
            else:
                raise self.fail(where, "the item has neither 'request' nor 'item'")
        return tuple(built)

    def request(
        self,
        entry: dict[str, Any],
        name: str,
        folder_path: tuple[str, ...],
        inherited: Auth | None,
        where: str,
        behavior: Mapping[str, object],
    ) -> RequestItem:
        raw = entry["request"]
        if isinstance(raw, str):  # v2.0 allows a bare URL string
            raw = {"url": raw, "method": "GET"}
        if not isinstance(raw, dict):
            raise self.fail(where, "'request' is neither an object nor a URL string")
        own_auth = self.auth(raw.get("auth"), where)
        auth = own_auth if own_auth is not None else inherited
        if auth is not None and auth.type == "noauth":
            auth = None
        return RequestItem(
            name=name,
            folder_path=folder_path,
            method=str(raw.get("method", "GET")).upper(),
            url=self.url(raw.get("url"), where),
            headers=self.key_values(raw.get("header", []), where, "header"),
            body=self.body(raw.get("body"), where),
            auth=auth,
            description=_description(raw.get("description") or entry.get("description")),
            examples=self.examples(entry.get("response", []), where),
            script=read_test_script(entry.get("event", [])),
            protocol=ProtocolProfile.from_settings(behavior),
        )

    def behavior(
        self, entry: dict[str, Any], inherited: Mapping[str, object], where: str
    ) -> dict[str, object]:
        """``inherited`` overlaid with the entry's own ``protocolProfileBehavior`` keys."""
        own = self.mapping(entry.get("protocolProfileBehavior"), where, "protocolProfileBehavior")
        return {**inherited, **own}

    def url(self, raw: Any, where: str) -> Url:
        if raw is None:
            raise self.fail(where, "the request has no URL")
        if isinstance(raw, str):
            return Url(raw=raw)
        if not isinstance(raw, dict):
            raise self.fail(where, "'url' is neither a string nor an object")
        query = self.key_values(raw.get("query", []) or [], where, "url.query")
        variables = self.key_values(raw.get("variable", []) or [], where, "url.variable")
        text = raw.get("raw")
        if raw.get("host") or not isinstance(text, str) or not text:
            # Newman builds the URL from its parts and ignores 'raw' (postman-collection's
            # lib/collection/url.js update()); an edited raw no longer matches them.
            text = _url_from_parts(raw)
        # The query list is authoritative (it carries 'disabled'); drop the raw one.
        if raw.get("query") is not None:
            text = text.split("?", 1)[0]
        return Url(raw=text, query=query, path_variables=variables)

    def key_values(self, raw: Any, where: str, what: str) -> tuple[KeyValue, ...]:
        if raw is None:
            return ()
        if isinstance(raw, str):  # v2.0 allows headers as one "K: V\nK2: V2" string
            pairs = [line.split(":", 1) for line in raw.splitlines() if ":" in line]
            return tuple(KeyValue(k.strip(), v.strip()) for k, v in pairs)
        if not isinstance(raw, list):
            raise self.fail(where, f"'{what}' is not a list")
        built = []
        for entry in raw:
            if not isinstance(entry, dict):
                raise self.fail(where, f"an entry of '{what}' is not an object")
            key = entry.get("key", entry.get("id"))
            if key is None and what == "url.query":
                # postman-collection's QueryParam.unparseSingle writes a null key as nothing:
                # {"key": null, "value": "v"} is sent as "=v", with no value as "".
                key = ""
            if key is None:
                raise self.fail(where, f"an entry of '{what}' has no 'key'")
            src, content_type = entry.get("src"), entry.get("contentType")
            built.append(
                KeyValue(
                    key=str(key),
                    value=_text(entry.get("value")),
                    disabled=bool(entry.get("disabled", False)),
                    type=str(entry.get("type", "text")),
                    src=tuple(map(str, src)) if isinstance(src, list) else src,
                    # postman-runtime ignores a contentType that is not text (core-body-builder.js)
                    content_type=content_type
                    if isinstance(content_type, str) and content_type
                    else None,
                    has_value=entry.get("value") is not None,
                )
            )
        return tuple(built)

    def body(self, raw: Any, where: str) -> Body | None:
        if not raw or not isinstance(raw, dict) or raw.get("disabled"):
            return None
        mode = raw.get("mode")
        if mode is None:
            return None
        if mode == "raw":
            options = self.mapping(raw.get("options"), where, "body.options")
            language = self.mapping(options.get("raw"), where, "body.options.raw").get("language")
            if language is not None and not isinstance(language, str):
                raise self.fail(where, "'body.options.raw.language' is not a string")
            return Body(mode="raw", raw=_text(raw.get("raw")), language=language)
        if mode in ("urlencoded", "formdata"):
            return Body(mode=mode, fields=self.key_values(raw.get(mode, []), where, f"body.{mode}"))
        if mode == "file":
            src = self.mapping(raw.get("file"), where, "body.file").get("src")
            if src is not None and not isinstance(src, str):
                raise self.fail(where, "'body.file.src' is not a file path")
            return Body(mode="file", file_src=src)
        if mode == "graphql":
            graphql = self.mapping(raw.get("graphql"), where, "body.graphql")
            operation = graphql.get("operationName")
            return Body(
                mode="graphql",
                graphql_query=_text(graphql.get("query")),
                graphql_variables=_text(graphql.get("variables")),
                graphql_operation_name=operation if isinstance(operation, str) else None,
            )
        raise self.fail(
            where, f"body mode {mode!r} is not one of raw, urlencoded, formdata, file, graphql"
        )

    def mapping(self, raw: Any, where: str, what: str) -> dict[str, Any]:
        """An optional object member: ``{}`` when absent or empty, an error when not an object."""
        if not raw:  # Postman writes absent members as null, "" or []
            return {}
        if not isinstance(raw, dict):
            raise self.fail(where, f"'{what}' is not an object")
        return raw

    def auth(self, raw: Any, where: str) -> Auth | None:
        if raw is None:
            return None
        if not isinstance(raw, dict) or "type" not in raw:
            raise self.fail(where, "'auth' is not an object with a 'type'")
        kind = str(raw["type"])
        if kind not in AUTH_TYPES:
            # postman-runtime has no handler for it: it warns and sends the request unsigned.
            return Auth(type="noauth")
        params = raw.get(kind, {})
        # v2.1 stores attributes as [{key, value, type}], v2.0 as a plain object.
        if isinstance(params, list):
            flat = {
                str(p["key"]): p.get("value") for p in params if isinstance(p, dict) and "key" in p
            }
        elif isinstance(params, dict):
            flat = dict(params)
        else:
            raise self.fail(where, f"'auth.{kind}' is neither a list nor an object")
        return Auth(type=kind, params=flat)

    def variables(self, raw: Any) -> dict[str, str]:
        if not isinstance(raw, list):
            return {}
        return {
            str(v.get("key", v.get("id"))): _text(v.get("value"))
            for v in raw
            if isinstance(v, dict) and not v.get("disabled") and (v.get("key") or v.get("id"))
        }

    def examples(self, raw: Any, where: str) -> tuple[ExampleResponse, ...]:
        if not isinstance(raw, list):
            return ()
        found = []
        for example in raw:
            if not isinstance(example, dict):
                continue
            code = example.get("code")
            found.append(
                ExampleResponse(
                    name=str(example.get("name", "")),
                    code=code if isinstance(code, int) else None,
                    body=_text(example.get("body")),
                )
            )
        return tuple(found)


def _url_from_parts(raw: dict[str, Any]) -> str:
    host = raw.get("host", "")
    host = ".".join(map(str, host)) if isinstance(host, list) else str(host)
    path = raw.get("path", "")
    path = "/".join(map(str, path)) if isinstance(path, list) else str(path).lstrip("/")
    protocol = raw.get("protocol")
    port = raw.get("port")
    text = f"{protocol}://" if protocol else ""
    # The URL object's auth {user, password} is its userinfo, encoded so that an '@' or ':' in
    # them stays theirs (postman-url-encoder's USERINFO set); the sender turns it into Basic auth
    # as postman-request does.
    auth = raw.get("auth")
    if isinstance(auth, dict) and (auth.get("user") or auth.get("password")):
        text += _userinfo(_text(auth.get("user")))
        text += (":" + _userinfo(_text(auth.get("password")))) if auth.get("password") else ""
        text += "@"
    text += host + (f":{port}" if port else "")
    return text + ("/" + path if path else "")


def _userinfo(part: str) -> str:
    return "".join(f"%{ord(c):02X}" if c in "@:/?#[]% " else c for c in part)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)


def _description(value: Any) -> str:
    if isinstance(value, dict):  # {content, type}
        return str(value.get("content", ""))
    return "" if value is None else str(value)
