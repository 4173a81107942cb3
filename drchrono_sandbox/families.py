"""Every resource family of DrChrono's API as a stateful :class:`~.resources.Resource`.

A family is a path pair ``/api/{name}`` and ``/api/{name}/{id}`` whose success answers the
contracts shape with one component schema (``schemas/Patient.json`` or ``schemas/lists/...``).
The hand-written resources of :mod:`.resources` keep their rules (duplicate patients, overlapping
appointments, filters); every other family is derived here from the OpenAPI document and the
corrected contracts:

- the record schema and id type (integer, or text like ``Appointment.id``) from the contracts;
- required fields from the document's component ``required`` list (only writable ones), and
  required query parameters of a create (``signed_consent_forms`` names its patient there);
- foreign keys from field names (``patient``, ``doctor``, ``lab_order``...), checked on writes;
- list filters from the query parameters the list operation declares that name record fields;
- soft delete where the record carries ``deleted_flag``.

Two families showing the same component over one table share it: ``appointments_list`` and
``patients_summary`` serve the appointments and patients the hand-written resources keep.

Generic families are seeded lazily, on the first request that touches one, so starting a
sandbox costs no more than before: a few records each, deterministic from the store's seed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
import threading
from collections.abc import Mapping
from typing import Any

from drchrono_sandbox.generate import ValueMaker, stable_int, with_faker
from drchrono_sandbox.openapi_ops import OpenAPIDocument, Operation
from drchrono_sandbox.resources import RESOURCES, BadRequest, Records, Resource, exact, since_filter
from drchrono_sandbox.shapes import ContractShapes, primary_type
from drchrono_sandbox.state import Store

COMPONENT_FILE = re.compile(r"schemas/(?:lists/)?(\w+)\.json")
# Query parameters that page or shape a list rather than filter it.
NOT_FILTERS = frozenset({"cursor", "page_size", "verbose", "since"})
# Foreign keys by field name -> the family whose records they name. A name is a key only where
# the contract types it integer, or it is one of the four DrChrono links every client knows
# (``doctor`` is typed string on a dozen schemas): ``document`` is a file URL on documents.
FOREIGN_KEYS = {
    "doctor": "doctors",
    "provider": "doctors",
    "ordering_doctor": "doctors",
    "patient": "patients",
    "office": "offices",
    "appointment": "appointments",
    "lab_order": "lab_orders",
    "lab_test": "lab_tests",
    "document": "lab_documents",
    "consent_form": "consent_forms",
    "sublab": "sublabs",
    "task": "tasks",
    "profile": "appointment_profiles",
}
ANY_TYPE_KEYS = frozenset({"doctor", "patient", "office", "appointment"})
# Histories read by another family's id (the records carry no id, nor the id they belong to):
# GET /api/telehealth_appointment_history/{id} is the history of appointment {id}.
HISTORIES = {"telehealth_appointment_history": "appointments"}
# What a telehealth appointment's last event is, by the appointment's status.
TELEHEALTH_EVENTS = {
    "Arrived": ("patient_joined", "The patient joined the waiting room."),
    "Checked In Online": ("patient_joined", "The patient joined the waiting room."),
    "In Session": ("session_started", "The provider started the video session."),
    "Complete": ("session_ended", "The video session ended."),
    "Cancelled": ("appointment_cancelled", "The telehealth appointment was cancelled."),
    "No Show": ("session_expired", "The patient did not join the session."),
}
SCHEDULED_EVENT = ("appointment_scheduled", "The telehealth appointment was scheduled.")


@dataclasses.dataclass(frozen=True)
class Catalog:
    """The stateful families by name (path segment), hand-written and derived."""

    families: Mapping[str, Resource]

    def family_of(self, op: Operation) -> Resource | None:
        parts = op.template.strip("/").split("/")
        return self.families.get(parts[1]) if len(parts) >= 2 and parts[0] == "api" else None

    def kind(self, op: Operation) -> str | None:
        """'list', 'create', 'retrieve', 'update', 'delete' when state serves ``op``, else None."""
        parts = op.template.strip("/").split("/")
        if len(parts) < 2 or parts[0] != "api" or parts[1] not in self.families:
            return None
        if len(parts) == 2:
            return {"GET": "list", "POST": "create"}.get(op.method)
        if len(parts) == 3 and parts[2] == "{id}":
            return {
                "GET": "retrieve",
                "PUT": "update",
                "PATCH": "update",
                "DELETE": "delete",
            }.get(op.method)
        return None


@functools.lru_cache(maxsize=4)
def catalog_for(doc: OpenAPIDocument, shapes: ContractShapes) -> Catalog:
    components: dict[str, str] = {}
    for op in doc.operations:
        parts = op.template.strip("/").split("/")
        if parts[0] != "api" or len(parts) not in (2, 3) or parts[-1:] == ["current"]:
            continue
        if len(parts) == 3 and parts[2] != "{id}":
            continue
        found = COMPONENT_FILE.fullmatch(shapes.schema_file(op.key, op.success_status) or "")
        if found and found.group(1) in shapes.components:
            components.setdefault(parts[1], found.group(1))
    families: dict[str, Resource] = {}
    by_component = {r.schema: r for r in RESOURCES.values()}
    for name, component in sorted(components.items()):
        if name in RESOURCES:
            families[name] = RESOURCES[name]
        elif component in by_component:  # appointments_list, patients_summary
            base = by_component[component]
            families[name] = dataclasses.replace(base, name=name, table_name=base.table)
        else:
            families[name] = derive(name, component, doc, shapes)
    for name, owner in HISTORIES.items():
        if name in families and owner in families:
            families[name] = dataclasses.replace(families[name], history_of=owner)
    # A summary view over a generic family's table (lab_orders_summary over lab_orders).
    for name, resource in list(families.items()):
        for other, base in families.items():
            if other != name and name.startswith(other) and base.schema == resource.schema:
                families[name] = dataclasses.replace(base, name=name, table_name=base.table)
    return Catalog(families)


def derive(name: str, component: str, doc: OpenAPIDocument, shapes: ContractShapes) -> Resource:
    props: Mapping[str, Any] = shapes.components[component].get("properties") or {}
    writable = {k for k, v in props.items() if not (v or {}).get("readOnly")}
    raw_required = doc.resolve(doc.schemas.get(component) or {}).get("required") or []
    required = tuple(f for f in raw_required if f in writable)
    create = doc.operation("POST", f"/api/{name}")
    query_fields = tuple(
        p for p in (create.required_query if create else ()) if p in writable and p not in required
    )
    references = {}
    for field_name, schema in props.items():
        target = FOREIGN_KEYS.get(field_name)
        kind = primary_type(shapes.resolve(schema or {}))
        if target and target != name and (field_name in ANY_TYPE_KEYS or kind == "integer"):
            references[field_name] = target
    filters: dict[str, Any] = {}
    lister = doc.operation("GET", f"/api/{name}")
    for param in lister.query_names if lister else ():
        if param in props and param not in NOT_FILTERS:
            filters[param] = exact(param)
    if "updated_at" in props:
        filters["since"] = since_filter("updated_at")
    id_kind = primary_type(shapes.resolve(props.get("id") or {}))
    key_field: str | None = "id"
    if "id" not in props:
        named = [f for f in props if f in required and (f in references or f.endswith("_id"))]
        # A directory record names itself by its one ``*_id`` field (an insurance by payer_id).
        named = named or [f for f in props if f.endswith("_id") and f in writable]
        key_field = named[0] if len(named) == 1 else None
    return Resource(
        name,
        component,
        required + query_fields,
        filters,
        id_start=1_000 + stable_int(name) % 900 * 10_000,
        string_ids=id_kind == "string",
        references=references,
        soft_delete="deleted_flag" in props,
        generic=True,
        key_field=key_field,
    )


# -- lazy seeding ---------------------------------------------------------------------------
_seed_lock = threading.RLock()
SEEDED_KEY = "seeded_families"


def ensure_seeded(
    store: Store, catalog: Catalog, shapes: ContractShapes, resource: Resource, count: int
) -> None:
    """Give a generic family its seeded records the first time anything touches it."""
    if not resource.generic:
        return
    with _seed_lock, store.lock:
        seeded: list[str] = store.meta.setdefault(SEEDED_KEY, [])
        if resource.table in seeded:
            return
        seeded.append(resource.table)  # first, so foreign keys that loop back stop here
        # Foreign keys name seeded records: the first of the target family, or for the field
        # that names the record (a telehealth appointment's appointment) one each.
        linked: dict[str, list[Any]] = {}
        props = shapes.components[resource.schema].get("properties") or {}
        for field_name, target_name in resource.references.items():
            target = catalog.families.get(target_name)
            if target is None:
                continue
            ensure_seeded(store, catalog, shapes, target, count)
            kind = primary_type(shapes.resolve(props.get(field_name) or {}))
            ids = [r["id"] for r in store.table(target.table).values() if "id" in r][:count]
            if ids:
                linked[field_name] = [str(i) if kind == "string" else _as_int(i) for i in ids]
        seed = stable_int(store.seed, "family", resource.table)
        # Dates around the practice's anchor day, so a fixed anchor gives the same records.
        anchor_text = store.meta.get("anchor_date")
        anchor = dt.date.fromisoformat(anchor_text) if anchor_text else None

        def make(fake: Any) -> list[dict[str, Any]]:
            made = []
            for n in range(count):
                refs = {
                    name: ids[n % len(ids) if name == resource.key_field else 0]
                    for name, ids in linked.items()
                }
                maker = ValueMaker(fake, shapes.resolve, refs=refs, anchor=anchor)
                made.append(maker.obj(shapes.components[resource.schema]))
            return made

        records = Records(store, resource, shapes.components, shapes.resolve)
        for record in with_faker(seed, make):
            if resource.soft_delete:
                record["deleted_flag"] = False
            try:
                key = records.new_key(record)
            except BadRequest:
                continue  # fewer target records than seeds: one each
            store.table(resource.table)[key] = record
        store.save()


def _as_int(value: Any) -> Any:
    return int(value) if isinstance(value, str) and value.isdigit() else value


def history_event(owner: Mapping[str, Any]) -> dict[str, Any]:
    """The last event of an appointment's telehealth history, from the appointment itself."""
    event_type, description = TELEHEALTH_EVENTS.get(str(owner.get("status")), SCHEDULED_EVENT)
    when = owner.get("updated_at") or owner.get("created_at") or owner.get("scheduled_time")
    return {"description": description, "event_type": event_type, "timestamp": when}
