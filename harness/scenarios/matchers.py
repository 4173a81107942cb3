"""Value matchers for ``expect.json``, written as YAML tags the way Tavern users know them.

``!anyint``, ``!anystr``, ``!anyfloat``, ``!anybool``, ``!anylist``, ``!anydict`` and ``!anything``
are Tavern's spellings; ``!anynumber``, ``!anyuuid``, ``!anydate`` and ``!anydatetime`` add the
types a DrChrono body carries as text; ``!re_match``, ``!re_search`` and ``!re_fullmatch`` take a
regular expression (Python's ``re``, as in Tavern); ``!absent`` says a field must not be there.
The tags are registered on the scenario loader only: it stays a safe loader (a tag builds one of
these small value objects, never an arbitrary Python object).
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_float(value: Any) -> bool:
    return isinstance(value, float)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _is_date(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 10:
        return False
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_datetime(value: Any) -> bool:
    # DrChrono writes "2030-06-03T10:00:00" (and sometimes a zone); a bare date is not one.
    if not isinstance(value, str) or "T" not in value.upper():
        return False
    try:
        datetime.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return False
    return True


# tag -> (what a failure says is expected, the test)
TYPE_MATCHERS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "!anything": ("any value", lambda _value: True),
    "!anyint": ("an integer", _is_int),
    "!anyfloat": ("a floating-point number", _is_float),
    "!anynumber": ("a number", _is_number),
    "!anystr": ("a string", lambda value: isinstance(value, str)),
    "!anybool": ("a boolean", lambda value: isinstance(value, bool)),
    "!anylist": ("an array", lambda value: isinstance(value, list)),
    "!anydict": ("an object", lambda value: isinstance(value, dict)),
    "!anyuuid": ("a UUID string", _is_uuid),
    "!anydate": ("a yyyy-mm-dd date string", _is_date),
    "!anydatetime": ("an ISO 8601 date-time string", _is_datetime),
}
REGEX_MATCHERS = ("!re_match", "!re_search", "!re_fullmatch")
ABSENT = "!absent"


@dataclass(frozen=True)
class Matcher:
    """One tag in an expectation: a type test, a regular expression, or "absent"."""

    tag: str
    pattern: str = ""  # the regular expression of a !re_* tag

    def __str__(self) -> str:
        return f"{self.tag} {self.pattern!r}" if self.pattern else self.tag

    @property
    def absent(self) -> bool:
        return self.tag == ABSENT

    @property
    def wants_string(self) -> bool:
        """True when only a string can match (a pseudonymised patient value keeps that type)."""
        return self.tag in REGEX_MATCHERS or self.tag in (
            "!anystr",
            "!anyuuid",
            "!anydate",
            "!anydatetime",
        )

    def describe(self) -> str:
        if self.tag in TYPE_MATCHERS:
            return TYPE_MATCHERS[self.tag][0]
        if self.absent:
            return "the field to be absent"
        how = {
            "!re_match": "whose start matches",
            "!re_search": "containing a match of",
            "!re_fullmatch": "wholly matching",
        }[self.tag]
        return f"a string {how} /{self.pattern}/"

    def matches(self, value: Any) -> bool:
        if self.tag in TYPE_MATCHERS:
            return TYPE_MATCHERS[self.tag][1](value)
        if self.absent or not isinstance(value, str):
            return False
        compiled = re.compile(self.pattern)
        if self.tag == "!re_match":
            return compiled.match(value) is not None
        if self.tag == "!re_search":
            return compiled.search(value) is not None
        return compiled.fullmatch(value) is not None


def register(loader: type[yaml.SafeLoader]) -> None:
    """Teach ``loader`` the matcher tags (each builds a :class:`Matcher`, nothing else)."""

    def plain(tag: str) -> Callable[[yaml.SafeLoader, yaml.Node], Matcher]:
        def construct(_loader: yaml.SafeLoader, node: yaml.Node) -> Matcher:
            if not isinstance(node, yaml.ScalarNode) or node.value not in ("", None):
                raise yaml.constructor.ConstructorError(
                    None, None, f"{tag} takes no value (write just {tag})", node.start_mark
                )
            return Matcher(tag)

        return construct

    def regex(tag: str) -> Callable[[yaml.SafeLoader, yaml.Node], Matcher]:
        def construct(_loader: yaml.SafeLoader, node: yaml.Node) -> Matcher:
            if not isinstance(node, yaml.ScalarNode) or not node.value:
                raise yaml.constructor.ConstructorError(
                    None, None, f"{tag} needs a regular expression: {tag} '^HX'", node.start_mark
                )
            try:
                re.compile(node.value)
            except re.error as exc:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"{tag} {node.value!r} is not a regular expression ({exc})",
                    node.start_mark,
                ) from None
            return Matcher(tag, node.value)

        return construct

    for tag in (*TYPE_MATCHERS, ABSENT):
        loader.add_constructor(tag, plain(tag))
    for tag in REGEX_MATCHERS:
        loader.add_constructor(tag, regex(tag))


def find_matcher(value: Any) -> Matcher | None:
    """The first matcher anywhere inside ``value`` (to refuse one outside an expectation)."""
    if isinstance(value, Matcher):
        return value
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            found = find_matcher(item)
            if found is not None:
                return found
    return None
