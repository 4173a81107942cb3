"""Reporters receive results in plan order: ``start(info)``, ``result(r)`` per request, ``finish(summary)``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.reporters.console import ConsoleReporter
from harness.reporters.json_report import JsonReporter
from harness.reporters.junit import JUnitReporter

if TYPE_CHECKING:
    from harness.reporters.html import HtmlReporter

__all__ = ["ConsoleReporter", "HtmlReporter", "JUnitReporter", "JsonReporter"]


def __getattr__(name: str) -> object:
    # The HTML reporter loads Jinja2 and its template: only for runs that ask for --html.
    if name == "HtmlReporter":
        from harness.reporters.html import HtmlReporter

        return HtmlReporter
    raise AttributeError(f"module 'harness.reporters' has no attribute {name!r}")
