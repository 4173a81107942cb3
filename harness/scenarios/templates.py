"""Jinja2 templating for scenario values: sandboxed, strict, and type-preserving.

A value that is exactly one ``{{ expression }}`` keeps the expression's type (an int id stays an
int in a JSON body); anything else renders to text. Undefined names fail loudly: a typo must not
send ``"patient": ""`` to DrChrono.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from harness.fake_data import NotAProvider, fake

_WHOLE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>.*)\}\}\s*$", re.DOTALL)


class TemplateProblem(Exception):
    """A template could not be compiled or rendered; ``str()`` says why in one line."""


class _Fake:
    """``fake.first_name()`` and friends, from the harness's one Faker (:mod:`harness.fake_data`)."""

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return fake(name, *args, **kwargs)
            except NotAProvider:
                raise TemplateProblem(f"fake.{name}() is not a Faker provider") from None

        return call


def today() -> str:
    return dt.date.today().isoformat()


def date(offset_days: int = 0) -> str:
    """The date ``offset_days`` from today as ``yyyy-mm-dd`` (DrChrono's date format)."""
    return (dt.date.today() + dt.timedelta(days=int(offset_days))).isoformat()


def date_range(start_offset: int = 0, days: int = 1) -> str:
    """``yyyy-mm-dd/yyyy-mm-dd`` covering ``days`` days from today + ``start_offset``."""
    first = dt.date.today() + dt.timedelta(days=int(start_offset))
    last = first + dt.timedelta(days=max(0, int(days) - 1))
    return f"{first.isoformat()}/{last.isoformat()}"


def unique_chart_id() -> str:
    """A chart id no other run produces: ``HX`` + 10 hex digits."""
    return "HX" + uuid.uuid4().hex[:10].upper()


def helpers() -> dict[str, Any]:
    return {
        "today": today,
        "date": date,
        "date_range": date_range,
        "unique_chart_id": unique_chart_id,
        "uuid": lambda: str(uuid.uuid4()),
        "fake": _FAKE,
    }


_FAKE = _Fake()
# No "env": a template must not read the OS environment (it would send any variable, or all of
# them, to the server and into cassettes). OS values reach templates only as DRCHRONO_* variables.
HELPER_NAMES = frozenset({"today", "date", "date_range", "unique_chart_id", "uuid", "fake"})

# One rendered value (a body, a URL) is never near this; a template that is, is a mistake or an
# attack ('a' * 10**9 asked for 5 GB). Checked while rendering, before the memory is taken.
MAX_TEMPLATE_OUTPUT = 1_000_000
_MAX_POWER_BITS = 4096


