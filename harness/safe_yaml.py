"""The YAML loader for files people edit by hand: cassettes, and scenarios too.

PyYAML's composer recurses once per nesting level (a few Python frames each), so a document
nested thousands deep raises RecursionError, or kills the process when the stack is already deep
(libyaml's CSafeLoader overflows the C stack outright). This loader counts the depth while it
composes and stops with an ordinary :class:`yaml.MarkedYAMLError` naming the line, long before
either can happen; every caller already reports those as "not valid YAML at line N".

It stays a subclass of the pure-Python :class:`yaml.SafeLoader`: only plain data is ever built.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import ComposerError

# Real cassettes nest about 6 deep and scenarios about 10. Composing costs 3 Python frames per
# level and a recursive constructor up to 3 more, so 100 levels stay far from the default
# recursion limit of 1000 even when the caller is itself deep in a test framework.
MAX_YAML_NESTING = 100


class NestingLimitedLoader(yaml.SafeLoader):
    """A SafeLoader that refuses collections nested deeper than ``max_nesting``."""

    max_nesting = MAX_YAML_NESTING
    _nesting = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self._nesting >= self.max_nesting:
            raise ComposerError(
                None,
                None,
                f"lists and mappings are nested more than {self.max_nesting} deep",
                self.peek_event().start_mark,
            )
        self._nesting += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._nesting -= 1


def safe_load(text: str) -> Any:
    """``yaml.safe_load`` with the nesting limit."""
    return yaml.load(text, Loader=NestingLimitedLoader)  # noqa: S506 - a SafeLoader subclass


class _LibyamlEventsLoader(NestingLimitedLoader):
    """The same loader reading libyaml's events: for large documents (the 1 MB OpenAPI file).

    libyaml's own loader composes in C, recursively and without a limit (a deep document crashes
    the process); its parser is iterative and about three times faster than PyYAML's, so only
    the events are taken from it and composing stays the guarded one above.
    """

    def __init__(self, stream: str) -> None:
        from yaml._yaml import CParser

        self._events = CParser(stream)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)

    def check_event(self, *choices: Any) -> bool:
        return bool(self._events.check_event(*choices))

    def peek_event(self) -> Any:
        return self._events.peek_event()

    def get_event(self) -> Any:
        return self._events.get_event()

    def dispose(self) -> None:
        self._events.dispose()


FastNestingLimitedLoader: type[NestingLimitedLoader] = (
    _LibyamlEventsLoader if yaml.__with_libyaml__ else NestingLimitedLoader
)
