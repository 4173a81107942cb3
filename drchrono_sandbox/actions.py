"""Operations beyond create/read/update/delete that change a stateful record.

``POST /api/offices/{id}/add_exam_room`` adds a room to the office, so appointments can be booked
in it at once. The document gives the action no request body; the sandbox takes an optional
``name`` and ``online_scheduling`` and numbers the room after the office's last one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from drchrono_sandbox.resources import BadRequest, Record, coerce
from drchrono_sandbox.state import Store

Action = Callable[[Store, str, Mapping[str, Any]], Record | None]


def add_exam_room(store: Store, office_id: str, body: Mapping[str, Any]) -> Record | None:
    """The office with one more exam room, or None when there is no such office."""
    errors: dict[str, list[str]] = {}
    fields: dict[str, Any] = {}
    for key, kind in (("name", "string"), ("online_scheduling", "boolean")):
        try:
            fields[key] = coerce({"type": kind}, body.get(key))
        except ValueError as exc:
            errors[key] = [str(exc)]
    if errors:
        raise BadRequest(errors)
    with store.lock:
        office = store.table("offices").get(office_id)
        if office is None:
            return None
        rooms = list(office.get("exam_rooms") or [])
        index = max((int(room.get("index") or 0) for room in rooms), default=0) + 1
        rooms.append(
            {
                "index": index,
                "name": fields["name"] or f"Exam Room {index}",
                "online_scheduling": bool(fields["online_scheduling"]),
            }
        )
        updated = {**office, "exam_rooms": rooms}
        store.table("offices")[office_id] = updated
        store.save()
        return updated


# By operation key; each answers 201 with the changed record, or 404.
ACTIONS: dict[str, Action] = {
    "POST /api/offices/{id}/add_exam_room": add_exam_room,
}
