"""``--fill-placeholders``: values for a converter's ``<type>`` placeholders, from real data.

- a path id of a read comes from the target's own records: the collection endpoint above it is
  listed (``GET /api/doctors`` for ``/api/doctors/:id``) and its first record's id taken;
- a path id of an update or a delete is a record the run makes for it (``POST /api/doctors``
  with the record's required fields), never one the target had: on live DrChrono that would be a
  practice's own patient (``change_existing``, ``--fill-placeholders=existing``, allows the
  target's own where DrChrono documents no create). Records the run made and did not delete are
  deleted by :meth:`PlaceholderFiller.clean_up` when the run ends;
- a query parameter the contract requires (or a filter DrChrono requires without the document
  saying so, :data:`REQUIRED_FILTERS`) gets a plausible value; an optional one is dropped;
- a body field gets a value when the request schema requires it or its value can be known (a
  foreign key from the records, an enum, a date); other optional fields are dropped.

A foreign key (``doctor``, ``patient_id``...) is an id listed from the matching collection
endpoint. Every choice is a :class:`~harness.placeholders.Fill` with its reason, for the reports.
The records are read through ``fetch`` (the exchange sends it like any request of the run).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from harness.collection import Body, KeyValue, RequestItem, Url
from harness.json_input import loads_json
from harness.placeholders import Fill, FillValue, Placeholder, apply_fills

# Filters DrChrono refuses a list without, that its OpenAPI document leaves optional
# (FACTS: GET /api/appointments needs one of since, occurred_since, date, date_range).
REQUIRED_FILTERS: Mapping[str, Mapping[str, str]] = {
    "GET /api/appointments": {"since": "2000-01-01"},
    "GET /api/appointments_list": {"since": "2000-01-01"},
}
# A fixed day, far from now, so that filled runs are reproducible (and match cassettes).
FILL_DAY = datetime.date(2030, 6, 3)
# Foreign keys whose collection is not their name plus "s".
_FOREIGN_KEYS = {"provider": "/api/doctors", "template": "/api/clinical_note_templates"}
_API = re.compile(r"/api(/|$)")


class ParameterSpec(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def location(self) -> str: ...
    @property
    def required(self) -> bool: ...
    @property
    def type(self) -> str | None: ...
    @property
    def schema(self) -> Mapping[str, Any]: ...


class RequestSpec(Protocol):
    @property
    def operation(self) -> str: ...
    @property
    def body_media(self) -> str | None: ...
    @property
    def parameters(self) -> Sequence[ParameterSpec]: ...
    def parameter(self, location: str, name: str) -> ParameterSpec | None: ...


class RequestContracts(Protocol):
    """What filling and request checks need of the contracts (``harness.contracts.ContractSet``)."""

    def request_contract(self, method: str, url: str) -> RequestSpec | None: ...
    def request_body_schema(self, method: str, url: str) -> Mapping[str, Any] | None: ...
    def record_schema(self, method: str, url: str) -> Mapping[str, Any] | None: ...
    def collection_paths(self) -> list[str]: ...
    def check_request(
        self, method: str, url: str, content_type: str | None, body: bytes | None
    ) -> list[str]: ...


# A request of the filler's own (a listing for ids), sent like a request of the run: its status
# and body, or None when it could not be sent.
Fetch = Callable[[RequestItem], tuple[int, bytes] | None]


class PlaceholderFiller:
    """Chooses values for one run; thread-safe. Listed ids are kept per collection endpoint
    until a DELETE under it is filled (the record may be gone)."""

    def __init__(
        self, contracts: RequestContracts | None, *, change_existing: bool = False
    ) -> None:
        self.contracts = contracts
        # --fill-placeholders=existing: a family the run cannot make a record in is updated (and
        # deleted from) on the target's own records; only for a target that may lose them.
        self.change_existing = change_existing
        self._collections = set(contracts.collection_paths()) if contracts else set()
        self._ids: dict[str, list[str]] = {}
        self._created: dict[str, _Created] = {}  # collection -> the record the run made there
        self._creating = threading.Lock()  # held while a record is made (a POST is sent)
        self._lock = threading.Lock()

    def fill(self, item: RequestItem, placeholders: Sequence[Placeholder], fetch: Fetch) -> Filled:
        """``item`` with values for its placeholders (and a body where it needs one)."""
        base, path = _split_base(item.url.raw)
        concrete = _concrete_url(item)
        spec = self.contracts.request_contract(item.method, concrete) if self.contracts else None
        body_schema = (
            # A body the document does not describe is the record the operation writes.
            (
                self.contracts.request_body_schema(item.method, concrete)
                or self.contracts.record_schema(item.method, concrete)
            )
            if self.contracts and item.method in ("POST", "PUT", "PATCH")
            else None
        )
        required_filters = REQUIRED_FILTERS.get(spec.operation if spec else "", {})
        fills: dict[Placeholder, Fill] = {}
        missing: list[tuple[Placeholder, str]] = []
        for placeholder in placeholders:
            try:
                fill = self._choose(
                    item, placeholder, base, path, spec, body_schema, required_filters, fetch
                )
            except _NoValue as reason:
                missing.append((placeholder, str(reason)))
            else:
                fills[placeholder] = fill
        filled = apply_fills(item, fills) if fills else item
        added: list[Fill] = []
        if not missing and spec is not None and spec.body_media is None:
            try:
                filled, added = self._body_left_out(filled, base, concrete, fetch)
            except _NoValue as reason:
                missing.append((Placeholder("body", "$", "object"), str(reason)))
        return Filled(filled, [*fills.values(), *added], missing)

    def _body_left_out(
        self, item: RequestItem, base: str | None, concrete: str, fetch: Fetch
    ) -> tuple[RequestItem, list[Fill]]:
        """A POST or PUT without a body whose document gives it none (DrChrono documents most
        bodies as query parameters) gets a JSON body of the record's required fields."""
        if item.method not in ("POST", "PUT") or self.contracts is None:
            return item, []
        if item.body is not None and (item.body.mode != "raw" or item.body.raw.strip()):
            return item, []
        made = self._required_body(
            item, base, self.contracts.record_schema(item.method, concrete), fetch
        )
        if made is None:
            return item, []
        body, fills = made
        fills = [
            dataclasses.replace(
                f, source=f"{f.source}; required, in a body the document leaves out"
            )
            for f in fills
        ]
        headers = item.headers
        if not any(h.key.lower() == "content-type" and not h.disabled for h in headers):
            headers = (*headers, KeyValue("Content-Type", "application/json"))
        raw = json.dumps(body, indent=2)
        return dataclasses.replace(
            item, headers=headers, body=Body(mode="raw", raw=raw, language="json")
        ), fills

    def _required_body(
        self,
        item: RequestItem,
        base: str | None,
        record: Mapping[str, Any] | None,
        fetch: Fetch,
    ) -> tuple[dict[str, Any], list[Fill]] | None:
        """A JSON body of ``record``'s required fields (and DrChrono's duplicate and overlap
        overrides where it has them), with a fill per field; None if it requires none."""
        required = [name for name in (record or {}).get("required") or () if isinstance(name, str)]
        if record is None or not required:
            return None
        properties = record.get("properties") or {}
        for name in ("allow_overlapping", "allow_duplicates"):
            if name in properties:  # a filled record may collide with the target's own (409)
                required.append(name)
        body: dict[str, Any] = {}
        fills = []
        for name in required:
            found = properties.get(name)
            schema: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
            kind = _schema_type(schema) or "string"
            value, source = self._value(item, base, name, kind, schema, fetch)
            body[name] = value
            fills.append(Fill(Placeholder("body", f"$.{name}", kind), value, source))
        return body, fills

    # --- records of the run's own -------------------------------------------------------------

    def _own_record(
        self, item: RequestItem, base: str, collection: str, fetch: Fetch
    ) -> tuple[str, str]:
        """The id of a record this run created in ``collection``, created now if there is none:
        filling never updates or deletes a record the target had (on live DrChrono, a practice's
        own patients). What is left at the end goes in :meth:`clean_up`."""
        with self._creating:  # one record per family, also when folders run concurrently
            return self._own_record_locked(item, base, collection, fetch)

    def _own_record_locked(
        self, item: RequestItem, base: str, collection: str, fetch: Fetch
    ) -> tuple[str, str]:
        with self._lock:
            made = self._created.get(collection)
        made_here = f"a record the run made for it: POST {collection}"
        if made is not None:
            return made.id, made_here
        record = (
            self.contracts.record_schema("POST", collection)
            if self.contracts is not None
            and self.contracts.request_contract("POST", collection) is not None
            else None
        )
        if record is None:
            if self.change_existing:
                existing = self._record_id(item, base, collection, fetch)
                return (
                    existing,
                    f"id of the first record of GET {collection} (--fill-placeholders=existing)",
                )
            raise _NoValue(
                f"it would change a record the target had (POST {collection}, to make one of "
                "the run's own, is not documented; --fill-placeholders=existing allows it on a "
                "target that may lose records, such as the sandbox)"
            )
        creation = dataclasses.replace(
            item,
            name=f"{item.name} (a record of its own: POST {collection})",
            method="POST",
            url=Url(raw=base + collection),
            headers=(
                KeyValue("Accept", "application/json"),
                KeyValue("Content-Type", "application/json"),
            ),
            body=None,
            scripts=(),
        )
        made_body = self._required_body(creation, base, record, fetch)
        raw = json.dumps(made_body[0] if made_body else {})
        creation = dataclasses.replace(creation, body=Body(mode="raw", raw=raw, language="json"))
        answer = fetch(creation)
        if answer is None or not 200 <= answer[0] < 300:
            status = "could not be sent" if answer is None else f"answered {answer[0]}"
            raise _NoValue(f"POST {collection}, to make a record of the run's own, {status}")
        ids = _ids_of(answer[1], self._key_field(collection))
        if not ids:
            raise _NoValue(f"POST {collection} answered no id for the record it made")
        with self._lock:
            self._created[collection] = _Created(ids[0], base, item, fetch)
            self._ids.pop(collection, None)
        return ids[0], made_here

    def clean_up(self) -> None:
        """Delete the records the run created and did not delete itself (best effort: what
        cannot be deleted stays, as a record the run made, never one the target had)."""
        with self._lock:
            left, self._created = dict(self._created), {}
        for collection, made in left.items():
            deletion = dataclasses.replace(
                made.item,
                name=f"{made.item.name} (clean-up: DELETE {collection}/{made.id})",
                method="DELETE",
                url=Url(raw=f"{made.base}{collection}/{made.id}"),
                headers=(KeyValue("Accept", "application/json"),),
                body=None,
                scripts=(),
            )
            made.fetch(deletion)

    # --- one placeholder ----------------------------------------------------------------------

    def _choose(
        self,
        item: RequestItem,
        placeholder: Placeholder,
        base: str | None,
        path: str,
        spec: RequestSpec | None,
        body_schema: Mapping[str, Any] | None,
        required_filters: Mapping[str, str],
        fetch: Fetch,
    ) -> Fill:
        location, name, kind = placeholder.location, placeholder.name, placeholder.type
        if location == "path":
            collection = _collection_above(path, name)
            if collection is None or base is None:
                raise _NoValue("no collection endpoint above it to take an id from")
            if item.method in ("PUT", "PATCH", "DELETE"):
                record, source = self._own_record(item, base, collection, fetch)
                if item.method == "DELETE" and path.split("/")[-1] in (f":{name}", name):
                    with self._lock:  # this request deletes it: nothing left to clean up
                        self._created.pop(collection, None)
                        self._ids.clear()  # families that share its table lose it too
                return Fill(placeholder, record, source)
            record = self._record_id(item, base, collection, fetch)
            return Fill(placeholder, record, f"id of the first record of GET {collection}")
        if location == "query":
            if name in required_filters:
                return Fill(placeholder, required_filters[name], "filter DrChrono requires")
            param = spec.parameter("query", name) if spec else None
            if param is None or not param.required:
                return Fill(placeholder, None, "optional query parameter")
            if name == "id" and path in self._collections and base is not None:
                record = self._record_id(item, base, path, fetch)
                return Fill(placeholder, record, f"id of the first record of GET {path}")
            if (
                name == "uuid"
                and base is not None
                and self.contracts is not None
                and self.contracts.request_contract("POST", path) is not None
            ):
                return Fill(placeholder, self._batch(item, base, path, fetch), f"POST {path}")
            value, source = self._value(item, base, name, param.type or kind, param.schema, fetch)
            return Fill(placeholder, str(value) if not isinstance(value, bool) else value, source)
        if location == "header":
            param = spec.parameter("header", name) if spec else None
            if param is None or not param.required:
                return Fill(placeholder, None, "optional header")
            value, source = self._value(item, base, name, param.type or kind, param.schema, fetch)
            return Fill(placeholder, value, source)
        # body and form fields
        field = _field_name(name)
        if field is None:  # an array element: the array is left empty
            return Fill(placeholder, None, "array element")
        nested = name.startswith("$") and "." in name[2:]
        props = {} if nested else (body_schema or {}).get("properties") or {}
        found = props.get(field)
        schema: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        required = not nested and field in ((body_schema or {}).get("required") or ())
        value, source = self._value(item, base, field, _schema_type(schema) or kind, schema, fetch)
        if not required and source == "schema type":
            return Fill(placeholder, None, "optional field")
        if location == "form" and not isinstance(value, str):
            value = ("true" if value else "false") if isinstance(value, bool) else str(value)
        return Fill(placeholder, value, source)

    def _value(
        self,
        item: RequestItem,
        base: str | None,
        name: str,
        kind: str,
        schema: Mapping[str, Any],
        fetch: Fetch | None,
    ) -> tuple[FillValue, str]:
        """A plausible value for field ``name`` of type ``kind``, and where it came from;
        without ``fetch`` (the filters of a listing for ids), never a foreign key."""
        for key in ("example", "default"):
            if schema.get(key) not in (None, ""):
                example = schema[key]
                if isinstance(example, str | int | float | bool):
                    return example, f"contract {key}"
        enum = [v for v in schema.get("enum") or () if v not in (None, "")]
        if enum and isinstance(enum[0], str | int | float | bool):
            return enum[0], "first documented value"
        collection = self._foreign_collection(name, _split_base(item.url.raw)[1])
        if collection is not None and kind in ("integer", "long", "int", "string") and base:
            if fetch is None:
                raise _NoValue(f"{name} names a record of GET {collection}")
            own = "/".join(_split_base(item.url.raw)[1].split("/")[:3])
            if item.method == "POST" and own in self._collections and self._key_field(own) == name:
                # The family is addressed by this field, so each value names one record only
                # (one telehealth appointment per appointment): take one not used yet.
                value = self._unused_id(item, base, collection, own, fetch)
                typed = int(value) if value.isdigit() and kind != "string" else value
                return typed, f"id of a record of GET {collection} that {own} has none for"
            value = self._record_id(item, base, collection, fetch)
            typed = int(value) if value.isdigit() and kind != "string" else value
            return typed, f"id of a record of GET {collection}"
        lowered = name.lower()
        if lowered in ("allow_overlapping", "allow_duplicates") and kind in ("boolean", "bool"):
            # A filled record may collide with the target's own (DrChrono answers 409).
            return True, "override of DrChrono's duplicate and overlap checks"
        if lowered == "date_range":
            end = FILL_DAY + datetime.timedelta(days=30)
            return f"{FILL_DAY.isoformat()}/{end.isoformat()}", "date range"
        if kind == "dateTime" or lowered.endswith(("_time", "_at")):
            return f"{FILL_DAY.isoformat()}T10:00:00", "date and time"
        if kind == "date" or "date" in lowered or lowered == "since":
            return FILL_DAY.isoformat(), "date"
        if kind in ("integer", "long", "int"):
            return 1, "schema type"
        if kind in ("number", "float", "double"):
            return 1.0, "schema type"
        if kind in ("boolean", "bool"):
            return False, "schema type"
        if kind == "array":
            return [], "schema type"
        if kind == "object":
            return {}, "schema type"
        return "harness", "schema type"

    def _unused_id(
        self, item: RequestItem, base: str, collection: str, own: str, fetch: Fetch
    ) -> str:
        used = set(self._listed(item, base, own, fetch))
        free = [i for i in self._listed(item, base, collection, fetch) if i not in used]
        if not free:
            raise _NoValue(f"every record of GET {collection} already has one in {own}")
        with self._lock:
            self._ids.pop(own, None)  # the create adds one
        return free[0]

    def _key_field(self, collection: str) -> str:
        """The field a record of ``collection`` is addressed by in ``{collection}/{id}``: ``id``,
        or for records without one the one required field that names another record (a
        telehealth appointment is addressed by its appointment)."""
        record = self.contracts.record_schema("GET", f"{collection}/0") if self.contracts else None
        properties = (record or {}).get("properties") or {}
        if not record or "id" in properties:
            return "id"
        naming = [
            name
            for name in record.get("required") or ()
            if isinstance(name, str)
            and (name.endswith("_id") or self._foreign_collection(name, collection))
        ]
        return naming[0] if len(naming) == 1 else "id"

    def _batch(self, item: RequestItem, base: str, path: str, fetch: Fetch) -> str:
        """The uuid of a batch request filed for ``GET {path}?uuid=``: DrChrono's batch
        endpoints (/api/patients_list...) answer a POST with the uuid to read the batch by."""
        filing = dataclasses.replace(
            item,
            name=f"{item.name} (uuid from POST {path})",
            method="POST",
            url=Url(raw=base + path),
            headers=(KeyValue("Accept", "application/json"),),
            body=None,
            scripts=(),
        )
        answer = fetch(filing)
        try:
            uuid = loads_json(answer[1]).get("uuid") if answer and answer[0] < 300 else None
        except (ValueError, AttributeError):
            uuid = None
        if not isinstance(uuid, str) or not uuid:
            raise _NoValue(f"POST {path} did not answer with a batch uuid")
        return uuid

    def _foreign_collection(self, name: str, path: str) -> str | None:
        """The collection a foreign key field names: ``document`` in /api/lab_results is a lab
        document (the family's own prefix first), ``ordering_doctor`` a doctor (its last
        words), ``provider`` a doctor (:data:`_FOREIGN_KEYS`)."""
        words = name.removesuffix("_id").split("_")
        segments = path.split("/")
        own = "/".join(segments[:3])
        resource = segments[2].split("_") if len(segments) > 2 else []
        prefixes = ["_".join(resource[:i]) + "_" for i in range(len(resource) - 1, 0, -1)]
        for stem in ("_".join(words[i:]) for i in range(len(words))):
            for candidate in (
                _FOREIGN_KEYS.get(stem),
                *(f"/api/{prefix}{stem}s" for prefix in prefixes),
                f"/api/{stem}s",
                f"/api/{stem}es",
            ):
                # A field never names a record of its own family (/api/telehealth_appointments'
                # appointment is an appointment).
                if candidate and candidate in self._collections and candidate != own:
                    return candidate
        return None

    def _record_id(self, item: RequestItem, base: str, collection: str, fetch: Fetch) -> str:
        ids = self._listed(item, base, collection, fetch)
        if not ids:
            raise _NoValue(f"GET {collection} lists no record with an id to take")
        return ids[0]

    def _listed(self, item: RequestItem, base: str, collection: str, fetch: Fetch) -> list[str]:
        """The ids (key fields) of the records ``GET collection`` lists first, kept per run."""
        with self._lock:
            ids = self._ids.get(collection)
        if ids is None:
            filters = dict(REQUIRED_FILTERS.get(f"GET {collection}", {}))
            spec = self.contracts.request_contract("GET", collection) if self.contracts else None
            for param in spec.parameters if spec else ():
                if param.location == "query" and param.required and param.name not in filters:
                    value, _ = self._value(
                        item, base, param.name, param.type or "string", param.schema, None
                    )
                    filters[param.name] = value if isinstance(value, str) else json.dumps(value)
            query = tuple(KeyValue(key, value) for key, value in filters.items())
            listing = dataclasses.replace(
                item,
                name=f"{item.name} (ids from GET {collection})",
                method="GET",
                url=Url(raw=base + collection, query=query),
                headers=(KeyValue("Accept", "application/json"),),
                body=None,
                scripts=(),
            )
            answer = fetch(listing)
            if answer is None:
                raise _NoValue(f"GET {collection} could not be sent")
            status, listed = answer
            if not 200 <= status < 300:
                raise _NoValue(f"GET {collection} answered {status}")
            ids = _ids_of(listed, self._key_field(collection))
            with self._lock:
                self._ids[collection] = ids
        return ids


