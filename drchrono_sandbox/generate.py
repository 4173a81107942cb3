"""Realistic, deterministic values for a contract schema, guided by field names.

DrChrono's schemas say little more than "string", so the field name decides what a value looks
like: ``home_phone`` gets a phone number, ``date_of_birth`` a date, ``copay`` a two-place decimal.
Enums are honoured (but never with their blank choice), timestamps carry no timezone, and nothing
is ever null: of a nullable type (``["integer", "null"]``) the non-null one is used.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import threading
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any

from drchrono_sandbox.shapes import primary_type

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S"
MAX_DEPTH = 4
# A description that lists a field's values in backquotes ("One of `Primary`, `Secondary`",
# "Either `problem-list-item` or `health-concern`", a "Value | Notes" table): one is chosen.
LISTS_CHOICES = re.compile(r"one of|either|can be|possible values|should be|value\s*\|", re.I)
CHOICE = re.compile(r"`+([^`]*)`+")
PLAIN_CHOICE = re.compile(r"[A-Za-z0-9][\w '-]{0,39}")
# Fields DrChrono fills from a small set of values that no description lists, by name.
RELATIONS = ["Spouse", "Parent", "Child", "Sibling", "Guardian", "Friend", "Other"]
APPOINTMENT_STATUSES = ["Arrived", "Checked In", "In Room", "In Session", "Complete", "Confirmed"]
CHOICES_BY_NAME: dict[str, list[str]] = {
    "height_units": ["inches", "cm"],
    "head_circumference_units": ["inches", "cm"],
    "weight_units": ["lbs", "kg"],
    "temperature_units": ["f", "c"],
    "dosage_units": ["mg", "mL", "tablet", "capsule"],
    "frequency": ["once daily", "twice daily", "every 8 hours", "as needed"],
    "route": ["Intramuscular", "Subcutaneous", "Oral", "Intranasal"],
    "site": ["Left deltoid", "Right deltoid", "Left thigh", "Right thigh"],
    "reaction": ["Hives", "Rash", "Nausea", "Swelling", "Anaphylaxis"],
    "event_type": ["appointment_scheduled", "patient_joined", "session_started", "session_ended"],
    "from_status": APPOINTMENT_STATUSES,
    "to_status": APPOINTMENT_STATUSES,
    "preferred_language_code": ["eng", "spa", "fra", "zho"],
    "iso_weekday": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
    "code_system": ["SNOMEDCT", "ICD10CM", "LOINC"],
    "insurance_status": ["", "Paid", "Denied", "Adjusted"],
}

if TYPE_CHECKING:
    from faker import Faker

_faker_lock = threading.Lock()
# Built on first use: creating a Faker loads its locale providers (~50 ms), which processes that
# never generate sandbox data (the CLI, `harness run`) should not pay for.
_faker: Faker | None = None


def stable_int(*parts: object) -> int:
    """A seed from any parts, stable across processes (unlike ``hash``)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def timestamp(value: dt.datetime) -> str:
    return value.strftime(TIMESTAMP_FORMAT)


def decimal(value: float) -> str:
    return f"{value:.2f}"


