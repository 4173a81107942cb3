"""Which documented (operation, status) pairs a run exercised."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Coverage:
    defined: dict[str, tuple[int, ...]]  # "GET /api/patients/{id}" -> documented statuses
    exercised: dict[str, tuple[int, ...]]  # documented operation -> documented statuses seen
    undocumented: tuple[tuple[str, int], ...]  # (operation, status) seen but not in the contract

    @classmethod
    def build(
        cls, defined: dict[str, tuple[int, ...]], seen: Iterable[tuple[str, int]]
    ) -> Coverage:
        exercised: dict[str, set[int]] = {}
        undocumented: set[tuple[str, int]] = set()
        for operation, status in seen:
            if operation in defined and status in defined[operation]:
                exercised.setdefault(operation, set()).add(status)
            elif operation:
                undocumented.add((operation, status))
        return cls(
            defined=dict(sorted(defined.items())),
            exercised={k: tuple(sorted(v)) for k, v in sorted(exercised.items())},
            undocumented=tuple(sorted(undocumented)),
        )

    @property
    def operations_total(self) -> int:
        return len(self.defined)

    @property
    def operations_exercised(self) -> int:
        return len(self.exercised)

    @property
    def statuses_total(self) -> int:
        return sum(len(s) for s in self.defined.values())

    @property
    def statuses_exercised(self) -> int:
        return sum(len(s) for s in self.exercised.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "operations": {"exercised": self.operations_exercised, "total": self.operations_total},
            "statuses": {"exercised": self.statuses_exercised, "total": self.statuses_total},
            "by_operation": {
                key: {"exercised": list(self.exercised[key]), "defined": list(self.defined[key])}
                for key in self.exercised
            },
            "undocumented": [{"operation": o, "status": s} for o, s in self.undocumented],
        }

    def to_text(self, *, all_operations: bool = False) -> str:
        """A table of exercised operations (every operation with ``all_operations``) and totals."""
        rows = [
            (key, self.exercised.get(key, ()), statuses)
            for key, statuses in self.defined.items()
            if all_operations or key in self.exercised
        ]
        width = max([len("operation"), *(len(r[0]) for r in rows)])
        lines = [f"{'operation':<{width}}  statuses exercised / documented"]
        for key, seen, statuses in rows:
            marks = " ".join(f"[{s}]" if s in seen else f" {s} " for s in statuses)
            lines.append(f"{key:<{width}}  {len(seen)}/{len(statuses)}  {marks}")
        for operation, status in self.undocumented:
            lines.append(f"{operation:<{width}}  undocumented status {status}")
        lines.append(
            f"Covered {self.operations_exercised} of {self.operations_total} operations and "
            f"{self.statuses_exercised} of {self.statuses_total} documented statuses."
        )
        return "\n".join(lines)
