"""Type placeholders left in a request by an OpenAPI converter, found and replaced.

Postman's openapi-to-postmanv2 writes a value it cannot know as its schema type in angle
brackets: ``<string>``, ``<integer>``, ``<long>``, ``<dateTime>``... (its schemaUtils typesMap,
and ``<type-format>`` for formats it has no name for). Sent as they are, they reach the API as
literal text (``/api/doctors/%3Cstring%3E``) and fail for reasons that do not name the cause, so
the exchange finds them before building the request (:func:`find_placeholders`) and either
reports them or, with ``--fill-placeholders``, has :mod:`harness.fill` choose values that
:func:`apply_fills` puts in. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from harness.collection import KeyValue, RequestItem, Url
from harness.results import FilledPlaceholder

# The converter's typesMap (lib/common/schemaUtilsCommon.js, libV2 schemaUtils.js) plus the
# non-standard types DrChrono's document uses (int, bool, file), which it writes as they are.
PLACEHOLDER_TYPES = frozenset(
    {
        "string", "integer", "long", "number", "float", "double", "byte", "binary", "date",
        "dateTime", "password", "boolean", "array", "object", "int", "bool", "file",
    }
)  # fmt: skip
_PLACEHOLDER = re.compile(r"<([A-Za-z]+)(?:-[A-Za-z0-9_.-]+)?>")


def placeholder_type(value: object) -> str | None:
    """``"integer"`` for ``"<integer>"`` (also ``"<string-email>"`` -> ``"string"``); else None."""
    if not isinstance(value, str):
        return None
    match = _PLACEHOLDER.fullmatch(value.strip())
    return match.group(1) if match and match.group(1) in PLACEHOLDER_TYPES else None


# A value a fill puts in (JSON); None in a Fill means the placeholder was dropped.
FillValue = str | int | float | bool | list[Any] | dict[str, Any]


@dataclass(frozen=True)
class Placeholder:
    """One placeholder in a request: where it is and the type it stands for."""

    location: str  # "path", "query", "header", "body" (a JSON field), "form" (a form field)
    name: str  # the path variable, query parameter, header, JSON path ($.vitals.weight) or field
    type: str  # "integer", "dateTime"...

    def __str__(self) -> str:
        if self.location == "path" and self.name.startswith("<"):
            return f"path segment <{self.type}>"  # written into the URL, not a :variable
        where = {"path": "path :", "query": "query ", "header": "header ", "form": "form field "}
        return f"{where.get(self.location, '')}{self.name} <{self.type}>"


@dataclass(frozen=True)
class Fill:
    """What ``--fill-placeholders`` did with one placeholder: ``value`` None means dropped."""

    placeholder: Placeholder
    value: FillValue | None
    source: str  # why this value: "id of the first record of GET /api/doctors"

    def to_json(self) -> FilledPlaceholder:
        return {
            "location": self.placeholder.location,
            "name": self.placeholder.name,
            "placeholder": f"<{self.placeholder.type}>",
            "value": self.value,
            "dropped": self.value is None,
            "source": self.source,
        }

    def __str__(self) -> str:
        shown = "dropped" if self.value is None else f"= {json.dumps(self.value)}"
        return f"{self.placeholder} {shown} ({self.source})"


def find_placeholders(item: RequestItem) -> list[Placeholder]:
    """Every placeholder ``item`` would send (disabled query rows and headers are not sent)."""
    found: list[Placeholder] = []
    path_text, _, raw_query = item.url.raw.partition("?")
    for segment in path_text.split("/"):
        kind = placeholder_type(segment)
        if kind:
            found.append(Placeholder("path", segment, kind))
    for pair in raw_query.split("&") if raw_query else ():  # a URL written as one string
        key, _, value = pair.partition("=")
        kind = placeholder_type(unquote(value))
        if kind:
            found.append(Placeholder("query", unquote(key), kind))
    for variable in item.url.path_variables:
        kind = placeholder_type(variable.value)
        if kind:
            found.append(Placeholder("path", variable.key, kind))
    found += [
        Placeholder("query", q.key, kind)
        for q in item.url.query
        if not q.disabled and (kind := placeholder_type(q.value))
    ]
    found += [
        Placeholder("header", h.key, kind)
        for h in item.headers
        if not h.disabled and (kind := placeholder_type(h.value))
    ]
    body = item.body
    if body is None:
        return found
    if body.mode == "raw" and "<" in body.raw:  # no "<": nothing to parse for
        document = _json_or_none(body.raw)
        if document is not None:
            found += [Placeholder("body", path, kind) for path, kind in _json_leaves(document)]
        else:
            found += [
                Placeholder("body", "(raw text)", m.group(1))
                for m in _PLACEHOLDER.finditer(body.raw)
                if m.group(1) in PLACEHOLDER_TYPES
            ]
    elif body.mode in ("formdata", "urlencoded"):
        found += [
            Placeholder("form", f.key, kind)
            for f in body.fields
            if not f.disabled and f.type != "file" and (kind := placeholder_type(f.value))
        ]
    return found


def apply_fills(item: RequestItem, fills: Mapping[Placeholder, Fill]) -> RequestItem:
    """``item`` with each filled placeholder replaced and each dropped one left out; placeholders
    without a fill stay as they are."""

    def text(value: FillValue) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        return value if isinstance(value, str) else json.dumps(value)

    def chosen(location: str, name: str, original: KeyValue) -> KeyValue | None:
        kind = placeholder_type(original.value)
        fill = fills.get(Placeholder(location, name, kind)) if kind else None
        if fill is None:
            return original
        if fill.value is None:
            return None
        return dataclasses.replace(original, value=text(fill.value))

    path_text, question, raw_query = item.url.raw.partition("?")
    raw = "/".join(
        text(fill.value)
        if (kind := placeholder_type(segment))
        and (fill := fills.get(Placeholder("path", segment, kind))) is not None
        and fill.value is not None
        else segment
        for segment in path_text.split("/")
    )
    if question:
        pairs = []
        for pair in raw_query.split("&"):
            key, _, value = pair.partition("=")
            kind = placeholder_type(unquote(value))
            fill = fills.get(Placeholder("query", unquote(key), kind)) if kind else None
            if fill is None:
                pairs.append(pair)
            elif fill.value is not None:
                pairs.append(f"{key}={quote(text(fill.value), safe='/:-')}")
        raw += "?" + "&".join(pairs) if pairs else ""
    url = Url(
        raw=raw,
        query=tuple(kv for q in item.url.query if (kv := chosen("query", q.key, q)) is not None),
        path_variables=tuple(
            kv for v in item.url.path_variables if (kv := chosen("path", v.key, v)) is not None
        ),
    )
    headers = tuple(kv for h in item.headers if (kv := chosen("header", h.key, h)) is not None)
    body = item.body
    if body is not None and body.mode == "raw":
        document = _json_or_none(body.raw)
        if document is not None:
            body = dataclasses.replace(
                body, raw=json.dumps(_filled_json(document, "$", fills), indent=2)
            )
    elif body is not None and body.mode in ("formdata", "urlencoded"):
        body = dataclasses.replace(
            body,
            fields=tuple(kv for f in body.fields if (kv := chosen("form", f.key, f)) is not None),
        )
    return dataclasses.replace(item, url=url, headers=headers, body=body)


_DROPPED = object()


def _filled_json(node: Any, path: str, fills: Mapping[Placeholder, Fill]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            filled = _filled_json(value, f"{path}.{key}", fills)
            if filled is not _DROPPED:
                out[key] = filled
        return out
    if isinstance(node, list):
        items = [_filled_json(v, f"{path}[{i}]", fills) for i, v in enumerate(node)]
        # An element whose every field was dropped goes too ([{"field_type": "<integer>"}]
        # becomes [], not [{}]).
        return [
            v for v, was in zip(items, node, strict=True) if v is not _DROPPED and (v or not was)
        ]
    kind = placeholder_type(node)
    fill = fills.get(Placeholder("body", path, kind)) if kind else None
    if fill is None:
        return node
    return _DROPPED if fill.value is None else fill.value


def _json_leaves(node: Any, path: str = "$") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _json_leaves(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _json_leaves(value, f"{path}[{index}]")
    elif kind := placeholder_type(node):
        yield path, kind


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