class ValueMaker:
    """Produces values from one seeded Faker; not thread-safe, use :func:`with_faker`."""

    def __init__(
        self,
        fake: Faker,
        resolve: Callable[[Mapping[str, Any]], Mapping[str, Any]],
        refs: Mapping[str, Any] | None = None,
        anchor: dt.date | None = None,
    ) -> None:
        self.fake = fake
        self.resolve = resolve
        self.refs = dict(refs or {})
        self.anchor = anchor or dt.date.today()

    # -- by schema -------------------------------------------------------------------------
    def value(self, schema: Mapping[str, Any] | None, name: str = "", depth: int = 0) -> Any:
        schema = self.resolve(schema or {})
        kind = primary_type(schema)
        if name in self.refs and fits(self.refs[name], kind):
            return self.refs[name]
        enum = schema.get("enum")
        if enum and not any(isinstance(e, list | dict) for e in enum):
            choices = [e for e in enum if e not in ("", None)] or list(enum)
            return self.fake.random_element(choices)
        if kind == "integer":
            return self.integer(name)
        if kind == "boolean":
            return self.fake.pybool()
        if kind == "number":
            return round(self.fake.pyfloat(min_value=1, max_value=200, right_digits=2), 2)
        if kind == "array":
            items = schema.get("items")
            if not items or depth >= MAX_DEPTH or enum:
                return []
            count = self.fake.random_int(0, 2)
            return [self.value(items, _singular(name), depth + 1) for _ in range(count)]
        if kind == "object" or "properties" in schema:
            if depth >= MAX_DEPTH:
                return {}
            return self.obj(schema, depth + 1)
        return self.string(name, schema)

    def obj(
        self, schema: Mapping[str, Any], depth: int = 0, skip: Collection[str] = ()
    ) -> dict[str, Any]:
        """Every property of ``schema`` but those in ``skip`` (the caller fills them)."""
        schema = self.resolve(schema)
        props = schema.get("properties") or {}
        return {key: self.value(sub, key, depth) for key, sub in props.items() if key not in skip}

    # -- by name -------------------------------------------------------------------------
    def integer(self, name: str) -> int:
        if name == "id" or name.endswith("_id"):
            return self.fake.random_int(10_000, 9_999_999)
        if name in ("duration",):
            return self.fake.random_element([15, 30, 45, 60])
        if name in ("minute",):
            return self.fake.random_element([0, 15, 30, 45])
        if name in ("hour",):
            return self.fake.random_int(8, 17)
        if name in ("day", "weekday"):
            return self.fake.random_int(0, 6)
        return self.fake.random_int(1, 500)

    def string(self, name: str, schema: Mapping[str, Any]) -> str:
        f = self.fake
        n = name.lower()
        fmt = schema.get("format")
        listed = _listed_choices(n, str(schema.get("description") or ""))
        if listed:
            return str(f.random_element(listed))
        if n in CHOICES_BY_NAME:
            return str(f.random_element(CHOICES_BY_NAME[n]))
        if n.endswith("_relation") or n == "relationship":
            return str(f.random_element(RELATIONS))
        if "birth" in n or n in ("dob", "birthdate"):
            return f.date_of_birth(minimum_age=1, maximum_age=95).isoformat()
        if (
            fmt == "date-time"
            or n.endswith("_at")
            or n in ("datetime", "timestamp", "scheduled_time")
        ):
            return timestamp(self.moment())
        if "date" in n or fmt == "date":
            return self.moment().date().isoformat()
        if n.endswith("_time") or n == "time":
            return f"{f.random_int(8, 17):02d}:{f.random_element(['00', '15', '30', '45'])}:00"
        if "email" in n:
            return f.email()
        if "phone" in n or "fax" in n or n.endswith("_number") and "office" in n:
            return f.numerify("(###) ###-####")
        if "social_security" in n or n in ("ssn",):
            return f.ssn()
        if "zip" in n:
            return f.zipcode()
        if n.endswith("city"):
            return f.city()
        if n.endswith("state") or n.endswith("_state_of_occurrence"):
            return f.state_abbr(include_territories=False)
        if "address" in n:
            return f.street_address()
        if n.endswith("first_name") or n == "nick_name":
            return f.first_name()
        if n.endswith("middle_name"):
            return f.first_name()
        if n.endswith("last_name"):
            return f.last_name()
        if n in ("username", "user_name", "assignee_user", "created_by", "assigned_by"):
            return f.user_name()
        if n.endswith("_name") and any(k in n for k in ("contact", "party", "physician")):
            return f.name()
        if n.endswith("suffix"):
            return f.random_element(["", "Jr.", "Sr.", "II", "III"])
        if "npi" in n:
            return f.numerify("1#########")
        if (
            n in ("website",)
            or n.endswith("url")
            or "photo" in n
            or n in ("pdf", "document", "picture")
        ):
            return f"https://drchrono-sandbox.local/media/{f.uuid4()}.{_ext(n)}"
        if n in (
            "copay",
            "price",
            "amount",
            "balance",
            "paid",
            "fee",
            "allowed",
            "adjustment",
            "billed",
            "ins_paid",
            "pt_paid",
            "expected_reimbursement",
        ) or n.endswith(("_amount", "_price", "_balance", "_paid", "_fee")):
            return decimal(f.pyfloat(min_value=0, max_value=400, right_digits=2))
        if "color" in n:
            return f.hex_color()
        if n in ("icd_code", "icd10_code") or n.startswith("icd10"):
            return f.bothify("?##.#").upper()
        if "rxnorm" in n or "snomed" in n or n in ("ndc", "cpt_code", "code", "loinc_code"):
            return f.numerify("########")
        if n in ("timezone",):
            return "US/Pacific"
        if n in ("name", "title", "specialty", "employer", "company") or n.endswith(
            ("_company", "_name")
        ):
            return f.catch_phrase() if n != "specialty" else "General Practice"
        if n in (
            "notes",
            "note",
            "description",
            "reason",
            "text",
            "body",
            "message",
            "comments",
            "instructions",
        ) or n.endswith(("_note", "_notes", "_text")):
            return f.sentence(nb_words=8)
        if n in ("doctor", "patient", "office", "practice_group", "appointment"):
            return str(f.random_int(10_000, 999_999))
        if n.endswith("payer_id"):
            return f.numerify("#####")  # a clearinghouse payer id (Medicare's 00430...)
        if n.endswith(("_number", "_code")):
            return f.bothify("??####").upper()
        return f.word()

    def moment(self) -> dt.datetime:
        start = dt.datetime.combine(self.anchor, dt.time(8)) - dt.timedelta(days=365)
        offset = self.fake.random_int(0, 395 * 24 * 4) * 15
        return start + dt.timedelta(minutes=offset)


