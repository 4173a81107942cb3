"""Where the shipped DrChrono data lives, and where a user's own files go by default.

The shipped data (the DrChrono collection and environments, the contracts and the OpenAPI
document) is found inside the installed ``harness`` package through :mod:`importlib.resources`,
so an editable checkout and an installed wheel find it the same way. In the repository,
``harness/data/collections`` and ``harness/data/contracts`` are symbolic links to the top-level
``collections/`` and ``contracts/`` directories (one copy of the data); building the wheel copies
the linked files into the package (``tool.setuptools.package-data``). See docs/ARCHITECTURE.md.

What a user writes (cassettes, scenarios) is relative to the working directory, never to the
harness's install location.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

# The harness reads its data as plain files (jsonschema references, the sandbox's OpenAPI):
# it is installed unzipped, where files() is a real directory.
DATA_DIR = Path(str(files("harness") / "data"))
COLLECTIONS_DIR = DATA_DIR / "collections"
CONTRACTS_DIR = DATA_DIR / "contracts"
OPENAPI_DOCUMENT = CONTRACTS_DIR / "drchrono-openapi.yml"
DEFAULT_COLLECTION = COLLECTIONS_DIR / "drchrono.postman_collection.json"
SANDBOX_ENVIRONMENT = COLLECTIONS_DIR / "sandbox.postman_environment.json"
LIVE_ENVIRONMENT = COLLECTIONS_DIR / "drchrono.postman_environment.json"

# Relative: `harness run --record` in a project writes ./cassettes of that project.
CASSETTES_DIR = Path("cassettes")

# The checkout of this repository (its tests, benchmarks and example scenarios); meaningless in
# an installed wheel, so only tests and benchmarks use it.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
SCENARIOS_DIR = PROJECT_ROOT / "scenarios"
