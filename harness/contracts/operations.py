"""Request URL -> operation template ("/api/patients/5?x=1" -> "/api/patients/{id}")."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

# DrChrono serves the REST API under /api and OAuth under /o; anything before is host/base path.
_ROOTS = ("/api/", "/o/")
_PARAM = re.compile(r"\{[^/{}]+\}")


def request_path(url: str) -> str:
    """The path of ``url`` from its /api or /o root, without query string or fragment."""
    path = urlsplit(url).path if "://" in url else url.split("?", 1)[0].split("#", 1)[0]
    for root in _ROOTS:
        index = path.find(root)
        if index >= 0:
            return path[index:]
        if path.endswith(root.rstrip("/")):
            return root.rstrip("/")
    return path


@dataclass(frozen=True)
class PathMatch:
    template: str
    methods: frozenset[str]
    trailing_slash_mismatch: bool


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern[str]
    template: str
    methods: frozenset[str]


class PathMatcher:
    """Finds the operation template of a request path.

    Templates are tried literal ones first (/api/users/current beats /api/users/{id}). Only those
    with the path's segment count and its resource segment ("patients" in /api/patients/{id}) are
    tried: a parameter never spans a "/", so no other template can match. Those candidates are
    remembered per (count, resource), which keeps a request's lookup to a few regexes.
    """

    def __init__(self, templates: dict[str, set[str]]) -> None:
        ordered = sorted(templates, key=lambda t: (len(_PARAM.findall(t)), -len(t), t))
        self._patterns = [
            (
                _Pattern(
                    re.compile(
                        "^"
                        + _PARAM.sub("[^/]+", re.escape(t).replace(r"\{", "{").replace(r"\}", "}"))
                        + "$"
                    ),
                    t,
                    frozenset(templates[t]),
                ),
                *_shape(t),
            )
            for t in ordered
        ]
        self._candidates = functools.lru_cache(maxsize=4096)(self._select)

    def match(self, path: str) -> PathMatch | None:
        found = self._find(path)
        if found is not None:
            return PathMatch(found.template, found.methods, False)
        toggled = path[:-1] if path.endswith("/") else path + "/"
        found = self._find(toggled)
        if found is not None:
            return PathMatch(found.template, found.methods, True)
        return None

    def _find(self, path: str) -> _Pattern | None:
        for pattern in self._candidates(*_shape(path)):
            if pattern.regex.match(path):
                return pattern
        return None

    def _select(self, segments: int, resource: str | None) -> tuple[_Pattern, ...]:
        return tuple(
            pattern
            for pattern, count, literal in self._patterns
            if count == segments and (literal is None or literal == resource)
        )


def _shape(path: str) -> tuple[int, str | None]:
    """Segment count and the third segment ("patients" in /api/patients/5) if it is literal."""
    segments = path.split("/")
    resource = segments[2] if len(segments) > 2 else None
    return len(segments), None if resource is None or "{" in resource else resource