class _BoundedEnvironment(SandboxedEnvironment):
    """The sandbox, plus limits on what one template may build: repetition (``*``), powers
    (``**``) and the rendered text. Intercepted operators are also never constant-folded at
    compile time, so the syntax check cannot be made to allocate either."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for sequence, count in ((left, right), (right, left)):
                if (
                    isinstance(sequence, (str, list, tuple))
                    and isinstance(count, int)
                    and len(sequence) * count > MAX_TEMPLATE_OUTPUT
                ):
                    raise TemplateProblem(
                        f"the value would be longer than {MAX_TEMPLATE_OUTPUT:,} characters or "
                        "items (the limit for one templated value)"
                    )
        elif operator == "%" and isinstance(left, str):
            _refuse_large_widths(left)
        elif (
            operator == "**"
            and isinstance(left, int)
            and isinstance(right, int)
            and abs(left) > 1
            and right > 0
            and left.bit_length() * right > _MAX_POWER_BITS
        ):
            raise TemplateProblem(f"the number {left} ** {right} is too large for a template")
        return super().call_binop(context, operator, left, right)

    def wrap_str_format(self, value: Any) -> Any:
        owner = getattr(value, "__self__", None)
        if isinstance(owner, str) and getattr(value, "__name__", "") in ("format", "format_map"):
            _refuse_large_widths(owner)
        return super().wrap_str_format(value)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        # Methods of text and lists that pad take their size as a number ('a'.ljust(n)); str.format
        # (see wrap_str_format) and % take it inside the text ('{:>999999999}').
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, (str, list, tuple)):
            _refuse_large_sizes(args, kwargs.values())
        return super().call(__context, __obj, *args, **kwargs)


def _refuse_large_sizes(*values: Any) -> None:
    for group in values:
        for value in group:
            if isinstance(value, int) and value > MAX_TEMPLATE_OUTPUT:
                raise TemplateProblem(
                    f"the size {value} is larger than {MAX_TEMPLATE_OUTPUT:,}, the limit for one "
                    "templated value"
                )


# A run of more digits than MAX_TEMPLATE_OUTPUT has is a width above it.
_LARGE_WIDTH = re.compile(rf"\d{{{len(str(MAX_TEMPLATE_OUTPUT)) + 1},}}")


def _refuse_large_widths(text: str) -> None:
    if ("{" in text or "%" in text) and _LARGE_WIDTH.search(text):
        raise TemplateProblem(
            f"a width in {text[:40]!r} is larger than {MAX_TEMPLATE_OUTPUT:,}, the limit for one "
            "templated value"
        )


def _bounded_filter(name: str, apply: Callable[..., Any]) -> Callable[..., Any]:
    def bounded(value: Any, *args: Any, **kwargs: Any) -> Any:
        _refuse_large_sizes(args, kwargs.values())
        if name == "format" and isinstance(value, str):
            _refuse_large_widths(value)
        return apply(value, *args, **kwargs)

    return bounded


_environment = _BoundedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)
# Filters whose numeric argument is an output width ('a' | center(999999999)).
for _name in ("center", "indent", "wordwrap", "truncate", "format"):
    _environment.filters[_name] = _bounded_filter(_name, _environment.filters[_name])


def _bounded_render(template: jinja2.Template, context: Mapping[str, Any]) -> str:
    """Render chunk by chunk and stop as soon as the text passes :data:`MAX_TEMPLATE_OUTPUT`
    (a loop inside a loop would otherwise build gigabytes first)."""
    chunks: list[str] = []
    size = 0
    for chunk in template.generate(**context):
        size += len(chunk)
        if size > MAX_TEMPLATE_OUTPUT:
            raise TemplateProblem(
                f"the rendered text is longer than {MAX_TEMPLATE_OUTPUT:,} characters "
                "(the limit for one templated value)"
            )
        chunks.append(chunk)
    return "".join(chunks)


def is_template(value: str) -> bool:
    return "{{" in value or "{%" in value or "{#" in value


def check_syntax(value: str) -> None:
    """Raise :class:`TemplateProblem` when ``value`` is not a valid template."""
    try:
        match = _WHOLE_EXPRESSION.match(value)
        if match and "{{" not in match["expr"] and "}}" not in match["expr"]:
            _environment.compile_expression(match["expr"], undefined_to_none=False)
        else:
            _environment.parse(value)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(f"template syntax error: {exc.message}") from None


def names_used(value: str) -> set[str]:
    """Top-level names a template reads (for the check before anything is sent)."""
    from jinja2 import meta

    try:
        return set(meta.find_undeclared_variables(_environment.parse(value)))
    except jinja2.TemplateSyntaxError:
        return set()


def render(value: Any, context: Mapping[str, Any]) -> Any:
    """Render every string inside ``value`` (nested dicts and lists too)."""
    if isinstance(value, str):
        return render_text(value, context)
    if isinstance(value, list):
        return [render(v, context) for v in value]
    if isinstance(value, dict):
        return {render_text(k, context): render(v, context) for k, v in value.items()}
    return value


def render_text(value: str, context: Mapping[str, Any]) -> Any:
    if not is_template(value):
        return value
    try:
        match = _WHOLE_EXPRESSION.match(value)
        if match and "{{" not in match["expr"] and "}}" not in match["expr"]:
            result = _environment.compile_expression(match["expr"], undefined_to_none=False)(
                **context
            )
            if isinstance(result, jinja2.Undefined):
                result._fail_with_undefined_error()
            return result
        return _bounded_render(_environment.from_string(value), context)
    except jinja2.UndefinedError as exc:
        raise TemplateProblem(f"{exc.message} (in {value!r})") from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(f"template syntax error: {exc.message}") from None
    except jinja2.exceptions.SecurityError as exc:
        raise TemplateProblem(f"not allowed in a scenario template: {exc}") from None
    except TemplateProblem:
        raise
    except Exception as exc:  # a helper raised (bad argument): one line, not a traceback
        raise TemplateProblem(f"{type(exc).__name__}: {exc} (in {value!r})") from None
