"""Request matching for replay: method + path + query; scheme, host and port are ignored.

The sandbox listens on a random port, so a cassette recorded against it must replay anywhere.
Values of secret and PHI query parameters are compared by presence only: on replay they hold real
values (or placeholders from another session) that scrub to different stand-ins.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from vcr.request import Request

from harness.phi_fields import SensitiveFields

MASK = "***"
Matcher = Callable[[Request, Request], None]


def _path(request: Request) -> str:
    return request.path or "/"


def masked_query_pairs(query: str, fields: SensitiveFields) -> list[tuple[str, str]]:
    return [
        (key, MASK if fields.is_sensitive_key(key) else value)
        for key, value in parse_qsl(query, keep_blank_values=True)
    ]


def describe_query(query: str, fields: SensitiveFields) -> str:
    return "&".join(f"{k}={v}" for k, v in masked_query_pairs(query, fields))


def method(r1: Request, r2: Request) -> None:
    if r1.method.upper() != r2.method.upper():
        raise AssertionError(f"method differs: {r1.method} vs {r2.method}")


def path(r1: Request, r2: Request) -> None:
    if _path(r1) != _path(r2):
        raise AssertionError(f"path differs: {_path(r1)} vs {_path(r2)}")


def make_query_matcher(fields: SensitiveFields) -> Matcher:
    def query(r1: Request, r2: Request) -> None:
        mine = Counter(masked_query_pairs(r1.parsed_uri.query, fields))
        recorded = Counter(masked_query_pairs(r2.parsed_uri.query, fields))
        if mine != recorded:
            ours = (
                "&".join(f"{k}={v}" for k, v in sorted((mine - recorded).elements())) or "(nothing)"
            )
            theirs = (
                "&".join(f"{k}={v}" for k, v in sorted((recorded - mine).elements())) or "(nothing)"
            )
            raise AssertionError(f"query differs: {ours} vs {theirs}")

    query.__name__ = "query"
    return query


def matchers_for(fields: SensitiveFields) -> tuple[Matcher, ...]:
    return (method, path, make_query_matcher(fields))


def describe_request(request: Request, fields: SensitiveFields) -> str:
    query = describe_query(request.parsed_uri.query, fields)
    return f"{request.method} {_path(request)}" + (f"?{query}" if query else "")


def closest_difference(cassette: Any, request: Request, fields: SensitiveFields) -> str:
    """One sentence naming the closest recorded request and how it differs, for miss errors."""
    candidates = cassette.find_requests_with_most_matches(request)
    if not candidates:
        if len(cassette) == 0:
            return "The cassette holds no interactions."
        return "No recorded request has the same method, path or query."
    recorded, _successes, failures = candidates[0]
    closest = describe_request(recorded, fields)
    if not failures:
        count = sum(1 for r in cassette.requests if _path(r) == _path(recorded))
        return (
            f"Closest recorded request: {closest}; it matches, but its recorded response(s) "
            f"({count}) were all played already: this run sends it more often than the recording."
        )
    reasons = "; ".join(message or name for name, message in failures)
    return f"Closest recorded request: {closest} ({reasons} [this request vs recorded])."
