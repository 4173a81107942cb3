"""Seeded synthetic practice: one doctor (the user), offices with exam rooms, patients with full
demographics, appointments around the anchor day, and their clinical records.

Everything comes from Faker seeded with the config's seed, so a seed and an anchor day always give
the same practice. Names, birth dates, SSNs, phones, emails and addresses look real on purpose: the
harness's PHI scrubbing is tested against them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from faker import Faker

from drchrono_sandbox.config import SandboxConfig
from drchrono_sandbox.generate import ValueMaker, decimal, timestamp, with_faker
from drchrono_sandbox.openapi_ops import OpenAPIDocument
from drchrono_sandbox.shapes import ContractShapes, primary_type
from drchrono_sandbox.state import Store

# First ids handed out per resource; appointments use long numeric strings like DrChrono.
ID_START = {
    "patients": 80_001_201,
    "appointments": 190_000_001,
    "offices": 301_801,
    "doctors": 278_001,
    "users": 410_301,
    "tasks": 5_400_001,
    "allergies": 6_700_001,
    "medications": 7_100_001,
    "problems": 8_200_001,
}
GENDERS = ("Male", "Female", "Male", "Female", "Other", "UNK")
VISIT_REASONS = (
    "Annual physical",
    "Follow-up visit",
    "Flu symptoms",
    "Blood pressure check",
    "Medication review",
    "Back pain",
    "Lab results review",
    "Vaccination",
    "Skin rash",
    "Diabetes management",
)
STATUS_PAST = ("Complete", "Complete", "Complete", "Arrived", "No Show", "Cancelled")
STATUS_FUTURE = ("Confirmed", "Not Confirmed", "", "Confirmed", "Rescheduled")
ALLERGENS = (
    ("Penicillin", "Hives"),
    ("Peanuts", "Anaphylaxis"),
    ("Latex", "Rash"),
    ("Sulfa drugs", "Itching"),
    ("Shellfish", "Swelling"),
    ("Aspirin", "Wheezing"),
)
DRUGS = (
    ("Lisinopril 10 MG Oral Tablet", "314076"),
    ("Metformin 500 MG Oral Tablet", "861007"),
    ("Atorvastatin 20 MG Oral Tablet", "617310"),
    ("Amoxicillin 500 MG Oral Capsule", "308191"),
    ("Levothyroxine 50 MCG Oral Tablet", "966224"),
    ("Albuterol 90 MCG Inhaler", "745679"),
)
PROBLEMS = (
    ("Essential hypertension", "I10"),
    ("Type 2 diabetes mellitus", "E11.9"),
    ("Hyperlipidemia", "E78.5"),
    ("Asthma", "J45.909"),
    ("Hypothyroidism", "E03.9"),
    ("Low back pain", "M54.5"),
)


def seed_store(
    store: Store, config: SandboxConfig, doc: OpenAPIDocument, shapes: ContractShapes
) -> None:
    """Fill ``store`` with the seeded practice; records follow the contract schemas."""
    anchor = config.anchor_date or dt.date.today()
    store.meta["anchor_date"] = anchor.isoformat()
    with_faker(config.seed, lambda fake: _Seeder(store, config, doc, shapes, fake, anchor).run())


class _Seeder:
    def __init__(
        self,
        store: Store,
        config: SandboxConfig,
        doc: OpenAPIDocument,
        shapes: ContractShapes,
        fake: Faker,
        anchor: dt.date,
    ) -> None:
        self.store, self.config, self.doc, self.fake, self.anchor = store, config, doc, fake, anchor
        self.shapes = shapes
        self.maker = ValueMaker(fake, shapes.resolve, anchor=anchor)

    def full(self, schema: str, fixed: Mapping[str, Any]) -> dict[str, Any]:
        """Every field of the schema, realistic, with ``fixed`` values winning."""
        component = self.shapes.components.get(schema, {})
        generated = self.maker.obj(component, skip=fixed)  # none wasted on fixed fields
        in_order = dict.fromkeys(component.get("properties") or {})
        return {**in_order, **generated, **fixed}

    def as_typed(self, schema: str, field_name: str, value: int) -> int | str:
        """An integer id as the contract types the field (text where it still says string)."""
        field_schema = (self.shapes.components.get(schema, {}).get("properties") or {}).get(
            field_name
        ) or {}
        return str(value) if primary_type(field_schema) == "string" else value

    def ts(self, days_before: int) -> str:
        moment = dt.datetime.combine(self.anchor, dt.time(9)) - dt.timedelta(
            days=days_before, minutes=self.fake.random_int(0, 600)
        )
        return timestamp(moment)

    def new_id(self, resource: str) -> int:
        return self.store.next_id(resource, ID_START[resource])

    def put(self, resource: str, record: dict[str, Any], key: str | None = None) -> dict[str, Any]:
        self.store.table(resource)[key or str(record["id"])] = record
        return record

    def run(self) -> None:
        doctor = self.doctor()
        offices = [self.office(doctor, n) for n in range(max(1, self.config.offices))]
        self.user(doctor)
        patients = [self.patient(doctor, offices) for _ in range(self.config.patients)]
        if patients:
            self.appointments(doctor, offices, patients)
            for patient in patients[: max(1, self.config.clinical_records)]:
                self.clinical(doctor, patient)
        for n in range(max(1, self.config.clinical_records // 2)):
            self.task(n, patients)

    def doctor(self) -> dict[str, Any]:
        f = self.fake
        first, last = f.first_name(), f.last_name()
        doctor_id = self.new_id("doctors")
        # One practice group id for the doctor and the user. It is an integer (the user's
        # contract says so); the Doctor contract still types it string until corrected.
        self.store.meta["practice_group"] = f.random_int(10_000, 99_999)
        return self.put(
            "doctors",
            self.full(
                "Doctor",
                {
                    "id": doctor_id,
                    "first_name": first,
                    "last_name": last,
                    "suffix": "MD",
                    "email": f"{first}.{last}@example.com".lower(),
                    "specialty": "Family Medicine",
                    "job_title": "Provider/Staff (Private Practice)",
                    "is_account_suspended": False,
                    "country": "US",
                    "timezone": "US/Eastern",
                    "npi_number": f.numerify("1#########"),
                    "group_npi_number": f.numerify("1#########"),
                    "practice_group": self.as_typed(
                        "Doctor", "practice_group", self.store.meta["practice_group"]
                    ),
                    "practice_group_name": f"{last} Family Practice",
                    "website": f"https://www.{last.lower()}familypractice.example.com",
                    "profile_picture": "",
                },
            ),
        )

    def office(self, doctor: dict[str, Any], n: int) -> dict[str, Any]:
        f = self.fake
        rooms = [
            {"index": i, "name": f"Exam Room {i}", "online_scheduling": i == 1}
            for i in range(1, 4 - min(n, 1))
        ]
        return self.put(
            "offices",
            self.full(
                "Office",
                {
                    "id": self.new_id("offices"),
                    "doctor": doctor["id"],
                    "archived": False,
                    "name": "Main Office" if n == 0 else f"{f.city()} Clinic",
                    "address": f.street_address(),
                    "city": f.city(),
                    "state": f.state_abbr(False),
                    "zip_code": f.zipcode(),
                    "country": "US",
                    "phone_number": f.numerify("(###) ###-####"),
                    "fax_number": f.numerify("(###) ###-####"),
                    "exam_rooms": rooms,
                    "start_time": "08:00:00",
                    "end_time": "17:00:00",
                    "online_scheduling": n == 0,
                    "tax_id_number_professional": f.numerify("##-#######"),
                },
            ),
        )

    def user(self, doctor: dict[str, Any]) -> None:
        permissions = {name: True for name in self.doc.x_permissions()}
        user = {
            "id": self.new_id("users"),
            "username": f"{doctor['first_name'][0]}{doctor['last_name']}".lower(),
            "doctor": doctor["id"],
            "practice_group": self.store.meta["practice_group"],
            "is_doctor": True,
            "is_staff": False,
            "permissions": permissions,
        }
        self.put("users", user)
        self.store.meta["user_id"] = user["id"]
        self.store.meta["doctor_id"] = doctor["id"]

    def patient(self, doctor: dict[str, Any], offices: list[dict[str, Any]]) -> dict[str, Any]:
        f = self.fake
        gender = f.random_element(GENDERS)
        first = f.first_name_male() if gender == "Male" else f.first_name_female()
        last = f.last_name()
        patient_id = self.new_id("patients")
        created = self.ts(f.random_int(30, 900))
        return self.put(
            "patients",
            self.full(
                "Patient",
                {
                    "id": patient_id,
                    "chart_id": f"{last[:2].upper()}{first[:2].upper()}{patient_id % 1_000_000:06d}",
                    "first_name": first,
                    "middle_name": f.random_element(["", f.first_name()]),
                    "last_name": last,
                    "nick_name": "",
                    "date_of_birth": f.date_of_birth(minimum_age=2, maximum_age=92).isoformat(),
                    "gender": gender,
                    "doctor": doctor["id"],
                    "email": f"{first}.{last}{f.random_int(1, 99)}@example.net".lower(),
                    "cell_phone": f.numerify("(###) ###-####"),
                    "home_phone": f.numerify("(###) ###-####"),
                    "office_phone": "",
                    "address": f.street_address(),
                    "city": f.city(),
                    "state": f.state_abbr(False),
                    "zip_code": f.zipcode(),
                    "social_security_number": f.ssn(),
                    "race": f.random_element(
                        ["white", "black", "asian", "other", "declined", "blank"]
                    ),
                    "ethnicity": f.random_element(
                        ["not_hispanic", "hispanic", "declined", "blank"]
                    ),
                    "preferred_language": f.random_element(
                        ["eng", "eng", "eng", "spa", "zho", "blank"]
                    ),
                    "patient_status": f.random_element(["A"] * 8 + ["I", "D"]),
                    "offices": [o["id"] for o in offices],
                    "copay": decimal(f.random_element([0, 20, 35])),
                    "created_at": created,
                    "updated_at": created,
                    "preferred_pharmacies": [],
                    "patient_flags": [],
                    "patient_flags_attached": [],
                    "custom_demographics": [],
                    "patient_photo": "",
                    "patient_photo_date": "",
                    "disable_sms_messages": False,
                    "primary_care_physician": f"Dr. {doctor['last_name']}",
                },
            ),
        )

    def appointments(
        self, doctor: dict[str, Any], offices: list[dict[str, Any]], patients: list[dict[str, Any]]
    ) -> None:
        f = self.fake
        taken: set[tuple[int, int, dt.datetime]] = set()
        for n in range(self.config.appointments):
            office = offices[n % len(offices)]
            room = f.random_element([r["index"] for r in office["exam_rooms"]])
            while True:  # DrChrono refuses overlaps, so the seed has none
                day = self.anchor + dt.timedelta(days=f.random_int(-60, 60))
                at = dt.time(f.random_int(8, 16), f.random_element([0, 30]))
                start = dt.datetime.combine(day, at)
                if (office["id"], room, start) not in taken:
                    taken.add((office["id"], room, start))
                    break
            patient = patients[n % len(patients)]
            past = start.date() < self.anchor
            created = start - dt.timedelta(days=f.random_int(3, 40))
            appointment_id = str(self.new_id("appointments"))
            self.put(
                "appointments",
                self.full(
                    "Appointment",
                    {
                        "id": appointment_id,
                        "doctor": doctor["id"],
                        "office": office["id"],
                        "exam_room": room,
                        "patient": patient["id"],
                        "scheduled_time": timestamp(start),
                        "duration": 30,
                        "status": f.random_element(STATUS_PAST if past else STATUS_FUTURE),
                        "reason": f.random_element(VISIT_REASONS),
                        "notes": f.sentence(nb_words=6),
                        "created_at": timestamp(created),
                        "updated_at": timestamp(created),
                        "deleted_flag": False,
                        "is_walk_in": False,
                        "allow_overlapping": False,
                        "appt_is_break": False,
                        "recurring_appointment": False,
                        "recurring_days": [],
                        "base_recurring_appointment": "",
                        "recurrence_instance_key": None,
                        "is_virtual_base": False,
                        "color": "",
                        "custom_fields": [],
                        "custom_vitals": [],
                        "billing_notes": [],
                        "reminders": [],
                        "status_transitions": [],
                        "icd9_codes": [],
                        "icd10_codes": [f.random_element(PROBLEMS)[1]] if past else [],
                        "created_by": doctor["email"].split("@")[0],
                    },
                ),
            )
            if past:  # a visit that happened has its note; notes are keyed by appointment
                self.put(
                    "clinical_notes",
                    key=appointment_id,
                    record={
                        "appointment": appointment_id,
                        "patient": patient["id"],
                        "archived": False,
                        "clinical_note_sections": [],
                        "signee": {
                            "locked_by": doctor["email"].split("@")[0],
                            "supervisor_locked_by": "",
                        },
                    },
                )

    def clinical(self, doctor: dict[str, Any], patient: dict[str, Any]) -> None:
        f = self.fake
        allergen, reaction = f.random_element(ALLERGENS)
        self.put(
            "allergies",
            self.full(
                "PatientAllergy",
                {
                    "id": self.new_id("allergies"),
                    "doctor": doctor["id"],
                    "patient": patient["id"],
                    "description": allergen,
                    "reaction": reaction,
                    "status": "active",
                    "notes": "",
                    "verification_status": "confirmed",
                },
            ),
        )
        drug, rxnorm = f.random_element(DRUGS)
        self.put(
            "medications",
            self.full(
                "PatientDrug",
                {
                    "id": self.new_id("medications"),
                    "doctor": doctor["id"],
                    "patient": patient["id"],
                    "name": drug,
                    "rxnorm": rxnorm,
                    "status": "active",
                    "frequency": "once daily",
                    "route": "oral",
                    "dosage_quantity": "1",
                    "dosage_units": "tablet",
                    "number_refills": f.random_int(0, 5),
                    "dispense_quantity": 30.0,
                    "date_started_taking": self.ts(200)[:10],
                    "date_stopped_taking": "",
                    "date_prescribed": self.ts(210)[:10],
                },
            ),
        )
        name, icd = f.random_element(PROBLEMS)
        self.put(
            "problems",
            self.full(
                "PatientProblem",
                {
                    "id": self.new_id("problems"),
                    "doctor": doctor["id"],
                    "patient": patient["id"],
                    "name": name,
                    "icd_code": icd,
                    "icd_version": "10",
                    "status": "active",
                    "date_diagnosis": self.ts(300)[:10],
                    "date_onset": self.ts(320)[:10],
                    "date_changed": self.ts(100)[:10],
                    "verification_status": "confirmed",
                },
            ),
        )

    def task(self, n: int, patients: list[dict[str, Any]]) -> None:
        f = self.fake
        created = self.ts(f.random_int(1, 60))
        patient = patients[n % len(patients)] if patients else None
        title = "Review lab results"
        if patient:
            title = f"Call {patient['first_name']} {patient['last_name']} about results"
        self.put(
            "tasks",
            self.full(
                "Task",
                {
                    "id": self.new_id("tasks"),
                    "title": title,
                    "status": f.random_int(1, 3),
                    "priority": f.random_element(["10", "20", "30"]),
                    "archived": False,
                    "created_at": created,
                    "updated_at": created,
                    "associated_items": [],
                    "notes": [],
                    "due_date": {"time": self.ts(-f.random_int(1, 14))},
                },
            ),
        )
