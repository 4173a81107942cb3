"""Postman scripts as the collection holds them, and the idioms read from their text.

Each request carries its inherited :class:`ScriptSource` list, which :mod:`harness.scripting` runs.
Some facts are also read statically, without running anything: the expected status
(``pm.response.to.have.status(201)``, the legacy ``tests["..."] = responseCode.code === 201``) for the harness's own status check, the names scripts set
(``pm.collectionVariables.set("patient_id", ...)``) for planning units and the preflight, and, for
runs with ``--no-scripts``, the captures those one-liners make and every other line, listed as a
:class:`ScriptNotRun` in every report so that nobody believes a check ran when it did not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

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
# The legacy sandbox's form (Postman's "tests[...] =" scripts, still run by Newman):
# tests["Status code is 404"] = responseCode.code === 404;
_LEGACY_STATUS = re.compile(
    r"""\btests\[\s*(?P<q>["'])(?:\\.|(?!(?P=q)).)*(?P=q)\s*\]\s*=\s*
        responseCode\.code\s*===?\s*(?P<code>\d{3})\s*;?""",
    re.VERBOSE,
)
_ONE_OF = re.compile(
    r"(?:pm\.expect\(\s*)?pm\.response\.code\s*\)\.to\.be\.oneOf\(\s*\[([\d,\s]+)\]\s*\)"
)
# The pm.test wrapper around an idiom: its name and callback head carry no check of their own.
_TEST_HEAD = re.compile(
    r"""pm\.test\(\s*(?P<q>["'`]).*?(?P=q)\s*,\s*(?:function\s*\(\s*\)\s*\{|\(\s*\)\s*=>\s*\{?)"""
)
_SKIP_HEAD = re.compile(r"\bpm\.test\.skip\s*\(")
_COMMENT = re.compile(r"^\s*//.*$|\s//.*$")
_NOTHING_LEFT = re.compile(r"[\s{}();,]*")
_QUOTED = re.compile(r"""(["'`])(?:\\.|(?!\1).)*\1""")

NOT_EXECUTED = "JavaScript the harness does not run"
SKIPPED_IN_SCRIPT = "skipped by pm.test.skip (its expectations are not applied)"


EventName = Literal["prerequest", "test"]
# Names a script sets with a literal first argument: what later requests may use (static, for
# planning units and the preflight; the engine itself applies whatever the script really sets).
_SETS_VARIABLE = re.compile(
    r"""(?:\bpm\.(?:environment|collectionVariables|variables|globals)\.set
         |\bpostman\.set(?:Environment|Global)Variable)\(\s*(["'`])([^"'`]+)\1""",
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class ScriptSource:
    """One script attached to an event: the collection's, a folder's or the request's own."""

    code: str
    event: EventName
    owner: str  # where it is attached, for messages: "collection", "folder 'Patients'", "request 'Get'"


def script_sources(events: Any, owner: str) -> tuple[ScriptSource, ...]:
    """The enabled pre-request and test scripts of an ``event`` list, in their listed order."""
    found: list[ScriptSource] = []
    for event, lines in _script_lines(events):
        if event in ("prerequest", "test") and any(line.strip() for line in lines):
            code = "\n".join(lines)
            found.append(
                ScriptSource(code, "prerequest" if event == "prerequest" else "test", owner)
            )
    return tuple(found)


def variables_set_by(scripts: Iterable[ScriptSource]) -> frozenset[str]:
    """The variable names ``scripts`` set with a literal name (``pm.*.set("name", ...)``)."""
    return frozenset(m.group(2) for s in scripts for m in _SETS_VARIABLE.finditer(s.code))


@dataclass(frozen=True, slots=True)
class Capture:
    """Store a value from the response into a variable for later requests."""

    variable: str
    source: str  # "json" (JMESPath expression in ``expression``), "header", "status"
    expression: str = ""


@dataclass(frozen=True, slots=True)
class ScriptNotRun:
    """Lines of one script the harness did not execute, and why: reports list every one, so a
    verdict never looks as if it covered them."""

    event: str  # Postman's ``listen``: "test" or "prerequest"
    lines: tuple[int, ...]  # 1-based line numbers within that script
    reason: str

    def describe(self) -> str:
        kind = "pre-request script" if self.event == "prerequest" else f"{self.event} script"
        label = "line" if len(self.lines) == 1 else "lines"
        return f"{kind} {label} {_ranges(self.lines)}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ScriptFacts:
    captures: tuple[Capture, ...] = ()
    expected_statuses: tuple[int, ...] = ()
    not_run: tuple[ScriptNotRun, ...] = ()


def read_test_script(events: Any) -> ScriptFacts:
    """Extract captures and status expectations from a request's ``event`` list.

    A line counts as read only when nothing but the idioms (and their ``pm.test`` wrapper) is on
    it; anything else on the line, any pre-request script and anything inside ``pm.test.skip`` is
    listed in ``not_run``.
    """
    captures: list[Capture] = []
    statuses: list[int] = []
    not_run: list[ScriptNotRun] = []
    for event, lines in _scripts(events):
        if event != "test":
            not_run += _all_not_run(event, lines)
            continue
        unread: list[int] = []
        skipped: list[int] = []
        skip_depth = 0
        for number, line in lines:
            if skip_depth > 0 or _SKIP_HEAD.search(line):
                skipped.append(number)
                skip_depth = max(0, skip_depth + _paren_balance(line))
                continue
            rest = line
            for match in _SETTER.finditer(line):
                if match.group("header"):
                    captures.append(Capture(match["name"], "header", match["header"]))
                elif match.group("json") is not None:
                    captures.append(Capture(match["name"], "json", _to_jmespath(match["json"])))
                else:
                    captures.append(Capture(match["name"], "status"))
            for match in _STATUS.finditer(line):
                statuses.append(int(match.group(1)))
            for match in _LEGACY_STATUS.finditer(line):
                statuses.append(int(match.group("code")))
            for match in _ONE_OF.finditer(line):
                statuses.extend(int(code) for code in match.group(1).split(",") if code.strip())
            for pattern in (_SETTER, _STATUS, _LEGACY_STATUS, _ONE_OF, _TEST_HEAD):
                rest = pattern.sub(" ", rest)
            if not _NOTHING_LEFT.fullmatch(_COMMENT.sub("", rest)):
                unread.append(number)
        if unread:
            not_run.append(ScriptNotRun(event, tuple(unread), NOT_EXECUTED))
        if skipped:
            not_run.append(ScriptNotRun(event, tuple(skipped), SKIPPED_IN_SCRIPT))
    return ScriptFacts(tuple(captures), tuple(dict.fromkeys(statuses)), tuple(not_run))


def scripts_not_run(events: Any) -> tuple[ScriptNotRun, ...]:
    """Folder- and collection-level scripts, every line (for runs with ``--no-scripts``)."""
    found: list[ScriptNotRun] = []
    for event, lines in _scripts(events):
        found += _all_not_run(event, lines)
    return tuple(found)


def _all_not_run(event: str, lines: list[tuple[int, str]]) -> list[ScriptNotRun]:
    numbers = tuple(n for n, line in lines if not _NOTHING_LEFT.fullmatch(_COMMENT.sub("", line)))
    return [ScriptNotRun(event, numbers, NOT_EXECUTED)] if numbers else []


def _scripts(events: Any) -> Iterable[tuple[str, list[tuple[int, str]]]]:
    """(listen, numbered non-blank lines) for each script of an ``event`` list."""
    for listen, lines in _script_lines(events):
        numbered = [(number, line) for number, line in enumerate(lines, start=1) if line.strip()]
        if numbered:
            yield listen, numbered


def _script_lines(events: Any) -> Iterable[tuple[str, list[str]]]:
    """(listen, every line) for each enabled script of an ``event`` list."""
    if not isinstance(events, list):
        return
    for event in events:
        if not isinstance(event, dict) or event.get("disabled") is True:
            continue
        script = event.get("script") or {}
        exec_lines = script.get("exec", []) if isinstance(script, dict) else []
        if isinstance(exec_lines, str):
            exec_lines = exec_lines.splitlines()
        if isinstance(exec_lines, list):
            lines = [line if isinstance(line, str) else "" for line in exec_lines]
            yield str(event.get("listen", "")), lines


def _paren_balance(line: str) -> int:
    """Open minus closed parentheses outside string literals: how far a call spans lines."""
    code = _QUOTED.sub("", line)
    return code.count("(") - code.count(")")


def _ranges(numbers: Iterable[int]) -> str:
    """(1, 2, 3, 5) -> "1-3, 5"."""
    spans: list[list[int]] = []
    for number in numbers:
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


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
