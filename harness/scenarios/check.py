"""The check before anything is sent: every name a template reads must come from somewhere.

A name is known when the environment/collection defines it, a data column or scenario variable
sets it, or an earlier step captures it. Cleanup steps may use anything any step captures (they
are skipped at run time when that step never ran).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import Any

from harness.collection import RequestItem
from harness.collection_plan import request_variables
from harness.scenarios.model import UNSET, Scenario, Step
from harness.scenarios.source import ScenarioError
from harness.scenarios.templates import HELPER_NAMES, is_template, names_used
from harness.variables import Scopes


def check_names(scenario: Scenario, scopes: Scopes) -> None:
    known: set[str] = set(HELPER_NAMES)
    for row in scenario.rows:
        known |= set(row)
    for name, value in scenario.variables.items():
        _require(scenario, None, _template_names(value), known, scopes, f"variable '{name}'")
        known.add(name)
    for step in scenario.steps:
        _check_step(scenario, step, known, scopes)
        known |= produced(step)
    everything = known | {n for s in scenario.steps for c in s.cleanup for n in produced(c)}
    for step in scenario.steps:
        for cleanup in step.cleanup:
            _check_step(scenario, cleanup, set(everything), scopes)
    for cleanup in scenario.cleanup:
        _check_step(scenario, cleanup, set(everything), scopes)


def names_read(scenario: Scenario) -> set[str]:
    """Every name the scenario's templates and its collection requests' placeholders read."""
    names: set[str] = set()
    for value in scenario.variables.values():
        names |= _template_names(value)
    steps = [*scenario.steps, *(c for s in scenario.steps for c in s.cleanup), *scenario.cleanup]
    for step in steps:
        for value in step.variables.values():
            names |= _template_names(value)
        names |= _template_names(_step_values(step))
        request = _sent_request(step)
        if request is not None:
            names |= set(request_variables(request))
    return names


def produced(step: Step) -> set[str]:
    names = {c.variable for c in step.capture}
    if step.request is not None:
        names |= {c.variable for c in step.request.captures}
    if step.sandbox is not None and step.sandbox.save_as:
        names.add(step.sandbox.save_as)
    return names


def _check_step(scenario: Scenario, step: Step, known: set[str], scopes: Scopes) -> None:
    local = set(known)
    for name, value in step.variables.items():
        _require(scenario, step, _template_names(value), local, scopes, f"variable '{name}'")
        local.add(name)
    _require(scenario, step, _template_names(_step_values(step)), local, scopes, "a template")
    request = _sent_request(step)
    if request is not None:
        _require(
            scenario,
            step,
            request_variables(request),
            local,
            scopes,
            f"collection request '{request.full_name}'",
        )


def _sent_request(step: Step) -> RequestItem | None:
    """The collection request as far as its placeholders are sent: 'json' overrides replace some
    body fields, but the body is parsed whole, so its placeholders must resolve all the same; a
    'body' replaces it, and then its placeholders are never sent."""
    if step.request is None or step.replace_body is UNSET:
        return step.request
    return dataclasses.replace(step.request, body=None)


def _step_values(step: Step) -> list[Any]:
    values: list[Any] = [dict(step.query), dict(step.headers), dict(step.path)]
    if step.json is not UNSET:
        values.append(step.json)
    if step.replace_body is not UNSET:
        values.append(step.replace_body)
    if step.inline is not None:
        values += [step.inline.url, step.inline.body]
    if isinstance(step.auth, dict):
        values.append(dict(step.auth))
    for expectation in (step.expect, step.retry_until.until if step.retry_until else None):
        if expectation is not None:
            values.append(dict(expectation.headers))
            if expectation.json is not UNSET:
                values.append(expectation.json)
    if step.sandbox is not None:
        values.append(dict(step.sandbox.args))
    return values


def _template_names(value: Any) -> set[str]:
    return {name for text in _strings(value) if is_template(text) for name in names_used(text)}


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _require(
    scenario: Scenario,
    step: Step | None,
    names: Iterable[str],
    known: set[str],
    scopes: Scopes,
    what: str,
) -> None:
    for name in sorted(names):
        if name in known or scopes.defined(name):
            continue
        where = step.location if step is not None else scenario.location
        owner = f"step '{step.name}'" if step is not None else f"scenario '{scenario.name}'"
        raise ScenarioError(
            where,
            f"{owner}: {what} uses '{name}', which no environment or collection variable, data "
            "column, scenario variable or earlier capture defines",
            hint=f"Define '{name}' under 'variables:', capture it in an earlier step, or pass "
            f"--env-var {name}=VALUE.",
        )
