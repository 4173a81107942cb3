"""The report operations, computed from the sandbox's own records: the four day sheets and
availability.

DrChrono documents no response for them (the contracts accept any JSON body on 200), so the
shapes here are the sandbox's: a day sheet is the billing records of its date range with their
totals, ``{"start_date", "end_date", "results": [...], "totals": {...}}``; availability is the
free slots of the offices' exam rooms, ``{"results": [{"office", "exam_room", "doctor",
"start", "end", "duration"}]}``. Dates are read as DrChrono documents them (``M/D/YYYY``) or as
ISO dates; a missing or unreadable date, or an end before the start, is a 400 in DRF's shape.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from drchrono_sandbox.context import SandboxContext
from drchrono_sandbox.families import catalog_for, ensure_seeded
from drchrono_sandbox.generate import timestamp
from drchrono_sandbox.resources import (
    MAX_DATE_RANGE_DAYS,
    REQUIRED,
    BadRequest,
    Record,
    Records,
    parse_day,
    parse_moment,
)

Report = Callable[[SandboxContext, Mapping[str, str]], dict[str, Any]]
DATE_HINT = "Enter a date as M/D/YYYY (or YYYY-MM-DD)."
SLOT_MINUTES = 30  # availability's default slot when no duration is asked for


def report_day(name: str, text: str) -> dt.date:
    if not text:
        raise BadRequest({name: [REQUIRED]})
    try:
        return dt.datetime.strptime(text.strip(), "%m/%d/%Y").date()
    except ValueError:
        day = parse_day(text.strip())
    if day is None:
        raise BadRequest({name: [DATE_HINT]})
    return day


def report_range(query: Mapping[str, str]) -> tuple[dt.date, dt.date]:
    start = report_day("start_date", query.get("start_date", ""))
    end = report_day("end_date", query.get("end_date", ""))
    if end < start:
        raise BadRequest({"end_date": ["End date must not be before the start date."]})
    return start, end


def _records(ctx: SandboxContext, family: str) -> list[Record]:
    catalog = catalog_for(ctx.doc, ctx.shapes)
    resource = catalog.families[family]
    ensure_seeded(ctx.store, catalog, ctx.shapes, resource, ctx.config.family_records)
    records = Records(ctx.store, resource, ctx.shapes.components, ctx.shapes.resolve)
    return records.list({})


def _in_range(
    records: list[Record], field: str, start: dt.date, end: dt.date, query: Mapping[str, str]
) -> list[Record]:
    patient = query.get("patient_id", "")
    kept = []
    for record in records:
        day = parse_day(str(record.get(field) or ""))
        if day is None or not start <= day <= end:
            continue
        if patient and str(record.get("patient")) != patient:
            continue
        kept.append(record)
    return kept


def _total(records: list[Record], field: str) -> str:
    total = Decimal(0)
    for record in records:
        try:
            total += Decimal(str(record.get(field) or 0))
        except InvalidOperation:
            continue  # a seeded value that is not a number adds nothing
    return f"{total:.2f}"


def _sheet(start: dt.date, end: dt.date, results: list[Record], totals: dict[str, Any]) -> dict:
    return {
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "results": results,
        "totals": {"count": len(results), **totals},
    }


def _charges(ctx: SandboxContext, query: Mapping[str, str]) -> list[Record]:
    start, end = report_range(query)
    # By date of service when asked for the scheduled time, else by date of entry.
    field = "service_date" if query.get("charges_date_type") == "scheduled_time" else "posted_date"
    return _in_range(_records(ctx, "line_items"), field, start, end, query)


def _credits(ctx: SandboxContext, query: Mapping[str, str]) -> list[Record]:
    start, end = report_range(query)
    field = "check_date" if query.get("credits_date_type") == "check" else "posted_date"
    return _in_range(_records(ctx, "transactions"), field, start, end, query)


def _payments(ctx: SandboxContext, query: Mapping[str, str]) -> list[Record]:
    start, end = report_range(query)
    return _in_range(_records(ctx, "patient_payments"), "posted_date", start, end, query)


def day_sheet_charges(ctx: SandboxContext, query: Mapping[str, str]) -> dict[str, Any]:
    start, end = report_range(query)
    charges = _charges(ctx, query)
    totals = {f: _total(charges, f) for f in ("billed", "allowed", "adjustment", "paid_total")}
    return _sheet(start, end, charges, {**totals, "balance": _total(charges, "balance_total")})


def day_sheet_credits(ctx: SandboxContext, query: Mapping[str, str]) -> dict[str, Any]:
    start, end = report_range(query)
    credits = _credits(ctx, query)
    totals = {"ins_paid": _total(credits, "ins_paid"), "adjustment": _total(credits, "adjustment")}
    return _sheet(start, end, credits, totals)


def day_sheet_patient_payments(ctx: SandboxContext, query: Mapping[str, str]) -> dict[str, Any]:
    start, end = report_range(query)
    payments = _payments(ctx, query)
    return _sheet(start, end, payments, {"amount": _total(payments, "amount")})


def day_sheet_totals(ctx: SandboxContext, query: Mapping[str, str]) -> dict[str, Any]:
    start, end = report_range(query)
    charges, credits, payments = _charges(ctx, query), _credits(ctx, query), _payments(ctx, query)
    return {
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "totals": {
            "charges": _total(charges, "billed"),
            "insurance_payments": _total(credits, "ins_paid"),
            "insurance_adjustments": _total(credits, "adjustment"),
            "patient_payments": _total(payments, "amount"),
            "charges_count": len(charges),
            "credits_count": len(credits),
            "patient_payments_count": len(payments),
        },
    }


# -- availability -------------------------------------------------------------------------------
def _days(query: Mapping[str, str]) -> list[dt.date]:
    """The days asked for: ``date`` or ``date_range`` (one of them, as appointments need)."""
    date, date_range = query.get("date", ""), query.get("date_range", "")
    if date:
        day = parse_day(date)
        if day is None:
            raise BadRequest({"date": [DATE_HINT]})
        return [day]
    if not date_range:
        raise BadRequest(["Must provide either 'date' or 'date_range' parameter."])
    first, sep, last = date_range.partition("/")
    start, end = parse_day(first), parse_day(last)
    if not sep or start is None or end is None or end < start:
        raise BadRequest({"date_range": ["Enter a date range as yyyy-mm-dd/yyyy-mm-dd."]})
    if (end - start).days > MAX_DATE_RANGE_DAYS:
        raise BadRequest(
            {"date_range": [f"Date range cannot be longer than {MAX_DATE_RANGE_DAYS} days."]}
        )
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]


def _clock(text: Any, default: dt.time) -> dt.time:
    try:
        return dt.time.fromisoformat(str(text))
    except ValueError:
        return default


def availability(ctx: SandboxContext, query: Mapping[str, str]) -> dict[str, Any]:
    """Free slots of each exam room in office hours, around the appointments already booked."""
    days = _days(query)
    raw_duration = query.get("duration", "")
    duration = int(raw_duration) if raw_duration.isdigit() and int(raw_duration) > 0 else 0
    step = dt.timedelta(minutes=duration or SLOT_MINUTES)
    office_id, doctor = query.get("office", ""), query.get("doctor", "")
    offices = [
        o
        for o in _records(ctx, "offices")
        if (not office_id or str(o.get("id")) == office_id)
        and (not doctor or str(o.get("doctor")) == doctor)
        and not o.get("archived")
    ]
    booked: dict[tuple[str, str], list[tuple[dt.datetime, dt.datetime]]] = {}
    with ctx.store.lock:
        appointments = list(ctx.store.table("appointments").values())
    for appt in appointments:
        start = parse_moment(str(appt.get("scheduled_time") or ""))
        if start is None or appt.get("deleted_flag") or appt.get("status") == "Cancelled":
            continue
        end = start + dt.timedelta(minutes=int(appt.get("duration") or SLOT_MINUTES))
        key = (str(appt.get("office")), str(appt.get("exam_room")))
        booked.setdefault(key, []).append((start, end))
    slots = []
    for office in offices:
        opens = _clock(office.get("start_time"), dt.time(8))
        closes = _clock(office.get("end_time"), dt.time(17))
        for room in office.get("exam_rooms") or []:
            taken = booked.get((str(office.get("id")), str(room.get("index"))), [])
            for day in days:
                at, last = dt.datetime.combine(day, opens), dt.datetime.combine(day, closes)
                while at + step <= last:
                    if not any(at < end and start < at + step for start, end in taken):
                        slots.append(
                            {
                                "office": office.get("id"),
                                "exam_room": room.get("index"),
                                "doctor": office.get("doctor"),
                                "start": timestamp(at),
                                "end": timestamp(at + step),
                                "duration": int(step.total_seconds() // 60),
                            }
                        )
                    at += step
    return {"results": slots}


# By operation key; each answers 200 with the report, or raises BadRequest.
REPORTS: dict[str, Report] = {
    "GET /api/availability": availability,
    "GET /api/day_sheet_charges": day_sheet_charges,
    "GET /api/day_sheet_credits": day_sheet_credits,
    "GET /api/day_sheet_patient_payments": day_sheet_patient_payments,
    "GET /api/day_sheet_totals": day_sheet_totals,
}
