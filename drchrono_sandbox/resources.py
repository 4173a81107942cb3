"""The resources the sandbox keeps state for, with DrChrono's list filters and create rules.

Each :class:`Resource` names its table, its contract schema, the fields a create must carry and
how list query parameters filter. Writes keep only the schema's writable fields, so a client
cannot set ``id`` or ``created_at``. Validation errors are Django REST framework shapes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from drchrono_sandbox.generate import TIMESTAMP_FORMAT, blank, timestamp
from drchrono_sandbox.shapes import primary_type
from drchrono_sandbox.state import Store

Record = dict[str, Any]
Errors = dict[str, list[str]]
REQUIRED = "This field is required."
MAX_DATE_RANGE_DAYS = 190
SCHEDULING_FIELDS = frozenset({"scheduled_time", "duration", "exam_room", "office"})


class Conflict(Exception):
    """A create or update refused with 409 ``{"detail": ...}``."""


class BadRequest(Exception):
    """A request refused (400 unless said); ``body`` is the DRF error shape."""

    def __init__(self, body: Errors | list[str] | dict[str, str], status: int = 400) -> None:
        super().__init__(str(body))
        self.body = body
        self.status = status


def now_text() -> str:
    return timestamp(dt.datetime.now().replace(microsecond=0))


def parse_day(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def parse_moment(text: str) -> dt.datetime | None:
    for fmt in (TIMESTAMP_FORMAT, "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return dt.datetime.strptime(text.strip()[:19], fmt)
        except ValueError:
            continue
    return None


def since_filter(field_name: str) -> Callable[[Record, str], bool]:
    """``since=2021-02-14`` (or a timestamp): records changed at or after that moment."""

    def keep(record: Record, value: str) -> bool:
        bound = parse_moment(value) or (
            dt.datetime.combine(day, dt.time()) if (day := parse_day(value)) else None
        )
        if bound is None:
            raise BadRequest({"since": ["Enter a valid date/time."]})
        return str(record.get(field_name) or "") >= timestamp(bound)

    return keep


def exact(field_name: str, *, fold: bool = False) -> Callable[[Record, str], bool]:
    def keep(record: Record, value: str) -> bool:
        have = record.get(field_name)
        if fold:
            return str(have or "").casefold() == value.casefold()
        return str(have) == value

    return keep


@dataclass(frozen=True)
class Resource:
    name: str  # table name and path segment: /api/{name}
    schema: str
    required: tuple[str, ...] = ()
    filters: Mapping[str, Callable[[Record, str], bool]] = field(default_factory=dict)
    id_start: int = 1
    string_ids: bool = False
    references: Mapping[str, str] = field(default_factory=dict)  # field -> family
    # DELETE sets deleted_flag (the record stays readable, lists leave it out) instead of
    # removing the record: DrChrono's way for records that carry the flag (appointments).
    soft_delete: bool = False
    generic: bool = False  # derived from the contracts (drchrono_sandbox.families), seeded lazily
    table_name: str = ""  # the table, when another family's (appointments_list): else name
    # The field a record is addressed by in /api/{name}/{id}: "id", or for records without one
    # the field that names them (a telehealth appointment by its appointment); None: not at all.
    key_field: str | None = "id"
    # The family whose record the path's {id} names, for a history kept per record of another
    # family (an appointment's telehealth history is read by the appointment's id).
    history_of: str | None = None

    @property
    def table(self) -> str:
        return self.table_name or self.name

    def writable(self, schemas: Mapping[str, Any]) -> dict[str, Any]:
        props = (schemas.get(self.schema) or {}).get("properties") or {}
        return {k: v for k, v in props.items() if not (v or {}).get("readOnly")}


PATIENT_FILTERS = {
    "first_name": exact("first_name", fold=True),
    "last_name": exact("last_name", fold=True),
    "doctor": exact("doctor"),
    "gender": exact("gender"),
    "date_of_birth": exact("date_of_birth"),
    "chart_id": exact("chart_id"),
    "email": exact("email", fold=True),
    "preferred_language": exact("preferred_language"),
    "race": exact("race"),
    "ethnicity": exact("ethnicity"),
    "patient_status": exact("patient_status"),
    "since": since_filter("updated_at"),
    "created_at": lambda r, v: str(r.get("created_at", ""))[:10] == v[:10],
}
CLINICAL_FILTERS = {
    "patient": exact("patient"),
    "doctor": exact("doctor"),
    "since": since_filter("updated_at"),
}

RESOURCES: dict[str, Resource] = {
    r.name: r
    for r in (
        Resource(
            "patients",
            "Patient",
            ("gender", "doctor"),
            PATIENT_FILTERS,
            80_001_201,
            references={"doctor": "doctors"},
        ),
        Resource(
            "appointments",
            "Appointment",
            ("doctor", "exam_room", "office", "patient", "scheduled_time"),
            {
                "patient": exact("patient"),
                "doctor": exact("doctor"),
                "office": exact("office"),
                "status": exact("status"),
            },
            190_000_001,
            string_ids=True,
            references={"doctor": "doctors", "office": "offices", "patient": "patients"},
            soft_delete=True,
        ),
        Resource("doctors", "Doctor", filters={"doctor": exact("id")}),
        Resource("offices", "Office", filters={"doctor": exact("doctor")}),
        Resource("users", "UserProfile", filters={"doctor": exact("doctor")}),
        Resource(
            "clinical_notes",
            "ClinicalNote",
            filters={"patient": exact("patient"), "appointment": exact("appointment")},
        ),
        Resource(
            "tasks",
            "Task",
            ("title", "status"),
            {
                "status": exact("status"),
                "category": exact("category"),
                "since": since_filter("updated_at"),
            },
            5_400_001,
        ),
        Resource(
            "allergies",
            "PatientAllergy",
            ("doctor", "patient"),
            CLINICAL_FILTERS,
            6_700_001,
            references={"doctor": "doctors", "patient": "patients"},
        ),
        Resource(
            "medications",
            "PatientDrug",
            ("doctor", "patient"),
            CLINICAL_FILTERS,
            7_100_001,
            references={"doctor": "doctors", "patient": "patients"},
        ),
        Resource(
            "problems",
            "PatientProblem",
            ("doctor", "patient"),
            CLINICAL_FILTERS,
            8_200_001,
            references={"doctor": "doctors", "patient": "patients"},
        ),
    )
}


class Records:
    """Create/read/update/delete over the store for one resource, with DrChrono's rules."""

    def __init__(
        self,
        store: Store,
        resource: Resource,
        schemas: Mapping[str, Any],
        resolve: Callable[[Mapping[str, Any]], Mapping[str, Any]],
    ) -> None:
        self.store, self.resource, self.schemas, self.resolve = store, resource, schemas, resolve

    @property
    def table(self) -> dict[str, Record]:
        return self.store.table(self.resource.table)

    def list(self, query: Mapping[str, str]) -> list[Record]:
        with self.store.lock:
            records = [r for r in self.table.values() if not r.get("deleted_flag")]
        if self.resource.table == "appointments":
            records = appointment_window(records, query)
        for name, keep in self.resource.filters.items():
            value = query.get(name)
            if value not in (None, ""):
                records = [r for r in records if keep(r, value)]
        return records

    def get(self, record_id: str) -> Record | None:
        with self.store.lock:
            return self.table.get(record_id)

    # -- writes -----------------------------------------------------------------------------
    def clean(self, body: Mapping[str, Any], *, partial: bool) -> Record:
        """Writable, type-checked fields of ``body``; raises BadRequest with every problem."""
        writable = self.resource.writable(self.schemas)
        errors: Errors = {}
        cleaned: Record = {}
        for key, value in body.items():
            schema = writable.get(key)
            if schema is None:
                continue
            try:
                cleaned[key] = coerce(self.resolve(schema), value)
            except ValueError as exc:
                errors[key] = [str(exc)]
        required = self.required(body)
        if not partial:
            for key in required:
                if cleaned.get(key) in (None, "") and key not in errors:
                    errors[key] = [REQUIRED]
        for key, table in self.resource.references.items():
            value = cleaned.get(key)
            if value not in (None, "") and str(value) not in self.store.table(table):
                errors.setdefault(key, []).append(f'Invalid pk "{value}" - object does not exist.')
        if errors:
            raise BadRequest(errors)
        return cleaned

    def required(self, body: Mapping[str, Any]) -> tuple[str, ...]:
        if self.resource.table == "appointments" and truthy(body.get("appt_is_break")):
            return tuple(f for f in self.resource.required if f != "patient")  # breaks
        return self.resource.required

    def assigned(self, names: tuple[str, ...], query: Mapping[str, str]) -> Record:
        """Read-only fields a create takes from its required query parameters, typed (a yellow
        notepad's ``appointment_id`` and ``template_id``: the body cannot set them)."""
        props = (self.schemas.get(self.resource.schema) or {}).get("properties") or {}
        errors: Errors = {}
        fields: Record = {}
        for name in names:
            schema = props.get(name) or {}
            if not schema.get("readOnly"):
                continue  # a writable field: the body's business (Records.clean)
            value = query.get(name, "")
            try:
                fields[name] = coerce(self.resolve(schema), value) if value else None
            except ValueError as exc:
                errors[name] = [str(exc)]
            if fields.get(name) is None and name not in errors:
                errors[name] = [REQUIRED]
        if errors:
            raise BadRequest(errors)
        return fields

    def create(self, body: Mapping[str, Any], assigned: Mapping[str, Any] | None = None) -> Record:
        """A new record; with ``assigned`` fields (see :meth:`assigned`) on a family whose
        records have no id of their own, the record those fields name is updated instead
        (DrChrono's "create or update" of a note per appointment and template)."""
        cleaned = self.clean(body, partial=False)
        with self.store.lock:
            if assigned and self.resource.key_field is None:
                for key, other in self.table.items():
                    if all(other.get(k) == v for k, v in assigned.items()):
                        updated = {**other, **cleaned}
                        if "updated_at" in other:
                            updated["updated_at"] = now_text()
                        self.table[key] = updated
                        self.store.save()
                        return updated
            record = self.new_record(cleaned)
            record.update(assigned or {})
            self.check(record, body, None)
            key = self.new_key(record)
            if self.resource.table == "patients" and not record.get("chart_id"):
                record["chart_id"] = chart_id(record)
            self.table[key] = record
            self.store.save()
            return record

    def new_key(self, record: Record) -> str:
        """Give ``record`` its id (or check the field that names it); returns its table key."""
        field_name = self.resource.key_field
        if field_name == "id":
            new_id = self.store.next_id(self.resource.table, self.resource.id_start)
            record["id"] = str(new_id) if self.resource.string_ids else new_id
            return str(new_id)
        if field_name is None:
            return str(self.store.next_id(self.resource.table, 1))
        key = str(record.get(field_name))
        if key in self.table:
            raise BadRequest(
                {field_name: [f"{self.resource.schema} with this {field_name} already exists."]}
            )
        return key

    def update(self, record_id: str, body: Mapping[str, Any], *, partial: bool) -> Record | None:
        cleaned = self.clean(body, partial=partial)
        with self.store.lock:
            current = self.table.get(record_id)
            if current is None or current.get("deleted_flag"):
                return None
            updated = {**current, **cleaned}
            if "updated_at" in current:  # offices, for one, carry no timestamps
                updated["updated_at"] = now_text()
            if "scheduled_time" in cleaned:
                updated["scheduled_time"] = normal_time(cleaned["scheduled_time"])
            moved = bool(SCHEDULING_FIELDS & set(cleaned))
            self.check(updated, body, record_id, reschedule=moved)
            self.table[record_id] = updated
            self.store.save()
            return updated

    def delete(self, record_id: str) -> bool:
        """Remove the record, or flag it deleted; False when there is none (left to delete)."""
        with self.store.lock:
            current = self.table.get(record_id)
            if current is None or current.get("deleted_flag"):
                return False
            if self.resource.soft_delete:
                flagged = {**current, "deleted_flag": True}
                if "updated_at" in current:
                    flagged["updated_at"] = now_text()
                self.table[record_id] = flagged
            else:
                del self.table[record_id]
            self.store.save()
            return True

    def new_record(self, cleaned: Record) -> Record:
        schema = self.schemas.get(self.resource.schema) or {}
        record: Record = blank(schema, self.resolve)
        stamp = now_text()
        record.update(cleaned)
        for key in ("created_at", "updated_at"):
            if key in record:
                record[key] = stamp
        if record.get("posted_date") == "":  # a charge or payment is posted the day it is entered
            record["posted_date"] = stamp[:10]
        if self.resource.table == "appointments":
            record["scheduled_time"] = normal_time(record["scheduled_time"])
            record["duration"] = record.get("duration") or 30
            record["deleted_flag"] = False
            record["recurrence_instance_key"] = None
        if self.resource.table == "patients":
            record["patient_status"] = record.get("patient_status") or "A"
        return record

    def check(
        self, record: Record, body: Mapping[str, Any], own_id: str | None, reschedule: bool = True
    ) -> None:
        """Conflicts DrChrono answers with 409, unless the body asks to allow them.

        An update that leaves time and room alone is not checked for overlaps again."""
        if self.resource.table == "patients" and not truthy(body.get("allow_duplicates")):
            twin = self.duplicate_of(record, own_id)
            if twin is not None:
                raise Conflict(
                    "A patient with the same first name, last name and date of birth already "
                    f"exists (id {twin}). Set allow_duplicates to create it anyway."
                )
        if self.resource.table == "appointments":
            validate_room(self.store, record)
            allowed = truthy(body.get("allow_overlapping")) or record.get("appt_is_break")
            if reschedule and not allowed and self.overlaps(record, own_id):
                raise Conflict("Scheduled time overlaps with an existing appointment")

    def duplicate_of(self, record: Record, own_id: str | None) -> Any:
        key = patient_key(record)
        if not all(key):
            return None
        for rid, other in self.table.items():
            if rid != own_id and patient_key(other) == key:
                return other["id"]
        return None

    def overlaps(self, record: Record, own_id: str | None) -> bool:
        start = parse_moment(str(record["scheduled_time"]))
        if start is None:
            return False
        end = start + dt.timedelta(minutes=int(record.get("duration") or 30))
        for rid, other in self.table.items():
            if rid == own_id or other.get("status") == "Cancelled" or other.get("deleted_flag"):
                continue
            if (str(other.get("office")), str(other.get("exam_room"))) != (
                str(record.get("office")),
                str(record.get("exam_room")),
            ):
                continue
            o_start = parse_moment(str(other.get("scheduled_time") or ""))
            if o_start is None:
                continue
            o_end = o_start + dt.timedelta(minutes=int(other.get("duration") or 30))
            if start < o_end and o_start < end:
                return True
        return False


