"""Where the project's shipped data lives (the package is installed editable from the checkout)."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
COLLECTIONS_DIR = PROJECT_ROOT / "collections"
CONTRACTS_DIR = PROJECT_ROOT / "contracts"
CASSETTES_DIR = PROJECT_ROOT / "cassettes"
SCENARIOS_DIR = PROJECT_ROOT / "scenarios"
OPENAPI_DOCUMENT = CONTRACTS_DIR / "drchrono-openapi.yml"
DEFAULT_COLLECTION = COLLECTIONS_DIR / "drchrono.postman_collection.json"
SANDBOX_ENVIRONMENT = COLLECTIONS_DIR / "sandbox.postman_environment.json"
