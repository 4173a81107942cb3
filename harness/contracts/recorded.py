"""What recorded traffic says about the contracts: each cassette interaction checked against them.

This is the other half of ``harness contracts diff``: instead of two contract sets, the contracts
and what DrChrono (or the sandbox) actually answered. Violations are breaking (the contract would
fail real traffic); unknown fields are additive drift (DrChrono promises additive changes only).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.contracts.contract_set import ContractSet


@dataclass
class RecordedFinding:
    cassette: str
    request: str  # "GET /api/patients/5"
    status: int
    breaking: list[str] = field(default_factory=list)
    additive: list[str] = field(default_factory=list)


@dataclass
class RecordedReport:
    interactions: int = 0
    findings: list[RecordedFinding] = field(default_factory=list)

    @property
    def is_breaking(self) -> bool:
        return any(f.breaking for f in self.findings)

    def to_text(self) -> str:
        lines = []
        for finding in self.findings:
            lines.append(f"{finding.cassette}: {finding.request} -> {finding.status}")
            lines += [f"  breaking: {text}" for text in finding.breaking]
            lines += [f"  additive: {text}" for text in finding.additive]
        breaking = sum(len(f.breaking) for f in self.findings)
        additive = sum(len(f.additive) for f in self.findings)
        lines.append(
            f"Checked {self.interactions} recorded interaction(s): {breaking} breaking, "
            f"{additive} additive difference(s) from the contracts."
        )
        return "\n".join(lines)


def check_recorded(
    contracts: ContractSet, cassettes: Iterable[tuple[str, dict[str, Any]]]
) -> RecordedReport:
    """``cassettes``: (name, cassette document) pairs as the cassette loader returns them."""
    report = RecordedReport()
    for name, document in cassettes:
        for interaction in document.get("interactions", []):
            request, response = interaction["request"], interaction["response"]
            method, uri = str(request["method"]).upper(), str(request["uri"])
            status = int(response["status"]["code"])
            checked = contracts.check(
                method=method,
                url=uri,
                status=status,
                content_type=_header(response.get("headers") or {}, "content-type"),
                body=(response.get("body") or {}).get("string") or b"",
                strict=False,
            )
            report.interactions += 1
            path = uri.split("://", 1)[-1].partition("/")[2].partition("?")[0]
            finding = RecordedFinding(name, f"{method} /{path}", status)
            if checked.operation is None:
                finding.breaking.append("no contract matches this method and path")
            finding.breaking += [f"{v.json_path}: {v.message}" for v in checked.violations]
            finding.additive += [f"{field} is not in the contract" for field in checked.drift]
            if finding.breaking or finding.additive:
                report.findings.append(finding)
    return report


def load_recorded(paths: Iterable[Path]) -> list[tuple[str, dict[str, Any]]]:
    from harness.cassettes.persister import load_document
    from harness.cassettes.scan import cassette_files

    return [(str(path), load_document(path)) for path in cassette_files(paths)]


def _header(headers: dict[str, Any], name: str) -> str | None:
    for key, values in headers.items():
        if key.lower() == name:
            return values[0] if isinstance(values, list) and values else str(values)
    return None
