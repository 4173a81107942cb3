"""JSON-schema contracts derived from DrChrono's OpenAPI document, with reviewed corrections.

``import_contracts`` turns the published document plus ``corrections.yaml`` into JSON Schema
2020-12 files and an index; :class:`ContractSet` loads them and checks responses at run time.
"""

from __future__ import annotations

from harness.contracts.contract_set import ContractSet
from harness.contracts.coverage import Coverage
from harness.contracts.diff import ContractDiff, diff_contracts
from harness.contracts.importer import build_contracts, import_contracts
from harness.contracts.report import ContractReport, Violation

__all__ = [
    "ContractDiff",
    "ContractReport",
    "ContractSet",
    "Coverage",
    "Violation",
    "build_contracts",
    "diff_contracts",
    "import_contracts",
]
