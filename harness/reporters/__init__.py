"""Reporters receive results in plan order: ``start(info)``, ``result(r)`` per request, ``finish(summary)``."""

from harness.reporters.console import ConsoleReporter
from harness.reporters.json_report import JsonReporter
from harness.reporters.junit import JUnitReporter

__all__ = ["ConsoleReporter", "JUnitReporter", "JsonReporter"]