def _listed_choices(name: str, description: str) -> list[str]:
    """The values a description lists for its field ("One of `A`, `B`"), blank ones left out;
    none when what it quotes are not values (paths, field names, formats)."""
    if not LISTS_CHOICES.search(description) or re.search(r"format|varies", description, re.I):
        return []
    quoted = [c.strip().strip("\"'") for c in CHOICE.findall(description)]
    choices = [c for c in quoted if PLAIN_CHOICE.fullmatch(c)]
    return choices if len(choices) >= 2 and name not in choices else []


def fits(value: Any, kind: str | None) -> bool:
    """Whether a known value (a doctor's id) may stand where the schema wants ``kind``."""
    if kind is None:
        return True
    if isinstance(value, bool):
        return kind == "boolean"
    if isinstance(value, int):
        return kind in ("integer", "number")
    if isinstance(value, str):
        return kind == "string"
    return False


def _singular(name: str) -> str:
    return name[:-1] if name.endswith("s") else name


def _ext(name: str) -> str:
    return "pdf" if name in ("pdf", "document") else "png" if "photo" in name else "html"


def with_faker(seed: int, work: Callable[[Faker], Any]) -> Any:
    """Run ``work`` with the shared Faker reseeded, so equal seeds give equal data."""
    global _faker
    with _faker_lock:
        if _faker is None:
            from faker import Faker

            _faker = Faker("en_US")
        _faker.seed_instance(seed)
        return work(_faker)


def blank(
    schema: Mapping[str, Any],
    resolve: Callable[[Mapping[str, Any]], Mapping[str, Any]],
    depth: int = 0,
) -> Any:
    """What DrChrono stores for a field nobody set: "", false, [], nested blanks, null numbers."""
    schema = resolve(schema)
    kind = primary_type(schema)
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    if kind == "object" or "properties" in schema:
        if depth >= MAX_DEPTH:
            return {}
        props = schema.get("properties") or {}
        return {k: blank(v, resolve, depth + 1) for k, v in props.items()}
    if kind in ("integer", "number"):
        return None
    return ""
