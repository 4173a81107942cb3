"""What one contract check found: violations (always fail) and drift (fails only when strict)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Violation:
    """One broken promise. Never carries an instance value: only JSON types and lengths (PHI)."""

    json_path: str  # "$.results[3].date_of_birth"; "$" for the whole body or the response line
    rule: str  # "type", "required", "enum", "status", "content_type", "json", "trailing_slash"...
    expected: str
    actual: str
    message: str

    def __str__(self) -> str:
        return f"{self.json_path}: {self.message}"


@dataclass
class ContractReport:
    operation: str | None  # "GET /api/patients/{id}"; None when no operation matches the path
    violations: list[Violation] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)  # unknown fields: "$.results[0].new_field"

    @property
    def ok(self) -> bool:
        return not self.violations
