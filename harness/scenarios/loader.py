"""Turn a scenario YAML file into :class:`Scenario` objects, or fail with file:line:column.

Everything that can be checked without sending is checked here: unknown keys (with a
suggestion), wrong types, unknown collection requests, template syntax, JMESPath syntax, data
files. Nothing is rendered yet; rendering needs the run's variables.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError

from harness.collection import Collection
from harness.errors import InputError
from harness.json_input import named_input_file
from harness.scenarios.matchers import find_matcher
from harness.scenarios.model import (
    UNSET,
    CaptureSpec,
    Expectation,
    InlineRequest,
    RetryUntil,
    SandboxAction,
    Scenario,
    Step,
)
from harness.scenarios.source import (
    LocatedDict,
    LocatedList,
    Location,
    ScenarioError,
    load_yaml,
    read_yaml_file,
)
from harness.scenarios.templates import TemplateProblem, check_syntax, is_template
from harness.variables import read_data_rows

SCENARIO_SUFFIXES = (".yaml", ".yml")
SCENARIO_KEYS = ("name", "description", "tags", "targets", "variables", "data", "steps", "cleanup")
COMMON_STEP_KEYS = (
    "name",
    "variables",
    "expect",
    "retry_until",
    "capture",
    "cleanup",
    "delay_before",
    "delay_after",
)
DELAY_KEYS = ("delay_before", "delay_after")
MAX_STEP_DELAY_S = 300.0
REFERENCE_KEYS = (
    "request",
    "query",
    "headers",
    "json",
    "body",
    "path",
    "auth",
    "scripts",
    "test",
)
INLINE_KEYS = ("method", "url", "query", "headers", "json", "form", "body", "auth", "test")
SANDBOX_KEYS = ("sandbox", "args", "save_as", "delay_before", "delay_after")
EXPECT_KEYS = ("status", "contract", "json", "strict", "headers", "max_ms")
RETRY_KEYS = ("status", "json", "strict", "headers", "attempts", "delay_s")
TARGETS = ("sandbox", "live", "replay")
SANDBOX_ACTIONS = {
    "expire_tokens": (),
    "issue_refresh_token": ("scopes",),
    "revoke": ("token",),
    "inject_fault": ("route", "kind", "count", "methods", "retry_after", "seconds"),
    "clear_faults": (),
}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
RETRYABLE_METHODS = ("GET", "HEAD", "OPTIONS")
MAX_ATTEMPTS = 20
MAX_DELAY_S = 30.0
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def discover(sources: Sequence[Path]) -> list[Path]:
    """Scenario files named directly, plus every ``*.yaml``/``*.yml`` under named directories."""
    found: list[Path] = []
    for source in sources:
        if source.is_dir():
            found += sorted(
                p
                for p in source.rglob("*")
                if p.suffix.lower() in SCENARIO_SUFFIXES and p.is_file()
            )
        elif source.exists():
            found.append(source)
        else:
            raise InputError(
                f"Scenario path {source} does not exist.",
                hint="Pass scenario YAML files or a directory that holds them (e.g. scenarios/).",
            )
    if not found:
        raise InputError(
            f"No scenario files (*.yaml, *.yml) in {', '.join(map(str, sources))}.",
            hint="Put scenarios in scenarios/*.yaml; docs/SCENARIOS.md shows the format.",
        )
    return list(dict.fromkeys(found))


def load_scenario_file(path: Path, collection: Collection) -> list[Scenario]:
    document = read_yaml_file(path)
    return _FileParser(path, collection).scenarios(document)


def scenario_from_text(text: str, origin: Path, collection: Collection) -> Scenario:
    """One scenario written by the harness itself (``origin`` names it in errors)."""
    [scenario] = _FileParser(origin, collection).scenarios(load_yaml(text, origin))
    return scenario


def load_scenarios(sources: Sequence[Path], collection: Collection) -> list[Scenario]:
    """Every scenario of every file, in file order; names must be unique across the run."""
    scenarios: list[Scenario] = []
    seen: dict[str, Location] = {}
    for path in discover(sources):
        for scenario in load_scenario_file(path, collection):
            if scenario.name in seen:
                raise ScenarioError(
                    scenario.location,
                    f"scenario name '{scenario.name}' is already used at {seen[scenario.name]}",
                    hint="Give each scenario its own name (it names the test in reports).",
                )
            seen[scenario.name] = scenario.location
            scenarios.append(scenario)
    return scenarios


class _FileParser:
    def __init__(self, file: Path, collection: Collection) -> None:
        self.file = file
        self.collection = collection

    # --- generic checks --------------------------------------------------------------------

    def _where(self, node: Any) -> Location:
        return getattr(node, "location", Location(self.file, 1, 1))

    def mapping(self, node: Any, at: Location, what: str) -> LocatedDict:
        if not isinstance(node, LocatedDict):
            raise ScenarioError(at, f"{what} must be a mapping (key: value), not {_kind(node)}")
        return node

    def sequence(self, node: Any, at: Location, what: str) -> LocatedList:
        if not isinstance(node, LocatedList):
            raise ScenarioError(at, f"{what} must be a list, not {_kind(node)}")
        return node

    def known_keys(self, node: LocatedDict, allowed: Sequence[str], what: str) -> None:
        for key in node:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"Did you mean '{close[0]}'?" if close else f"Allowed: {', '.join(allowed)}."
                raise ScenarioError(node.key_at(key), f"unknown key '{key}' in {what}", hint=hint)

    def text(self, node: LocatedDict, key: str, what: str, *, required: bool = False) -> str:
        if key not in node:
            if required:
                raise ScenarioError(node.location, f"{what} needs '{key}'")
            return ""
        value = node[key]
        if not isinstance(value, str) or (required and not value.strip()):
            raise ScenarioError(node.value_at(key), f"'{key}' of {what} must be non-empty text")
        return value

    def templates(self, value: Any, at: Location, *, matchers: bool = False) -> None:
        """Check the syntax of every template inside ``value`` (and that it holds no matcher
        tag unless it is an expectation: ``!anyint`` cannot be sent)."""
        matcher = None if matchers else find_matcher(value)
        if matcher is not None:
            raise ScenarioError(
                at,
                f"the matcher {matcher} is only meaningful in 'expect.json' or 'retry_until.json'",
                hint="Write the value to send here; matchers check a response.",
            )
        for text, where in _strings(value, at):
            if is_template(text):
                try:
                    check_syntax(text)
                except TemplateProblem as exc:
                    raise ScenarioError(
                        where, str(exc), hint="Fix the Jinja2 expression ({{ ... }})."
                    ) from None

    def names(self, node: LocatedDict, key: str, what: str) -> tuple[str, ...]:
        if key not in node:
            return ()
        raw = node[key]
        items = [raw] if isinstance(raw, str) else raw
        seq = self.sequence(items, node.value_at(key), f"'{key}' of {what}")
        return tuple(str(v) for v in seq)

    def variable_map(self, node: LocatedDict, key: str, what: str) -> dict[str, Any]:
        if key not in node:
            return {}
        values = self.mapping(node[key], node.value_at(key), f"'{key}' of {what}")
        for name in values:
            if not _NAME.match(name):
                raise ScenarioError(
                    values.key_at(name),
                    f"variable name '{name}' is not a name (letters, digits, _)",
                    hint="Jinja2 can only read variables named like identifiers.",
                )
            self.templates(values[name], values.value_at(name))
        return dict(values)

    def string_map(self, node: LocatedDict, key: str, what: str) -> dict[str, Any]:
        """query/headers/path: name -> scalar (None removes)."""
        if key not in node:
            return {}
        values = self.mapping(node[key], node.value_at(key), f"'{key}' of {what}")
        for name, value in values.items():
            if isinstance(value, (LocatedDict, LocatedList)):
                raise ScenarioError(
                    values.value_at(name),
                    f"'{key}.{name}' of {what} must be a single value, not {_kind(value)}",
                )
            self.templates(value, values.value_at(name))
        return dict(values)

    # --- file and scenario -----------------------------------------------------------------

    def scenarios(self, document: Any) -> list[Scenario]:
        start = Location(self.file, 1, 1)
        if document is None:
            raise ScenarioError(start, "the file is empty", hint="Add 'scenarios:' with a list.")
        if isinstance(document, LocatedDict) and "scenarios" in document:
            self.known_keys(document, ("scenarios",), "the file")
            items = self.sequence(
                document["scenarios"], document.value_at("scenarios"), "'scenarios'"
            )
            nodes = [(item, items.item_at(i)) for i, item in enumerate(items)]
        elif isinstance(document, LocatedDict) and "steps" in document:
            nodes = [(document, document.location)]
        else:
            raise ScenarioError(
                self._where(document),
                "a scenario file holds 'scenarios:' (a list) or one scenario with 'steps:'",
            )
        if not nodes:
            raise ScenarioError(start, "'scenarios' is empty")
        return [self.scenario(node, at) for node, at in nodes]

    def scenario(self, raw: Any, at: Location) -> Scenario:
        node = self.mapping(raw, at, "a scenario")
        self.known_keys(node, SCENARIO_KEYS, "a scenario")
        name = self.text(node, "name", "a scenario", required=True)
        what = f"scenario '{name}'"
        tags = self.names(node, "tags", what)
        for index, tag in enumerate(tags):
            if not _NAME.match(tag):
                where = (
                    node["tags"].item_at(index)
                    if isinstance(node["tags"], LocatedList)
                    else node.value_at("tags")
                )
                raise ScenarioError(
                    where,
                    f"tag '{tag}' of {what} is not a valid marker name (letters, digits, _)",
                    hint="Tags become pytest markers; write e.g. 'smoke' or 'appointments'.",
                )
        targets = self.names(node, "targets", what)
        for target in targets:
            if target not in TARGETS:
                raise ScenarioError(
                    node.value_at("targets"),
                    f"target '{target}' of {what} is not one of {', '.join(TARGETS)}",
                )
        if "steps" not in node:
            raise ScenarioError(node.location, f"{what} has no 'steps'")
        steps_node = self.sequence(node["steps"], node.value_at("steps"), f"'steps' of {what}")
        if not steps_node:
            raise ScenarioError(node.value_at("steps"), f"'steps' of {what} is empty")
        steps = tuple(self.step(s, steps_node.item_at(i), what) for i, s in enumerate(steps_node))
        cleanup: tuple[Step, ...] = ()
        if "cleanup" in node:
            clean_node = self.sequence(
                node["cleanup"], node.value_at("cleanup"), f"'cleanup' of {what}"
            )
            cleanup = tuple(
                self.step(s, clean_node.item_at(i), f"the cleanup of {what}")
                for i, s in enumerate(clean_node)
            )
        return Scenario(
            name=name,
            location=node.key_at("name"),
            description=self.text(node, "description", what),
            tags=tags,
            targets=targets,
            variables=self.variable_map(node, "variables", what),
            rows=self.rows(node, what),
            steps=steps,
            cleanup=cleanup,
        )

    def rows(self, node: LocatedDict, what: str) -> tuple[dict[str, Any], ...]:
        if "data" not in node:
            return ()
        raw, at = node["data"], node.value_at("data")
        if isinstance(raw, str):
            rows = self.data_file(raw, at)
            where = [at] * len(rows)
        else:
            listed = self.sequence(raw, at, f"'data' of {what} (a list of rows or a file path)")
            rows, where = [], []
            for index, row in enumerate(listed):
                rows.append(dict(self.mapping(row, listed.item_at(index), "a data row")))
                where.append(listed.item_at(index))
        if not rows:
            raise ScenarioError(at, f"'data' of {what} has no rows")
        for row, row_at in zip(rows, where, strict=True):
            for name in row:
                if not _NAME.match(str(name)):
                    raise ScenarioError(
                        row_at, f"data column '{name}' is not a name (letters, digits, _)"
                    )
        return tuple(rows)

    def data_file(self, name: str, at: Location) -> list[dict[str, Any]]:
        try:
            path = named_input_file(
                name,
                base=self.file.parent,
                roots={
                    "the working directory": Path.cwd(),
                    "the scenario file's directory": self.file.parent,
                },
                allow_outside=False,
                refusal="'data' names the file",
                hint="Keep data files beside the scenario file or under the working directory.",
            )
            return read_data_rows(
                path,
                what="data file",
                hint="Give 'data:' a CSV file with a header row or a JSON list of objects.",
            )
        except InputError as exc:
            raise ScenarioError(at, exc.message, hint=exc.hint) from None

    # --- steps -----------------------------------------------------------------------------

    def step(self, raw: Any, at: Location, where: str) -> Step:
        if isinstance(raw, str):  # shorthand: "- Patients/Delete patient"
            return Step(name=raw, location=at, request=self.reference(raw, at))
        node = self.mapping(raw, at, f"a step of {where}")
        if "sandbox" in node:
            return self.sandbox_step(node, where)
        allowed: tuple[str, ...]
        if "request" in node:
            allowed, kind = (*COMMON_STEP_KEYS, *REFERENCE_KEYS), "a collection-request step"
        elif "method" in node or "url" in node:
            allowed, kind = (*COMMON_STEP_KEYS, *INLINE_KEYS), "an inline-request step"
        else:
            raise ScenarioError(
                node.location,
                f"a step of {where} needs 'request: Folder/Request name', an inline "
                "'method' and 'url', or 'sandbox: ACTION'",
            )
        self.known_keys(node, allowed, kind)
        request = inline = None
        if "request" in node:
            reference = self.text(node, "request", "a step", required=True)
            request = self.reference(reference, node.value_at("request"))
            default_name = reference
        else:
            inline = self.inline(node)
            default_name = f"{inline.method} {inline.url}"
        name = self.text(node, "name", "a step") or default_name
        step_what = f"step '{name}'"
        json_value = UNSET
        if "json" in node:
            json_value = node["json"]
            self.templates(json_value, node.value_at("json"))
            if request is not None and not isinstance(json_value, dict):
                raise ScenarioError(
                    node.value_at("json"),
                    f"'json' of {step_what} must be a mapping of fields to merge into the "
                    "collection request's JSON body",
                )
        if (
            request is not None
            and "json" in node
            and request.body is not None
            and not (request.body.mode == "raw" and request.body.language in (None, "json"))
        ):
            raise ScenarioError(
                node.key_at("json"),
                f"collection request '{request.full_name}' has a {request.body.mode} body, "
                "so 'json' cannot be merged into it",
            )
        replace_body = self.replacement_body(node, step_what) if request is not None else UNSET
        path = self.string_map(node, "path", step_what)
        if request is not None:
            known = {v.key for v in request.url.path_variables} | set(
                re.findall(r"(?<=/):([A-Za-z_][\w-]*)", request.url.raw)
            )
            for key in path:
                if key not in known:
                    raise ScenarioError(
                        node.value_at("path"),
                        f"collection request '{request.full_name}' has no path variable :{key} "
                        f"(its URL is {request.url.raw})",
                        hint="To change a {{variable}} in the collection's URL for this step, "
                        "use 'variables:' instead.",
                    )
        expect = self.expectation(node, "expect", step_what, EXPECT_KEYS)
        retry = self.retry(
            node, step_what, request.method if request else inline.method if inline else "GET"
        )
        cleanup: tuple[Step, ...] = ()
        if "cleanup" in node:
            raw_cleanup = node["cleanup"]
            if isinstance(raw_cleanup, LocatedList):
                cleanup = tuple(
                    self.step(s, raw_cleanup.item_at(i), f"the cleanup of {step_what}")
                    for i, s in enumerate(raw_cleanup)
                )
            else:
                cleanup = (
                    self.step(raw_cleanup, node.value_at("cleanup"), f"the cleanup of {step_what}"),
                )
        return Step(
            name=name,
            location=node.location,
            request=request,
            inline=inline,
            query=self.string_map(node, "query", step_what),
            headers=self.string_map(node, "headers", step_what),
            json=json_value,
            replace_body=replace_body,
            path=path,
            variables=self.variable_map(node, "variables", step_what),
            auth=self.auth(node, step_what),
            expect=expect,
            retry_until=retry,
            capture=self.captures(node, step_what),
            cleanup=cleanup,
            scripts=self.flag(node, "scripts", step_what),
            test=self.text(node, "test", step_what) or None,
            delay_before=self.delay(node, "delay_before", step_what),
            delay_after=self.delay(node, "delay_after", step_what),
        )

    def delay(self, node: LocatedDict, key: str, what: str) -> float:
        """``delay_before``/``delay_after``: seconds, 0 to MAX_STEP_DELAY_S."""
        value = node.get(key, 0)
        if (
            not isinstance(value, (int, float))
            or isinstance(value, bool)
            or not 0 <= value <= MAX_STEP_DELAY_S
        ):
            raise ScenarioError(
                node.value_at(key),
                f"'{key}' of {what} must be 0 to {MAX_STEP_DELAY_S:g} seconds",
            )
        return float(value)

    def replacement_body(self, node: LocatedDict, what: str) -> Any:
        """``body:`` of a collection-request step: the whole body instead of the request's."""
        if "body" not in node:
            return UNSET
        if "json" in node:
            raise ScenarioError(
                node.key_at("body"),
                f"{what} gives both 'json' (fields merged into the request's body) and 'body' "
                "(a body replacing it)",
                hint="Keep one: 'json' to change some fields, 'body' to send a body of your own.",
            )
        value = node["body"]
        if not isinstance(value, (str, dict, list)):
            raise ScenarioError(
                node.value_at("body"),
                f"'body' of {what} must be a mapping or a list (sent as JSON) or text (sent as "
                f"is), not {_kind(value)}",
            )
        self.templates(value, node.value_at("body"))
        return value

    def flag(self, node: LocatedDict, key: str, what: str) -> bool:
        """A true/false key (true when absent)."""
        value = node.get(key, True)
        if not isinstance(value, bool):
            raise ScenarioError(node.value_at(key), f"'{key}' of {what} must be true or false")
        return value

    def reference(self, reference: str, at: Location) -> Any:
        found = self.collection.find(reference)
        if found is None:
            names = [r.full_name for r in self.collection.requests()]
            close = difflib.get_close_matches(reference, names, n=1, cutoff=0.5)
            raise ScenarioError(
                at,
                f"no request '{reference}' in the collection {self.collection.source}.",
                hint=f"Did you mean '{close[0]}'?"
                if close
                else "Write 'Folder/Request name' as the collection shows it.",
            )
        return found

    def inline(self, node: LocatedDict) -> InlineRequest:
        method = self.text(node, "method", "an inline step") or "GET"
        if method.upper() not in METHODS:
            raise ScenarioError(
                node.value_at("method"), f"method '{method}' is not one of {', '.join(METHODS)}"
            )
        url = self.text(node, "url", "an inline step", required=True)
        self.templates(url, node.value_at("url"))
        bodies = [k for k in ("json", "form", "body") if k in node]
        if len(bodies) > 1:
            raise ScenarioError(
                node.key_at(bodies[1]), f"give one of json, form, body (not {' and '.join(bodies)})"
            )
        kind, body = "none", None
        if bodies:
            kind = {"json": "json", "form": "form", "body": "text"}[bodies[0]]
            body = node[bodies[0]]
            self.templates(body, node.value_at(bodies[0]))
            if kind == "form" and not isinstance(body, dict):
                raise ScenarioError(node.value_at("form"), "'form' must be a mapping of fields")
            if kind == "text" and not isinstance(body, str):
                raise ScenarioError(
                    node.value_at("body"), "'body' must be text (use 'json' for JSON)"
                )
        return InlineRequest(method=method.upper(), url=url, body_kind=kind, body=body)  # type: ignore[arg-type]

    def auth(self, node: LocatedDict, what: str) -> Any:
        if "auth" not in node:
            return "collection"
        value = node["auth"]
        if value in ("collection", "none"):
            return value
        if isinstance(value, LocatedDict):
            self.known_keys(value, ("refresh_token",), f"'auth' of {what}")
            if "refresh_token" not in value:
                raise ScenarioError(value.location, f"'auth' of {what} needs 'refresh_token'")
            self.templates(value["refresh_token"], value.value_at("refresh_token"))
            return dict(value)
        raise ScenarioError(
            node.value_at("auth"),
            f"'auth' of {what} must be 'collection', 'none' or {{refresh_token: ...}}",
        )

    def expectation(
        self, node: LocatedDict, key: str, what: str, allowed: Sequence[str]
    ) -> Expectation:
        if key not in node:
            return Expectation()
        raw = self.mapping(node[key], node.value_at(key), f"'{key}' of {what}")
        self.known_keys(raw, allowed, f"'{key}' of {what}")
        status = None
        if "status" in raw:
            value = raw["status"]
            codes = value if isinstance(value, list) else [value]
            if not codes or not all(
                isinstance(c, int) and not isinstance(c, bool) and 100 <= c <= 599 for c in codes
            ):
                raise ScenarioError(
                    raw.value_at("status"),
                    f"'{key}.status' of {what} must be an HTTP status (e.g. 201) or a list of them",
                )
            status = tuple(codes)
        contract = raw.get("contract", True)
        if not isinstance(contract, bool):
            raise ScenarioError(raw.value_at("contract"), f"'{key}.contract' must be true or false")
        json_value = raw.get("json", UNSET)
        if "json" in raw:
            self.templates(json_value, raw.value_at("json"), matchers=True)
        strict = raw.get("strict", False)
        if not isinstance(strict, bool):
            raise ScenarioError(
                raw.value_at("strict"),
                f"'{key}.strict' must be true (the body is exactly 'json') or false",
            )
        if strict and "json" not in raw:
            raise ScenarioError(
                raw.key_at("strict"),
                f"'{key}.strict' of {what} needs 'json' (the exact body to compare with)",
            )
        headers: dict[str, Any] = {}
        if "headers" in raw:
            header_node = self.mapping(raw["headers"], raw.value_at("headers"), f"'{key}.headers'")
            for name, value in header_node.items():
                if not isinstance(value, (str, bool, int)):
                    raise ScenarioError(
                        header_node.value_at(name),
                        f"'{key}.headers.{name}' must be text (contained in the header) or "
                        "true/false (present/absent)",
                    )
                self.templates(value, header_node.value_at(name))
                headers[name] = value
        max_ms = raw.get("max_ms")
        if max_ms is not None and (
            not isinstance(max_ms, (int, float)) or isinstance(max_ms, bool) or max_ms <= 0
        ):
            raise ScenarioError(raw.value_at("max_ms"), f"'{key}.max_ms' must be a positive number")
        return Expectation(
            status=status,
            contract=contract,
            json=json_value,
            strict=strict,
            headers=headers,
            max_ms=float(max_ms) if max_ms is not None else None,
            location=raw.location,
        )

    def retry(self, node: LocatedDict, what: str, method: str) -> RetryUntil | None:
        if "retry_until" not in node:
            return None
        if method.upper() not in RETRYABLE_METHODS:
            raise ScenarioError(
                node.key_at("retry_until"),
                f"'retry_until' on {what} would resend a {method} request",
                hint="Only GET, HEAD and OPTIONS may be repeated; poll with a GET step instead.",
            )
        until = self.expectation(node, "retry_until", what, RETRY_KEYS)
        raw = node["retry_until"]
        attempts = raw.get("attempts", 5)
        if (
            not isinstance(attempts, int)
            or isinstance(attempts, bool)
            or not 1 <= attempts <= MAX_ATTEMPTS
        ):
            raise ScenarioError(
                raw.value_at("attempts"), f"'retry_until.attempts' must be 1 to {MAX_ATTEMPTS}"
            )
        delay = raw.get("delay_s", 0.5)
        if (
            not isinstance(delay, (int, float))
            or isinstance(delay, bool)
            or not 0 <= delay <= MAX_DELAY_S
        ):
            raise ScenarioError(
                raw.value_at("delay_s"),
                f"'retry_until.delay_s' must be 0 to {MAX_DELAY_S:g} seconds",
            )
        return RetryUntil(until=until, attempts=attempts, delay_s=float(delay))

    def captures(self, node: LocatedDict, what: str) -> tuple[CaptureSpec, ...]:
        if "capture" not in node:
            return ()
        raw = self.mapping(node["capture"], node.value_at("capture"), f"'capture' of {what}")
        found: list[CaptureSpec] = []
        for variable, spec in raw.items():
            at = raw.value_at(variable)
            if not _NAME.match(variable):
                raise ScenarioError(
                    raw.key_at(variable), f"capture name '{variable}' is not a name"
                )
            if not isinstance(spec, str):
                raise ScenarioError(
                    at,
                    f"capture '{variable}' must be text like 'json: id', 'header: Location' or 'status'",
                )
            source, _, expression = spec.partition(":")
            source, expression = source.strip(), expression.strip()
            if source == "status" and not expression:
                found.append(CaptureSpec(variable, "status", "", at))
            elif source == "header" and expression:
                found.append(CaptureSpec(variable, "header", expression, at))
            elif source == "json" and expression:
                try:
                    jmespath.compile(expression)
                except JMESPathError as exc:
                    raise ScenarioError(
                        at,
                        f"capture '{variable}': '{expression}' is not a JMESPath expression ({exc})",
                    ) from None
                found.append(CaptureSpec(variable, "json", expression, at))
            else:
                raise ScenarioError(
                    at,
                    f"capture '{variable}: {spec}' is not 'json: EXPRESSION', 'header: NAME' or 'status'",
                )
        return tuple(found)

    def sandbox_step(self, node: LocatedDict, where: str) -> Step:
        self.known_keys(node, ("name", *SANDBOX_KEYS), "a sandbox step")
        action = node["sandbox"]
        if action not in SANDBOX_ACTIONS:
            raise ScenarioError(
                node.value_at("sandbox"),
                f"sandbox action '{action}' is not one of {', '.join(SANDBOX_ACTIONS)}",
            )
        args: dict[str, Any] = {}
        if "args" in node:
            args_node = self.mapping(
                node["args"], node.value_at("args"), "'args' of a sandbox step"
            )
            self.known_keys(
                args_node, SANDBOX_ACTIONS[action] or ("(none)",), f"'args' of sandbox {action}"
            )
            self.templates(args_node, args_node.location)
            args = dict(args_node)
        save_as = None
        if "save_as" in node:
            save_as = self.text(node, "save_as", "a sandbox step", required=True)
            if action != "issue_refresh_token":
                raise ScenarioError(
                    node.key_at("save_as"), f"sandbox action '{action}' returns nothing to save"
                )
            if not _NAME.match(save_as):
                raise ScenarioError(node.value_at("save_as"), f"'{save_as}' is not a variable name")
        name = self.text(node, "name", "a step") or f"sandbox: {action}"
        return Step(
            name=name,
            location=node.location,
            sandbox=SandboxAction(action=action, args=args, save_as=save_as),
            delay_before=self.delay(node, "delay_before", f"step '{name}'"),
            delay_after=self.delay(node, "delay_after", f"step '{name}'"),
        )


def _strings(value: Any, at: Location) -> Iterator[tuple[str, Location]]:
    """Every string in a nested value, with the closest location the YAML gave."""
    if isinstance(value, str):
        yield value, at
    elif isinstance(value, dict):
        for key, item in value.items():
            where = value.value_at(key) if isinstance(value, LocatedDict) else at
            yield key, (value.key_at(key) if isinstance(value, LocatedDict) else at)
            yield from _strings(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(
                item, value.item_at(index) if isinstance(value, LocatedList) else at
            )


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"text ({value!r})"
    return f"{type(value).__name__} ({value!r})"
