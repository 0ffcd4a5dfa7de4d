"""JSON Schemas (2020-12, as OpenAPI 3.1 uses) of the API's response bodies."""

from __future__ import annotations

from typing import Any

from service.web.openapi import Body

DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}
NUMBER = {"type": "number"}
RATIO = {
    "type": ["number", "null"],
    "description": "Last 7 days' distance over a quarter of the last 28 days'; null without runs.",
}
KIND = {"enum": ["upper_body", "core", "cross_training"]}


def _object(properties: dict[str, Any], *, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """A closed object: every property required except ``optional``, nothing else allowed."""
    return {
        "type": "object",
        "required": [name for name in properties if name not in optional],
        "properties": properties,
        "additionalProperties": False,
    }


EXERCISE = _object(
    {
        "name": {"type": "string"},
        "sets": {"type": "integer", "minimum": 0},
        "reps": {"type": "string", "description": "Reps per set, e.g. 8-12."},
        "hold_s": {"type": "string", "description": "Seconds to hold per set, e.g. 30-60."},
        "minutes": {"type": "integer", "minimum": 0},
    },
    optional=("reps", "hold_s", "minutes"),
)

SESSION = _object(
    {
        "uid": {"type": "string"},
        "date": DATE,
        "start": DATETIME,
        "end": DATETIME,
        "kind": KIND,
        "variant": {"type": "string"},
        "title": {"type": "string"},
        "duration_min": {"type": "integer", "minimum": 0},
        "exercises": {"type": "array", "items": EXERCISE},
        "why": {"type": "string"},
        "override": {"enum": ["move", "skip", "lock", None]},
    }
)

SKIPPED = _object(
    {
        "kind": KIND,
        "rule": {"type": "string"},
        "reason": {"type": "string"},
        "uid": {"type": "string"},
    },
    optional=("uid",),
)

DAY = _object(
    {
        "date": DATE,
        "run": {"enum": ["none", "easy", "hard", "long", "race"]},
        "planned_km": NUMBER,
    }
)

WEEK = _object(
    {
        "week_start": DATE,
        "phase": {"enum": ["base", "peak", "taper", "race", "recovery"]},
        "deload": {"type": "boolean"},
        "mileage_km": NUMBER,
        "load_ratio": RATIO,
        "days": {"type": "array", "items": DAY},
        "sessions": {"type": "array", "items": SESSION},
        "skipped": {"type": "array", "items": SKIPPED},
        "conflicts": {
            "type": "array",
            "items": SKIPPED,
            "description": "Sessions the runner placed that break a hard rule, kept and named.",
        },
    }
)

PLAN = Body(
    "Plan",
    _object(
        {
            "runner": _object(
                {
                    "timezone": {"type": "string"},
                    "units": {"enum": ["km", "mi"]},
                    "week_start": {"type": "string"},
                }
            ),
            "weeks": {"type": "array", "items": WEEK},
        }
    ),
)

MILEAGE = Body(
    "Mileage",
    _object(
        {
            "today": DATE,
            "weeks": {
                "type": "array",
                "items": _object(
                    {
                        "week_start": DATE,
                        "runs": {"type": "integer", "minimum": 0},
                        "distance_km": NUMBER,
                        "distance_mi": NUMBER,
                        "longest_km": NUMBER,
                        "moving_s": {"type": "integer", "minimum": 0},
                    }
                ),
            },
            "avg4_km": NUMBER,
            "load_ratio": RATIO,
        }
    ),
)

STATUS_OK = Body("Alive", _object({"status": {"const": "ok"}}))
STATUS_READY = Body("Ready", _object({"status": {"const": "ready"}}))
STATUS_UNAVAILABLE = Body(
    "Unavailable",
    _object({"status": {"const": "unavailable"}, "reason": {"type": "string"}}),
)
DOCUMENT = Body("OpenApiDocument", {"type": "object", "required": ["openapi", "paths"]})