@dataclass(frozen=True)
class _Created:
    """A record the run created, and how to reach it again to delete it."""

    id: str
    base: str
    item: RequestItem
    fetch: Fetch


@dataclass(frozen=True)
class Filled:
    """What filling made of a request: the request to send, each choice, and the placeholders
    no value was found for (with why; then the request is not sent)."""

    item: RequestItem
    fills: list[Fill]
    missing: list[tuple[Placeholder, str]]


class _NoValue(Exception):
    """No value can be chosen for a placeholder; the message says why."""


def _split_base(raw: str) -> tuple[str | None, str]:
    """``("{{baseUrl}}", "/api/doctors/:id")`` for ``{{baseUrl}}/api/doctors/:id?x=1``."""
    path = raw.split("?", 1)[0]
    match = _API.search(path)
    if match is None:
        return None, path
    return path[: match.start()], path[match.start() :]


def _collection_above(path: str, variable: str) -> str | None:
    segments = path.split("/")
    for index, segment in enumerate(segments):
        if segment in (f":{variable}", variable) and index > 2:
            return "/".join(segments[:index])
    return None


def _concrete_url(item: RequestItem) -> str:
    """The request's path with every variable and placeholder made a plain segment, so that
    the contracts can name its operation."""
    _, path = _split_base(item.url.raw)
    return "/".join(
        "0" if segment.startswith((":", "<", "{{")) else segment for segment in path.split("/")
    )


def _field_name(json_path: str) -> str | None:
    """``doctor`` for ``$.doctor`` and ``doctor`` (a form field); None inside an array."""
    if not json_path.startswith("$"):
        return json_path
    if json_path.endswith("]"):
        return None
    return json_path.rsplit(".", 1)[-1]


def _schema_type(schema: Mapping[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    return kind if isinstance(kind, str) else None


def _ids_of(listing: Any, key: str = "id") -> list[str]:
    if isinstance(listing, bytes | str):
        try:
            listing = loads_json(listing)
        except ValueError:
            return []
    if not isinstance(listing, dict):
        return []
    records = listing.get("results", listing.get("data"))
    if records is None and listing.get(key) not in (None, ""):
        records = [listing]  # a one-record endpoint (/api/doctor_work_schedule)
    if not isinstance(records, list):
        return []
    return [
        str(record[key])
        for record in records
        if isinstance(record, dict) and record.get(key) not in (None, "")
    ]
