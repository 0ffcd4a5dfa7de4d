"""The runner's own data over JSON: preferences to read and change, export, account deletion."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from service.app import runtime
from service.models import utcnow
from service.preferences import WEEKDAYS
from service.usecases.runner_data import (
    BadPreferences,
    current_preferences,
    delete_runner,
    export_runner,
    update_preferences,
)
from service.usecases.runners import InvalidValue
from service.web.auth import current_runner, identity, sign_out_session, single_runner
from service.web.openapi import Body, operation

bp = Blueprint("api_runner", __name__, url_prefix="/api/v1")

WEEKDAY = {"enum": list(WEEKDAYS)}
WEEKDAY_LIST = {"type": "array", "items": WEEKDAY, "uniqueItems": True}
CLOCK = "([01][0-9]|2[0-3]):[0-5][0-9]"
WINDOW = {"type": "string", "pattern": f"^{CLOCK}-{CLOCK}$", "examples": ["18:00-21:00"]}
PREFERENCE_KEYS: dict[str, Any] = {
    "timezone": {"type": "string", "description": "IANA name", "examples": ["Europe/Berlin"]},
    "units": {"enum": ["km", "mi"]},
    "week_start": WEEKDAY,
    "equipment": {
        "type": "array",
        "items": {"enum": ["gym", "dumbbells", "bands", "none"]},
        "uniqueItems": True,
    },
    "preferred_time": {"enum": ["morning", "midday", "evening"]},
    "upper_body_per_week": {"type": "integer", "minimum": 2, "maximum": 3},
    "long_run_day": WEEKDAY,
    "hard_days": WEEKDAY_LIST,
    "run_days": WEEKDAY_LIST,
    "availability": {
        "type": "object",
        "description": "Weekday -> windows; a weekday left out is a day without training.",
        "propertyNames": WEEKDAY,
        "additionalProperties": {"type": "array", "items": WINDOW},
    },
    "run_times": {
        "type": "object",
        "propertyNames": WEEKDAY,
        "additionalProperties": {"type": "string", "pattern": f"^{CLOCK}$"},
    },
    "run_minutes": {"type": "integer", "minimum": 10, "maximum": 360},
    "min_session_minutes": {"type": "integer", "minimum": 5, "maximum": 120},
    "max_session_minutes": {"type": "integer", "minimum": 10, "maximum": 180},
    "race": {
        "type": "object",
        "required": ["date"],
        "properties": {
            "date": {"type": "string", "format": "date"},
            "distance_km": {"type": "number", "exclusiveMinimum": 0, "maximum": 500},
        },
        "additionalProperties": False,
    },
}
ALWAYS_THERE = ["timezone", "units", "week_start", "equipment", "preferred_time", "run_minutes"]
PREFERENCES = Body(
    "Preferences",
    {
        "type": "object",
        "description": "The keys of the preferences TOML file (README), defaults filled in.",
        "required": [*ALWAYS_THERE, "min_session_minutes", "max_session_minutes"],
        "properties": PREFERENCE_KEYS,
        "additionalProperties": False,
    },
)
PREFERENCES_CHANGE = Body(
    "PreferencesChange",
    {
        "type": "object",
        "description": "Any Preferences keys; keys left out stay as they are, null resets one.",
        "properties": {
            key: {"anyOf": [schema, {"type": "null"}]} for key, schema in PREFERENCE_KEYS.items()
        },
        "additionalProperties": False,
    },
)
ROWS = {"type": "array", "items": {"type": "object"}}
STAMPED = {"type": ["object", "null"]}
EXPORT = Body(
    "Export",
    {
        "type": "object",
        "description": "Everything stored about the runner; never a password, token or hash.",
        "required": [
            "format",
            "exported_at",
            "runner",
            "preferences",
            "account",
            "activities",
            "imports",
            "session_overrides",
            "published_sessions",
            "feed",
            "api_tokens",
            "connections",
            "activity_sources",
            "planned_runs",
        ],
        "properties": {
            "format": {"const": "runstrength-export/1"},
            "exported_at": {"type": "string", "format": "date-time"},
            "runner": {"type": "object"},
            "preferences": {"$ref": "#/components/schemas/Preferences"},
            "account": STAMPED,
            "activities": ROWS,
            "imports": ROWS,
            "session_overrides": ROWS,
            "published_sessions": ROWS,
            "feed": STAMPED,
            "api_tokens": ROWS,
            "connections": ROWS,
            "activity_sources": ROWS,
            "planned_runs": ROWS,
        },
        "additionalProperties": False,
    },
)
CONFIRM = Body(
    "DeleteAccount",
    {
        "type": "object",
        "required": ["confirm"],
        "properties": {
            "confirm": {
                "type": "string",
                "description": "The account's email; DELETE for a runner without an account.",
            }
        },
        "additionalProperties": False,
    },
)
DELETED = Body(
    "AccountDeleted",
    {
        "type": "object",
        "required": ["deleted"],
        "properties": {"deleted": {"const": True}},
        "additionalProperties": False,
    },
)


@bp.get("/preferences")
@operation("The runner's preferences, in the shape of the preferences file.", ok=PREFERENCES)
def get_preferences() -> ResponseReturnValue:
    """Every preference, defaults filled in."""
    with runtime().db.session() as db:
        return jsonify(current_preferences(current_runner(db)))


@bp.put("/preferences")
@operation(
    "Change some or all preferences; the plan and the feed are rebuilt from them at once.",
    description="Keys left out keep their value; null resets a key. Nothing is stored on a 400.",
    ok=PREFERENCES,
    body=PREFERENCES_CHANGE,
)
def put_preferences(body: dict[str, Any]) -> ResponseReturnValue:
    """Check every given key, then store the merged preferences."""
    try:
        with runtime().db.session() as db:
            stored = update_preferences(db, current_runner(db), body)
    except BadPreferences as exc:
        return jsonify(error=str(exc)), 400
    return jsonify(stored)


@bp.get("/export")
@operation("Everything stored about the runner, as on the settings page's download.", ok=EXPORT)
def export_data() -> ResponseReturnValue:
    """The same JSON as /settings/export.json."""
    with runtime().db.session() as db:
        return jsonify(export_runner(db, current_runner(db), utcnow()))


@bp.delete("/account")
@operation(
    "Delete the runner, their account and every piece of their data.",
    description="In single-runner mode the runner is replaced by a fresh, empty one.",
    ok=DELETED,
    body=CONFIRM,
)
def delete_account(body: dict[str, Any]) -> ResponseReturnValue:
    """Delete once the body confirms it; a cookie session ends with it."""
    confirm = body.get("confirm")
    if not isinstance(confirm, str):
        return jsonify(error="confirm: expected the account's email as a string"), 400
    try:
        with runtime().db.session() as db:
            delete_runner(db, current_runner(db), confirm, replace_with_new=single_runner())
    except InvalidValue as exc:
        return jsonify(error=f"confirm: {exc}"), 400
    found = identity()
    if found is not None and found.via == "cookie":
        sign_out_session()
    return jsonify(deleted=True)
