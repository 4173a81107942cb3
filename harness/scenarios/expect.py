"""Pure checks a scenario adds to a response: JSON subset, headers, time; and typed captures.

Failure messages name the JSON path and the rule. They never quote a response value of a
sensitive field (names, dates of birth, phones ...): reports must not carry patient data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import httpx
import jmespath
from jmespath.exceptions import JMESPathError

from harness.json_input import loads_json
from harness.results import Check
from harness.scenarios.matchers import Matcher
from harness.scenarios.model import UNSET, CaptureSpec

_MISSING: Any = object()


def body_of(response: httpx.Response) -> Any:
    if not response.content:
        return _MISSING
    try:
        return loads_json(response.content)
    except (ValueError, UnicodeDecodeError):
        return _MISSING


def check_all(
    response: httpx.Response,
    *,
    json_subset: Any,
    headers: Mapping[str, Any],
    max_ms: float | None,
    elapsed_ms: float,
    prefix: str = "expect",
    replayed: bool = False,
    strict: bool = False,
) -> list[Check]:
    checks: list[Check] = []
    if json_subset is not UNSET:
        checks += check_json(
            body_of(response), json_subset, prefix=prefix, replayed=replayed, strict=strict
        )
    for name, wanted in headers.items():
        checks.append(check_header(response.headers, name, wanted, prefix=prefix))
    if max_ms is not None:
        ok = elapsed_ms <= max_ms
        message = "" if ok else f"took {elapsed_ms:.0f} ms, more than max_ms {max_ms:g}"
        checks.append(Check(f"{prefix}.max_ms", ok, message))
    return checks


def check_json(
    body: Any,
    expected: Any,
    *,
    prefix: str = "expect",
    replayed: bool = False,
    strict: bool = False,
) -> list[Check]:
    """``replayed``: the body comes from a cassette, whose patient data is pseudonymised, so
    patient-data strings are checked for presence and type only. ``strict``: the body must
    have no field and no array element the expectation does not give."""
    name = f"{prefix}.json"
    if body is _MISSING:
        return [Check(name, False, "the response has no JSON body", json_path="$")]
    problems = list(mismatches(body, expected, "$", None, replayed=replayed, strict=strict))
    if not problems:
        what = "is exactly the expected body" if strict else "contains the expected fields"
        return [Check(name, True, f"the body {what}")]
    return [Check(name, False, message, json_path=path) for path, message in problems]


def mismatches(
    actual: Any,
    expected: Any,
    path: str,
    key: str | None,
    *,
    replayed: bool = False,
    strict: bool = False,
) -> list[tuple[str, str]]:
    """Where ``actual`` fails to contain ``expected``: (JSON path, rule broken).

    Mappings: every expected key must be present and match (extra keys are fine unless
    ``strict``); a key expected ``!absent`` must not be there.
    Lists: every expected element must match a different element of the actual list, in any
    order (so ``results: [{id: 5}]`` means "the list contains id 5"); ``strict`` also wants no
    other element.
    Scalars: equal, and of the same JSON type (``"5"`` is not ``5``); a :class:`Matcher` tests
    the type or the regular expression instead.
    """
    if isinstance(expected, Matcher):
        return _matcher_mismatch(actual, expected, path, key, replayed=replayed)
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [(path, f"expected an object, got {_type(actual)}")]
        found: list[tuple[str, str]] = []
        for name, want in expected.items():
            child = f"{path}.{name}"
            if isinstance(want, Matcher) and want.absent:
                if name in actual:
                    found.append((child, "expected the field to be absent, it is present"))
            elif name not in actual:
                found.append((child, "expected the field to be present, it is missing"))
            else:
                found += mismatches(
                    actual[name], want, child, name, replayed=replayed, strict=strict
                )
        if strict:
            found += [
                (f"{path}.{name}", "the field is not in the expected body (strict: exact body)")
                for name in actual
                if name not in expected
            ]
        return found
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [(path, f"expected an array, got {_type(actual)}")]
        unused = list(range(len(actual)))
        found = []
        for index, want in enumerate(expected):
            match = next(
                (
                    i
                    for i in unused
                    if not mismatches(actual[i], want, path, key, replayed=replayed, strict=strict)
                ),
                None,
            )
            if match is None:
                found.append(
                    (
                        f"{path}[{index}]",
                        f"no element of the array (length {len(actual)}) matches {_show(want)}",
                    )
                )
            else:
                unused.remove(match)
        if strict and not found and unused:
            found.append(
                (
                    path,
                    f"the array has {len(actual)} elements, {len(expected)} expected "
                    "(strict: exact body)",
                )
            )
        return found
    if _same(actual, expected):
        return []
    if replayed and isinstance(actual, str) and isinstance(expected, str) and _is_phi(key):
        return []  # a pseudonym stands where the recorded value was
    return [(path, f"expected {_show(expected)}, got {_show_actual(actual, key)}")]


def _matcher_mismatch(
    actual: Any, matcher: Matcher, path: str, key: str | None, *, replayed: bool
) -> list[tuple[str, str]]:
    if matcher.absent:  # an !absent element of a list, or the whole body
        return [(path, "!absent applies to a field of an object")]
    if matcher.matches(actual):
        return []
    if replayed and matcher.wants_string and isinstance(actual, str) and _is_phi(key):
        return []  # a pseudonym stands where the recorded value was: only its type is known
    return [(path, f"expected {matcher.describe()}, got {_show_actual(actual, key)}")]


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(actual) is type(expected) and actual == expected
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return bool(actual == expected)
    return type(actual) is type(expected) and actual == expected


def check_header(
    headers: httpx.Headers, name: str, wanted: Any, *, prefix: str = "expect"
) -> Check:
    check = f"{prefix}.headers"
    value = headers.get(name)
    if wanted is True:
        ok = value is not None
        return Check(check, ok, "" if ok else f"header {name} is missing", json_path=name)
    if wanted is False:
        ok = value is None
        return Check(check, ok, "" if ok else f"header {name} is present", json_path=name)
    if value is None:
        return Check(
            check, False, f"header {name} is missing (expected {wanted!r})", json_path=name
        )
    ok = str(wanted).lower() in value.lower()
    return Check(
        check, ok, "" if ok else f"header {name} does not contain {wanted!r}", json_path=name
    )


def capture_values(
    response: httpx.Response, specs: Sequence[CaptureSpec]
) -> tuple[dict[str, Any], list[Check]]:
    """Typed values for ``specs``; a capture that finds nothing is a failed check."""
    values: dict[str, Any] = {}
    checks: list[Check] = []
    body: Any = _MISSING
    for spec in specs:
        value: Any = None
        if spec.source == "status":
            value = response.status_code
        elif spec.source == "header":
            value = response.headers.get(spec.expression)
        else:
            if body is _MISSING:
                body = body_of(response)
            if body is not _MISSING:
                try:
                    value = jmespath.search(spec.expression, body)
                except JMESPathError:
                    value = None
        if value is None:
            checks.append(
                Check(
                    "capture",
                    False,
                    f"capture '{spec.variable}' ({spec.source}: {spec.expression}) found nothing "
                    "in the response",
                    json_path=spec.expression or None,
                )
            )
        else:
            values[spec.variable] = value
    return values, checks


def as_text(value: Any) -> str:
    """A captured value as a ``{{variable}}`` in a collection request sees it."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def _type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _show(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 120 else text[:117] + "..."


def _show_actual(value: Any, key: str | None) -> str:
    if isinstance(value, str) and (key is None or _sensitive(key)):
        return f"a different string ({len(value)} characters; value hidden: it may be patient data)"
    if isinstance(value, (dict, list)):
        return _type(value)
    return _show(value)


@lru_cache(maxsize=1)
def _phi_fields() -> Any:
    try:
        from harness.phi_fields import load_phi_fields

        return load_phi_fields()
    except Exception:  # the cassette helper's list is optional here: hide every string then
        return None


def _is_phi(key: str | None) -> bool:
    fields = _phi_fields()
    return key is not None and fields is not None and fields.phi_kind(key) is not None


def _sensitive(key: str) -> bool:
    fields = _phi_fields()
    if fields is None:
        return True
    try:
        return bool(fields.is_sensitive_key(key))
    except Exception:
        return True
