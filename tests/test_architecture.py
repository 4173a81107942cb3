"""Import rules between the harness's modules and the sandbox product (docs/ARCHITECTURE.md,
"Import rules"). Every import counts, also those inside functions (lazy) and TYPE_CHECKING blocks.

- Feature packages import only core modules and their own package (exceptions listed below).
- Core modules import no feature package, and not the composition roots; only ``session/``,
  ``cli.py`` and ``pytest_plugin.py`` put features together.
- ``drchrono_sandbox`` imports nothing from ``harness``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HARNESS = ROOT / "harness"

# harness/scripting/ is core, not a feature: a request's pre-request and test scripts are part of
# what the request is (Postman's model), so the exchange runs them like it builds the request.
FEATURES = frozenset({"auth", "cassettes", "contracts", "reporters", "scenarios"})
# May import features: they build a run (or a command) out of them.
COMPOSITION_ROOTS = frozenset({"session", "cli", "pytest_plugin"})
# (importing part, imported module prefix): the documented exceptions.
ALLOWED = frozenset(
    {
        # Contracts checked against what was recorded read cassettes through their reader API.
        ("contracts", "harness.cassettes.persister"),
        ("contracts", "harness.cassettes.scan"),
        # The package's public API names session objects (loaded lazily, PEP 562).
        ("__init__", "harness.session"),
    }
)


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _part(path: Path) -> str:
    """The package (``auth``) or top-level module (``sender``) a harness file belongs to."""
    relative = path.relative_to(HARNESS).parts
    return relative[0] if len(relative) > 1 else relative[0].removesuffix(".py")


def _allowed(part: str, module: str) -> bool:
    return any(part == p and (module == m or module.startswith(m + ".")) for p, m in ALLOWED)


def _harness_violations() -> list[str]:
    found = []
    for path in sorted(HARNESS.rglob("*.py")):
        part = _part(path)
        for module in sorted(_imports(path)):
            pieces = module.split(".")
            if pieces[0] != "harness" or len(pieces) < 2 or pieces[1] == part:
                continue
            target = pieces[1]
            if part in COMPOSITION_ROOTS or _allowed(part, module):
                continue
            if target in FEATURES or target in COMPOSITION_ROOTS:
                found.append(f"{path.relative_to(ROOT)} imports {module}")
    return found


def test_features_and_core_keep_to_the_import_rules() -> None:
    assert _harness_violations() == []


def test_the_rule_check_sees_a_sideways_import(tmp_path: Path) -> None:
    # The walk finds lazy imports inside functions too, not only those at the top of a file.
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from harness.cassettes.scrub import Scrubber\n")
    assert "harness.cassettes.scrub" in _imports(source)
    assert not _allowed("scenarios", "harness.cassettes.scrub")
    assert _allowed("contracts", "harness.cassettes.scan")


def test_the_sandbox_imports_nothing_from_the_harness() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            name for name in _imports(path) if name.split(".")[0] == "harness"
        )
        for path in sorted((ROOT / "drchrono_sandbox").rglob("*.py"))
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def _module_rows(section: str) -> str:
    """The module-table rows (lines starting with ``|``) of one ``## `` section of ARCHITECTURE.md."""
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    return "\n".join(line for line in body.splitlines() if line.startswith("|"))


def test_every_harness_module_and_package_has_a_row_in_the_module_map() -> None:
    rows = _module_rows("Module map")
    names = [f"`harness/{p.name}`" for p in sorted(HARNESS.glob("*.py")) if p.name != "__init__.py"]
    names += [
        f"`harness/{p.name}/`"
        for p in sorted(HARNESS.iterdir())
        if p.is_dir() and not p.name.startswith(("_", "."))
    ]
    assert [name for name in names if name not in rows] == []


def test_every_sandbox_module_is_described_in_the_module_map() -> None:
    rows = _module_rows("Module map")
    sandbox = ROOT / "drchrono_sandbox"
    names = [f"`{p.name}`" for p in sorted(sandbox.glob("*.py")) if p.name != "__init__.py"]
    assert [name for name in names if name not in rows] == []


def test_every_module_of_a_harness_package_is_named_in_its_package_rows() -> None:
    rows = _module_rows("Module map").splitlines()
    missing = []
    for package in sorted(p for p in HARNESS.iterdir() if (p / "__init__.py").is_file()):
        package_rows = "\n".join(row for row in rows if f"`harness/{package.name}/`" in row)
        missing += [
            f"harness/{package.name}/{module.name}"
            for module in sorted(package.glob("*.py"))
            if module.name != "__init__.py" and f"`{module.name}`" not in package_rows
        ]
    assert missing == []