def patient_key(record: Record) -> tuple[str, str, str]:
    return (
        str(record.get("first_name") or "").strip().casefold(),
        str(record.get("last_name") or "").strip().casefold(),
        str(record.get("date_of_birth") or ""),
    )


def chart_id(record: Record) -> str:
    last = str(record.get("last_name") or "XX")[:2].upper()
    first = str(record.get("first_name") or "XX")[:2].upper()
    return f"{last}{first}{int(record.get('id') or 0) % 1_000_000:06d}"


def validate_room(store: Store, record: Record) -> None:
    office = store.table("offices").get(str(record.get("office")))
    rooms = [room.get("index") for room in (office or {}).get("exam_rooms") or []]
    if office is not None and record.get("exam_room") not in rooms:
        raise BadRequest(
            {
                "exam_room": [
                    f"Exam room {record.get('exam_room')} does not exist in "
                    f"office {record.get('office')}."
                ]
            }
        )


def normal_time(value: Any) -> str:
    moment = parse_moment(str(value))
    return timestamp(moment) if moment else str(value)


def truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on")
    return bool(value)


def coerce(schema: Mapping[str, Any], value: Any) -> Any:
    """DRF's field parsing, for a field's contract schema (where choices include the blank)."""
    kind = primary_type(schema)
    enum = schema.get("enum")
    if value is None:
        return None
    if kind == "integer":
        if isinstance(value, bool):
            raise ValueError("A valid integer is required.")
        try:
            return int(str(value).strip())
        except ValueError:
            raise ValueError("A valid integer is required.") from None
    if kind == "number":
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ValueError("A valid number is required.") from None
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes", "on", "false", "0", "no", "off"):
            return text in ("true", "1", "yes", "on")
        raise ValueError("Must be a valid boolean.")
    if enum and not any(isinstance(e, list | dict) for e in enum) and value not in enum:
        raise ValueError(f'"{value}" is not a valid choice.')
    if kind == "string":
        if isinstance(value, dict | list):
            raise ValueError("Not a valid string.")
        return str(value)
    return value


