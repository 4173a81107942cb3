"""Request URL -> operation template ("/api/patients/5?x=1" -> "/api/patients/{id}")."""

from __future__ import annotations

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


class PathMatcher:
    def __init__(self, templates: dict[str, set[str]]) -> None:
        # Literal templates before parameterised ones: /api/users/current beats /api/users/{id}.
        ordered = sorted(templates, key=lambda t: (len(_PARAM.findall(t)), -len(t), t))
        self._patterns = [
            (
                re.compile(
                    "^"
                    + _PARAM.sub("[^/]+", re.escape(t).replace(r"\{", "{").replace(r"\}", "}"))
                    + "$"
                ),
                t,
                frozenset(templates[t]),
            )
            for t in ordered
        ]

    def match(self, path: str) -> PathMatch | None:
        found = self._find(path)
        if found is not None:
            return PathMatch(found[0], found[1], False)
        toggled = path[:-1] if path.endswith("/") else path + "/"
        found = self._find(toggled)
        if found is not None:
            return PathMatch(found[0], found[1], True)
        return None

    def _find(self, path: str) -> tuple[str, frozenset[str]] | None:
        for pattern, template, methods in self._patterns:
            if pattern.match(path):
                return template, methods
        return None
