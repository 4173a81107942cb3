"""DrChrono's OpenAPI document as the sandbox needs it: routes, required scopes, request bodies.

What responses look like comes from the corrected contracts instead (:mod:`.shapes`): the
published schemas are wrong in places.

The document is loaded once per process (it is large) from ``SandboxConfig.openapi_document``
(by default the shipped one: :mod:`drchrono_sandbox.paths`).
Scope rule, since the document lists every scope of a resource family on each operation
(``GET /api/appointments`` lists ``calendar:read calendar:write clinical:read clinical:write``):
a safe method (GET/HEAD/OPTIONS) needs any listed ``:read`` scope, any other method any listed
``:write`` scope; a bare family name (``billing``) stands for its read and write scopes; an
empty list (or no ``security``) needs only a valid token.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from drchrono_sandbox.errors import SandboxError
from drchrono_sandbox.paths import default_openapi_document

SCOPE_FAMILIES = (
    "user",
    "calendar",
    "patients",
    "patients:summary",
    "clinical",
    "labs",
    "messages",
    "tasks",
    "billing",
    "billing:patient-payment",
    "settings",
)
ALL_SCOPES: tuple[str, ...] = tuple(f"{f}:{a}" for f in SCOPE_FAMILIES for a in ("read", "write"))
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    template: str  # "/api/patients/{id}"
    operation_id: str
    listed_scopes: tuple[str, ...]
    success_status: int
    response_content_type: str | None
    request_schema: Mapping[str, Any] | None
    query_names: tuple[str, ...]  # every query parameter the operation declares
    required_query: tuple[str, ...]  # those it marks required (a list's date range, ...)
    integer_query: tuple[str, ...]  # those typed integer (a filter by patient, doctor...)
    multipart: bool  # the document declares a multipart/form-data request body
    regex: re.Pattern[str] = field(compare=False, repr=False)

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"

    def needed_scopes(self) -> tuple[str, ...]:
        """Scopes of which the token must hold at least one (empty: any valid token)."""
        expanded: list[str] = []
        for scope in self.listed_scopes:
            if scope in SCOPE_FAMILIES:
                expanded += [f"{scope}:read", f"{scope}:write"]
            else:
                expanded.append(scope)
        wanted = ":read" if self.method in SAFE_METHODS else ":write"
        matching = tuple(s for s in expanded if s.endswith(wanted))
        return matching or tuple(expanded)

    def allows(self, granted: frozenset[str]) -> bool:
        needed = self.needed_scopes()
        return not needed or any(scope in granted for scope in needed)


@dataclass(frozen=True)
class RouteMatch:
    template: str
    params: dict[str, str]
    operations: dict[str, Operation]  # by upper-case method


class OpenAPIDocument:
    def __init__(self, raw: Mapping[str, Any], source: Path) -> None:
        self.raw = raw
        self.source = source
        self.schemas: Mapping[str, Any] = raw.get("components", {}).get("schemas", {})
        self.operations: list[Operation] = list(self._operations())
        by_template: dict[str, dict[str, Operation]] = {}
        for op in self.operations:
            by_template.setdefault(op.template, {})[op.method] = op
        self._by_template = by_template
        # Literal segments win over parameters: fewer parameters first, then longer paths.
        self._routes = sorted(
            ((self._compile(t), t, ops) for t, ops in by_template.items()),
            key=lambda r: (r[1].count("{"), -len(r[1])),
        )

    @staticmethod
    def _compile(template: str) -> re.Pattern[str]:
        parts = re.split(r"(\{[^}]+\})", template)
        pattern = "".join(
            f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts
        )
        return re.compile(f"^{pattern}$")

    def _operations(self) -> Iterator[Operation]:
        for template, item in self.raw.get("paths", {}).items():
            regex = self._compile(template)
            for method in HTTP_METHODS:
                op = item.get(method)
                if not isinstance(op, dict):
                    continue
                status, ctype = self._success(op)
                scopes: list[str] = []
                for requirement in op.get("security") or []:
                    for listed in requirement.values():
                        scopes += list(listed or [])
                body = (op.get("requestBody") or {}).get("content") or {}
                request_schema = (body.get("application/json") or {}).get("schema")
                query = [p for p in op.get("parameters") or [] if p.get("in") == "query"]
                yield Operation(
                    method=method.upper(),
                    template=template,
                    operation_id=str(op.get("operationId") or f"{method}_{template}"),
                    listed_scopes=tuple(scopes),
                    success_status=status,
                    response_content_type=ctype,
                    request_schema=self.resolve(request_schema) if request_schema else None,
                    query_names=tuple(str(p.get("name")) for p in query),
                    required_query=tuple(str(p.get("name")) for p in query if p.get("required")),
                    integer_query=tuple(
                        str(p.get("name"))
                        for p in query
                        if (p.get("schema") or {}).get("type") in ("integer", "int")
                    ),
                    multipart="multipart/form-data" in body,
                    regex=regex,
                )

    @staticmethod
    def _success(op: Mapping[str, Any]) -> tuple[int, str | None]:
        codes = sorted(c for c in (op.get("responses") or {}) if str(c).startswith("2"))
        if not codes:
            # A few operations document no response at all; a list/read answers 200.
            return 200, "application/json"
        content = (op["responses"][codes[0]] or {}).get("content") or {}
        return int(str(codes[0])), next(iter(content), None)

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        """Follow a top-level ``$ref`` (sibling keys of a ``$ref`` are kept, as DrChrono means)."""
        seen = 0
        while "$ref" in schema and seen < 20:
            name = str(schema["$ref"]).rsplit("/", 1)[-1]
            target = self.schemas.get(name, {})
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
            seen += 1
        return schema

    def match(self, path: str) -> RouteMatch | None:
        for regex, template, ops in self._routes:
            found = regex.match(path)
            if found:
                return RouteMatch(template, found.groupdict(), ops)
        return None

    def operation(self, method: str, template: str) -> Operation | None:
        return self._by_template.get(template, {}).get(method.upper())

    def x_permissions(self) -> list[str]:
        names: set[str] = set()
        for item in self.raw.get("paths", {}).values():
            for method in HTTP_METHODS:
                op = item.get(method)
                if isinstance(op, dict):
                    names.update(str(p) for p in op.get("x-permissions") or [])
        return sorted(names)


def load_document(path: Path | None = None) -> OpenAPIDocument:
    # Cached by file, so the default and the same file named explicitly (as the harness does)
    # share one parse: the document is large and every sandbox in a process reads it.
    return _parse_document(default_openapi_document() if path is None else path)


@functools.lru_cache(maxsize=4)
def _parse_document(path: Path) -> OpenAPIDocument:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        with path.open("rb") as fh:
            raw = yaml.load(fh, Loader=loader)  # noqa: S506 - a safe loader
    except (OSError, yaml.YAMLError) as exc:
        raise SandboxError(
            f"The sandbox could not read DrChrono's OpenAPI document at {path}: {exc}.",
            hint="Restore contracts/drchrono-openapi.yml from the repository.",
        ) from None
    if not isinstance(raw, dict) or "paths" not in raw:
        raise SandboxError(f"{path} is not an OpenAPI document (no 'paths').")
    return OpenAPIDocument(raw, path)
