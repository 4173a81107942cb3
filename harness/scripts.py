"""The few Postman test-script idioms the harness understands without running JavaScript.

Collections chain requests with one-liners such as
``pm.collectionVariables.set("patient_id", pm.response.json().id)`` and state expectations with
``pm.response.to.have.status(201)``. Reading those idioms keeps a collection runnable by both
Postman/Newman and this harness. Any other script line is counted as ignored and reported, so
nobody believes a check ran when it did not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_SETTER = re.compile(
    r"""pm\.(?:environment|collectionVariables|variables|globals)\.set\(\s*
        (?P<q>["'])(?P<name>[^"']+)(?P=q)\s*,\s*
        (?:
            pm\.response\.json\(\)(?P<json>(?:\.[A-Za-z_$][\w$]*|\[\d+\]|\[["'][^"']+["']\])*)
          | pm\.response\.(?:headers\.get|header)\(\s*["'](?P<header>[^"']+)["']\s*\)
          | pm\.response\.code
        )\s*\)""",
    re.VERBOSE,
)
_STATUS = re.compile(r"pm\.response\.to\.have\.status\(\s*(\d{3})\s*\)")
_ONE_OF = re.compile(r"pm\.response\.code\)\.to\.be\.oneOf\(\s*\[([\d,\s]+)\]\s*\)")
_NOISE = re.compile(r"^\s*(//.*|[{}();]*|pm\.test\(.*function\s*\(\)\s*\{|\}\);?)\s*$")


@dataclass(frozen=True, slots=True)
class Capture:
    """Store a value from the response into a variable for later requests."""

    variable: str
    source: str  # "json" (JMESPath expression in ``expression``), "header", "status"
    expression: str = ""


@dataclass(frozen=True, slots=True)
class ScriptFacts:
    captures: tuple[Capture, ...] = ()
    expected_statuses: tuple[int, ...] = ()
    ignored_lines: int = 0


def read_test_script(events: Any) -> ScriptFacts:
    """Extract captures and status expectations from an item's ``event`` list."""
    lines = list(_test_lines(events))
    captures: list[Capture] = []
    statuses: list[int] = []
    ignored = 0
    for line in lines:
        understood = False
        for match in _SETTER.finditer(line):
            understood = True
            if match.group("header"):
                captures.append(Capture(match["name"], "header", match["header"]))
            elif match.group("json") is not None:
                captures.append(Capture(match["name"], "json", _to_jmespath(match["json"])))
            else:
                captures.append(Capture(match["name"], "status"))
        for match in _STATUS.finditer(line):
            understood = True
            statuses.append(int(match.group(1)))
        for match in _ONE_OF.finditer(line):
            understood = True
            statuses.extend(int(code) for code in match.group(1).split(",") if code.strip())
        if not understood and not _NOISE.match(line):
            ignored += 1
    return ScriptFacts(tuple(captures), tuple(dict.fromkeys(statuses)), ignored)


def _test_lines(events: Any) -> Iterable[str]:
    if not isinstance(events, list):
        return
    for event in events:
        if not isinstance(event, dict) or event.get("listen") != "test":
            continue
        script = event.get("script") or {}
        exec_lines = script.get("exec", []) if isinstance(script, dict) else []
        if isinstance(exec_lines, str):
            exec_lines = exec_lines.splitlines()
        for line in exec_lines:
            if isinstance(line, str) and line.strip():
                yield line


def _to_jmespath(accessor: str) -> str:
    """``.results[0]["first name"]`` -> ``results[0]."first name"``; empty means the whole body."""
    parts = re.findall(r"\.([A-Za-z_$][\w$]*)|\[(\d+)\]|\[[\"']([^\"']+)[\"']\]", accessor)
    out = ""
    for name, index, quoted in parts:
        if index:
            out += f"[{index}]"
        else:
            key = name or quoted
            key = key if re.fullmatch(r"[A-Za-z_][\w]*", key) else f'"{key}"'
            out += ("." if out else "") + key
    return out or "@"
