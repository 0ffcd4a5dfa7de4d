"""JSON Schemas of the session routes: one session with its state and conflicts, its slots, a
move preview, and the move body."""

from __future__ import annotations

from typing import Any

from service.usecases.session_slots import START_SHAPE, STATES
from service.web.api_schemas import DATE, DATETIME, EXERCISE, SESSION, SKIPPED
from service.web.openapi import Body


def _closed(properties: dict[str, Any], *, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """An object with every property required except ``optional``, and nothing else."""
    return {
        "type": "object",
        "required": [name for name in properties if name not in optional],
        "properties": properties,
        "additionalProperties": False,
    }


START = {
    "type": "string",
    "pattern": f"^{START_SHAPE.pattern}$",
    "description": "ISO 8601 date and time, with an offset or in the runner's zone.",
    "examples": ["2026-11-26T18:30:00+01:00", "2026-11-26T18:30"],
}
CONFLICTS = {
    "type": "array",
    "items": SKIPPED,
    "description": "Hard rules the session breaks where it is (or would be), each in words.",
}
PLACED_ONLY = ("date", "start", "end", "why", "override")
STATE_NOTE = (
    "planned: where runstrength put it; moved, locked, skipped: the runner's say; "
    "not_placed: a rule kept it out of the week."
)

SESSION_STATE = Body(
    "SessionState",
    _closed(
        {
            **SESSION["properties"],
            "exercises": {"type": "array", "items": EXERCISE},
            "state": {"enum": list(STATES), "description": STATE_NOTE},
            "week_start": DATE,
            "conflicts": CONFLICTS,
            "not_placed": _closed({"rule": {"type": "string"}, "reason": {"type": "string"}}),
        },
        optional=(*PLACED_ONLY, "not_placed"),
    ),
)

SLOTS = Body(
    "SessionSlots",
    _closed(
        {
            "uid": {"type": "string"},
            "week_start": DATE,
            "duration_min": {"type": "integer", "minimum": 0},
            "slots": {
                "type": "array",
                "items": _closed({"start": DATETIME, "end": DATETIME, "conflicts": CONFLICTS}),
            },
        }
    ),
)

MOVE_PREVIEW = Body(
    "MovePreview",
    _closed(
        {
            "uid": {"type": "string"},
            "start": DATETIME,
            "end": DATETIME,
            "conflicts": CONFLICTS,
            "displaced": {
                "type": "array",
                "items": SKIPPED,
                "description": "Other sessions runstrength could then no longer place.",
            },
        }
    ),
)

MOVE = Body(
    "SessionMove",
    _closed({"start": START}),
)
