"""DrChrono's batch endpoints (``/api/patients_list`` and the six like it), served from state.

``POST /api/{family}_list`` files a request for the family's records, filtered like
``GET /api/{family}``, and answers 201 with its ``uuid``; ``GET /api/{family}_list?uuid=...``
answers that batch (``status: "Complete"`` at once: the sandbox has nothing to wait for), and
without a ``uuid`` (where the document allows it) files and answers one in a single call.
The records are those of the family at the time of the GET, as the sandbox keeps no snapshot.
"""

from __future__ import annotations

import uuid as uuid_module
from collections.abc import Mapping
from typing import Any

from drchrono_sandbox.families import Catalog
from drchrono_sandbox.openapi_ops import Operation
from drchrono_sandbox.resources import Resource
from drchrono_sandbox.shapes import ContractShapes
from drchrono_sandbox.state import Store

SUFFIX = "_list"
TABLE = "batch_requests"
COMPLETE = "Complete"


def batch_family(op: Operation, catalog: Catalog) -> Resource | None:
    """The family a batch operation lists (patients for /api/patients_list), else None."""
    parts = op.template.strip("/").split("/")
    if len(parts) != 2 or not parts[1].endswith(SUFFIX) or parts[1] in catalog.families:
        return None
    return catalog.families.get(parts[1].removesuffix(SUFFIX))


def file_request(store: Store, family: Resource, query: Mapping[str, str]) -> str:
    """Store a batch request; returns its uuid."""
    key = str(uuid_module.uuid4())
    with store.lock:
        store.table(TABLE)[key] = {"family": family.name, "query": dict(query)}
        store.save()
    return key


def filed_query(store: Store, family: Resource, key: str) -> dict[str, str] | None:
    """The query of batch ``key`` of ``family``, None when there is no such batch."""
    with store.lock:
        filed = store.table(TABLE).get(key)
    if filed is None or filed.get("family") != family.name:
        return None
    return dict(filed.get("query") or {})


def created_answer(key: str, list_url: str) -> dict[str, Any]:
    return {
        "uuid": key,
        "status": COMPLETE,
        "description": f"Load the batch with GET {list_url}?uuid={key}",
    }


def batch_answer(
    shapes: ContractShapes, op: Operation, key: str, records: list[dict[str, Any]]
) -> dict[str, Any]:
    """The batch as the operation's contract shapes it (some carry a ``pagination`` block)."""
    answer: dict[str, Any] = {"uuid": key, "status": COMPLETE, "results": records}
    schema = shapes.response(op.key, op.success_status) or {}
    if "pagination" in (schema.get("properties") or {}):
        answer["pagination"] = {"count": len(records), "page": 1, "pages": 1}
    return answer
