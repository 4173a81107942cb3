"""Deterministic sharding: ``--shard K/N`` runs the K-th of N disjoint parts of a plan.

The parts are the scheduler's own units (a collection's top-level folders, a scenario's runs).
Units are ranked by a hash of their *identity* (a folder's or scenario's name; a scenario's data
rows share it) and the ranking is cut into N equal runs: shards own the same number of units (give
or take one), and adding a folder or a scenario moves at most one other unit across each cut,
where cutting by plan position would move every unit after it. Every process computes the same
assignment from the plan alone, so N CI jobs need no coordination.

A folder often reads what another captures (every folder of the full DrChrono collection reads
the records its Setup folder makes): a shard then also runs those folders, first, for its own
folders' sake, and the clean-up folders that delete what they made, but reports only what it owns.
So each result is reported by exactly one shard, and ``harness report merge`` puts the shards'
results back in plan order as one unsharded run's.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence, Set
from dataclasses import dataclass
from typing import Generic, TypeVar

from harness.errors import HarnessError

_SHARD = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")

UnitT = TypeVar("UnitT")


def _digest(name: str) -> bytes:
    return hashlib.sha256(name.encode("utf-8")).digest()


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

    def owned(self, identities: Iterable[str]) -> set[str]:
        """The identities (folder or scenario names) this shard owns, the same in every process.

        The distinct identities are ranked by a hash of the name (not Python's per-process
        ``hash``) and cut into N runs of equal length: shards differ by at most one unit, and a
        new unit moves at most one other across each of the N - 1 cuts."""
        ranked = sorted(set(identities), key=lambda name: (_digest(name), name))
        return {
            name
            for rank, name in enumerate(ranked)
            if rank * self.count // len(ranked) == self.index - 1
        }

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def select(
    units: Sequence[UnitT], shard: Shard | None, *, key: Callable[[UnitT], str]
) -> list[UnitT]:
    """The units ``shard`` owns (all of them when ``shard`` is None), in plan order. Units with
    the same key (a scenario's data rows) go to the same shard."""
    if shard is None:
        return list(units)
    owned = shard.owned(key(unit) for unit in units)
    return [unit for unit in units if key(unit) in owned]


@dataclass(frozen=True)
class ShardRun(Generic[UnitT]):
    """A unit a shard runs: one it owns and reports, or one it runs only because a unit it owns
    depends on it (``owned`` False: the shard that owns it reports it, so a merged report has
    its results once)."""

    unit: UnitT
    owned: bool


def with_dependencies(
    units: Sequence[UnitT],
    shard: Shard | None,
    *,
    key: Callable[[UnitT], str],
    depends_on: Callable[[UnitT], Set[str]],
    cleans_up: Callable[[UnitT], bool] = lambda unit: False,
) -> list[ShardRun[UnitT]]:
    """What ``shard`` runs, in plan order: the units it owns (see :meth:`Shard.owned`) and
    their *dependency closure*, the units they read captured values from, transitively.

    A *clean-up* unit (``cleans_up``: it only deletes what the units it depends on made) runs
    wherever one of those units runs, so that every shard that made a setup's records also
    deletes them; it is reported by the shard that owns it, like any other unit."""
    if shard is None:
        return [ShardRun(unit, True) for unit in units]
    by_key: dict[str, list[UnitT]] = {}
    for unit in units:
        by_key.setdefault(key(unit), []).append(unit)
    owned = shard.owned(by_key)
    needed: set[str] = set()

    def need(name: str) -> None:
        pending = [name]
        while pending:
            name = pending.pop()
            if name in needed or name not in by_key:
                continue
            needed.add(name)
            pending += [d for unit in by_key[name] for d in depends_on(unit)]

    for name in owned:
        need(name)
    cleanups = [name for name, same in by_key.items() if any(cleans_up(u) for u in same)]
    grown = True
    while grown:  # a clean-up may need a unit that has a clean-up of its own
        grown = False
        for name in cleanups:
            if name not in needed and any(needed & depends_on(unit) for unit in by_key[name]):
                need(name)
                grown = True
    return [ShardRun(unit, key(unit) in owned) for unit in units if key(unit) in needed]