def appointment_window(records: list[Record], query: Mapping[str, str]) -> list[Record]:
    """DrChrono refuses to list appointments without a time window."""
    date, date_range = query.get("date"), query.get("date_range")
    since, occurred = query.get("since"), query.get("occurred_since")
    if not any((date, date_range, since, occurred)):
        raise BadRequest(
            ["Must provide either 'since', 'occurred_since', 'date' or 'date_range' parameter."]
        )
    if date:
        day = parse_day(date)
        if day is None:
            raise BadRequest(
                {"date": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]}
            )
        records = [r for r in records if str(r.get("scheduled_time", ""))[:10] == day.isoformat()]
    if date_range:
        first, sep, last = date_range.partition("/")
        start, end = parse_day(first), parse_day(last)
        if not sep or start is None or end is None or end < start:
            raise BadRequest({"date_range": ["Enter a date range as yyyy-mm-dd/yyyy-mm-dd."]})
        if (end - start).days > MAX_DATE_RANGE_DAYS:
            raise BadRequest(
                {"date_range": [f"Date range cannot be longer than {MAX_DATE_RANGE_DAYS} days."]}
            )
        records = [
            r
            for r in records
            if start.isoformat() <= str(r.get("scheduled_time", ""))[:10] <= end.isoformat()
        ]
    if since:
        records = [r for r in records if since_filter("updated_at")(r, since)]
    if occurred:
        records = [r for r in records if since_filter("scheduled_time")(r, occurred)]
    return records
