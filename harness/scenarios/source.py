"""Read YAML safely while keeping where every key and value came from.

Scenario errors must name the file, line and column. PyYAML's node graph has those marks; this
loader (a :class:`yaml.SafeLoader` subclass, so only plain data is ever built, and one that refuses
excessive nesting before the recursive composer can overflow the stack) turns mappings and
sequences into :class:`Located` containers that remember the mark of each entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.errors import InputError
from harness.safe_yaml import NestingLimitedLoader
from harness.scenarios.matchers import register as register_matchers


@dataclass(frozen=True, slots=True)
class Location:
    """A position in a scenario file (1-based line and column, as editors show them)."""

    file: Path
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    @classmethod
    def of(cls, mark: yaml.Mark | None, file: Path) -> Location:
        if mark is None:
            return cls(file, 1, 1)
        return cls(file, mark.line + 1, mark.column + 1)


class LocatedDict(dict[str, Any]):
    """A mapping that knows where it starts, where each key is, and where each value is."""

    location: Location
    key_locations: dict[str, Location]
    value_locations: dict[str, Location]

    def key_at(self, key: str) -> Location:
        return self.key_locations.get(key, self.location)

    def value_at(self, key: str) -> Location:
        return self.value_locations.get(key, self.key_at(key))


class LocatedList(list[Any]):
    location: Location
    item_locations: list[Location]

    def item_at(self, index: int) -> Location:
        if 0 <= index < len(self.item_locations):
            return self.item_locations[index]
        return self.location


class ScenarioError(InputError):
    """A scenario file is wrong; the message starts with ``file:line:column``."""

    def __init__(self, where: Location, problem: str, *, hint: str | None = None) -> None:
        self.where = where
        super().__init__(
            f"{where}: {problem}",
            hint=hint or "Fix the scenario file (docs/SCENARIOS.md describes the format).",
        )


# Values in a scenario file once every alias (*name) is expanded: a hand-written file has a few
# thousand. Aliases of aliases grow exponentially ("billion laughs"): nine lines make 10**9
# values, which every later walk over the data (checks, rendering, reports) would visit.
MAX_EXPANDED_VALUES = 100_000


def _refuse_alias_bombs(root: yaml.Node, file: Path) -> None:
    """Count the values ``root`` stands for with aliases expanded; refuse past the limit."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        if isinstance(node, yaml.SequenceNode):
            total = 1 + sum(size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total = 1 + sum(size(key) + size(value) for key, value in node.value)
        else:
            total = 1
        if total > MAX_EXPANDED_VALUES:
            raise ScenarioError(
                Location.of(node.start_mark, file),
                f"this value expands to more than {MAX_EXPANDED_VALUES:,} values through YAML "
                "aliases (*name), the limit for a scenario file",
                hint="Repeat fewer aliases, or put large data in a data file ('data: rows.csv').",
            )
        sizes[id(node)] = total
        return total

    size(root)


def _make_loader(file: Path) -> type[yaml.SafeLoader]:
    class Loader(NestingLimitedLoader):
        def get_single_node(self) -> yaml.Node | None:
            node = super().get_single_node()
            if node is not None:
                _refuse_alias_bombs(node, file)
            return node

    def mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> LocatedDict:
        built = LocatedDict()
        built.location = Location.of(node.start_mark, file)
        built.key_locations, built.value_locations = {}, {}
        loader.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                raise ScenarioError(
                    Location.of(key_node.start_mark, file),
                    f"keys must be text, not {type(key).__name__} ({key!r})",
                    hint="Quote the key.",
                )
            if key in built:
                raise ScenarioError(
                    Location.of(key_node.start_mark, file),
                    f"key '{key}' appears twice in the same mapping",
                    hint="Remove one of them.",
                )
            built[key] = loader.construct_object(value_node, deep=True)
            built.key_locations[key] = Location.of(key_node.start_mark, file)
            built.value_locations[key] = Location.of(value_node.start_mark, file)
        return built

    def sequence(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> LocatedList:
        built = LocatedList(loader.construct_object(child, deep=True) for child in node.value)
        built.location = Location.of(node.start_mark, file)
        built.item_locations = [Location.of(child.start_mark, file) for child in node.value]
        return built

    register_matchers(Loader)
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, sequence)
    return Loader


def load_yaml(text: str, file: Path) -> Any:
    """Parse one YAML document into plain data with :class:`Located` containers."""
    try:
        return yaml.load(text, Loader=_make_loader(file))  # noqa: S506 - a SafeLoader subclass
    except ScenarioError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "not valid YAML"
        raise ScenarioError(
            Location.of(mark, file),
            f"not valid YAML: {problem}",
            hint="Check the indentation and quoting at that position.",
        ) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(Location(file, 1, 1), f"not valid YAML: {exc}") from None


def read_yaml_file(path: Path) -> Any:
    from harness.json_input import read_input_text

    text = read_input_text(path, what="scenario file", hint="Check the path you passed.")
    return load_yaml(text, path)
