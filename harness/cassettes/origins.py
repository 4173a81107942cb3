"""Canonical origins: ``http://127.0.0.1:37923`` in a recording becomes ``http://drchrono-sandbox``.

The sandbox listens on a random port, and its URIs, ``Location`` headers and the ``next`` /
``previous`` links in its JSON bodies carry that port; without a rewrite every re-recording
changes every interaction. Replay is unaffected: matching ignores scheme, host and port.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote, urlsplit

from harness.errors import InputError

# An origin must end where the host (or port) ends: "http://h:80" is not inside "http://h:8080",
# "http://h" not inside "http://h.example" or "http://h:80" (nor, percent-encoded, inside
# "http%3A%2F%2Fh%3A8080"); a full stop ending a sentence does not continue a host.
_END_OF_ORIGIN = r"(?![\w-]|\.[\w-]|:\d|%3A)"


def canonical_origin(text: str, *, role: str) -> str:
    """``scheme://host[:port]`` in lower case, without a trailing slash; else InputError."""
    parts = urlsplit(text.strip())
    problem = None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problem = "it is not an http(s) URL with a host"
    elif parts.path not in ("", "/") or parts.query or parts.fragment:
        problem = "an origin has no path, query or fragment"
    elif parts.username is not None or parts.password is not None:
        problem = "an origin has no user name or password"
    if problem is not None:
        raise InputError(
            f"The cassette origin {role} {text!r} is not an origin ({problem}).",
            hint="Give scheme, host and port only, e.g. 'http://127.0.0.1:8765' or "
            "'https://app.drchrono.com'.",
        )
    return f"{parts.scheme}://{parts.netloc}".lower()


class OriginMap:
    """Rewrites recorded origins to canonical ones in any text, also percent-encoded."""

    def __init__(self, origins: Mapping[str, str] | None = None) -> None:
        pairs = {
            canonical_origin(recorded, role="to rewrite"): canonical_origin(
                canonical, role="to write instead"
            )
            for recorded, canonical in (origins or {}).items()
        }
        self.origins = {k: v for k, v in pairs.items() if k != v}
        chained = sorted(set(self.origins) & set(self.origins.values()))
        if chained:
            # The scrubber may rewrite a URL more than once (as a URL, then as text); a chain
            # A -> B -> C would then depend on how often that happens.
            raise InputError(
                f"The cassette origin {chained[0]} is both rewritten and written instead of "
                "another origin.",
                hint="Map every recorded origin straight to its final canonical origin.",
            )
        replacements: dict[str, str] = {}
        for recorded, canonical in self.origins.items():
            replacements[recorded] = canonical
            replacements[quote(recorded, safe="")] = quote(canonical, safe="")
        self._replacements = {k.lower(): v for k, v in replacements.items()}
        self._pattern = (
            re.compile(
                "|".join(
                    re.escape(k) + _END_OF_ORIGIN
                    for k in sorted(replacements, key=len, reverse=True)
                ),
                re.IGNORECASE,
            )
            if replacements
            else None
        )

    def __bool__(self) -> bool:
        return self._pattern is not None

    def rewrite(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda m: self._replacements[m.group(0).lower()], text)
