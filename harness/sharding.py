"""Deterministic sharding: ``--shard K/N`` runs the K-th of N disjoint parts of a plan.

The parts are the scheduler's own units (a collection's top-level folders, a scenario's runs),
joined into *groups* when they depend on each other (a folder reading what another captures, the
data rows of one scenario): a group runs whole in one shard. A group goes to the shard its
*identity* hashes to (the name of its first unit: a folder or a scenario name), not to a shard by
position, so adding a folder or a scenario moves only that one; the price is that shards are
balanced by chance, not by count. Every process computes the same assignment from the plan
alone, so N CI jobs need no coordination, and their results merge back in plan order
(``harness report merge``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass
from typing import TypeVar

from harness.errors import HarnessError

_SHARD = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")

UnitT = TypeVar("UnitT")


@dataclass(frozen=True)
class Shard:
    """The ``index``-th (1-based) of ``count`` shards."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str, *, option: str = "--shard") -> Shard:
        match = _SHARD.fullmatch(text)
        index, count = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
        if not 1 <= index <= count:
            raise HarnessError(
                f"{option} {text!r} is not a shard: give K/N with 1 <= K <= N.",
                hint=f"For example {option} 2/3 runs the second of three shards.",
            )
        return cls(index, count)

    def owns(self, identity: str) -> bool:
        """Whether the group named ``identity`` runs in this shard (the same in every process:
        a hash of the name, not Python's per-process ``hash``)."""
        digest = hashlib.sha256(identity.encode("utf-8")).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index - 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def groups(
    units: Sequence[UnitT],
    *,
    key: Callable[[UnitT], str],
    depends_on: Callable[[UnitT], Set[str]],
) -> list[list[UnitT]]:
    """``units`` joined into groups that must run together, in plan order: units with the same
    ``key``, and units one of which depends on (a unit named by the ``key`` of) the other."""
    parent: dict[str, str] = {}

    def root(name: str) -> str:
        while parent.setdefault(name, name) != name:
            name = parent[name]
        return name

    for unit in units:
        here = root(key(unit))
        for other in depends_on(unit):
            there = root(other)
            if there != here:
                parent[there] = here
    joined: dict[str, list[UnitT]] = {}
    for unit in units:
        joined.setdefault(root(key(unit)), []).append(unit)
    return list(joined.values())


def select(
    units: Sequence[UnitT],
    shard: Shard | None,
    *,
    key: Callable[[UnitT], str],
    depends_on: Callable[[UnitT], Set[str]] = lambda unit: frozenset(),
) -> list[UnitT]:
    """The units of ``shard`` (all of them when ``shard`` is None), in plan order. A group's
    identity is the key of its first unit."""
    if shard is None:
        return list(units)
    kept = {
        id(unit)
        for group in groups(units, key=key, depends_on=depends_on)
        if shard.owns(key(group[0]))
        for unit in group
    }
    return [unit for unit in units if id(unit) in kept]
