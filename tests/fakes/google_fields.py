"""Event fields as Google checks and echoes them, and the filters of events.list."""

from __future__ import annotations

import copy
import secrets
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tests.fakes.wire import ApiError, Call

Json = dict[str, Any]
READ_ONLY = {"kind", "etag", "htmlLink", "created", "updated", "creator", "organizer"}
MAX_PAGE = 2500


def wanted(body: Json, call: Call, zone: str) -> bool:
    """Whether a full (non-sync) listing shows this event, given the query's filters."""
    if body["status"] == "cancelled" and not call.flag("showDeleted"):
        return False
    low, high = call.arg("timeMin"), call.arg("timeMax")
    if low and instant(body["end"], zone) <= rfc3339(low, "timeMin"):
        return False
    if high and instant(body["start"], zone) >= rfc3339(high, "timeMax"):
        return False
    private = body.get("extendedProperties", {}).get("private", {})
    for wanted in call.query.get("privateExtendedProperty", []):
        key, _, value = wanted.partition("=")
        if private.get(key) != value:
            return False
    text = (call.arg("q") or "").lower()
    return text in f"{body.get('summary', '')} {body.get('description', '')}".lower()


def validated(event: Json, calendar: Json) -> Json:
    """The event with start/end normalised as Google returns them; 400 for what Google refuses."""
    if event.get("status") not in {"confirmed", "tentative", "cancelled"}:
        raise ApiError(400, "invalid", "Invalid value for: status")
    zone = calendar["timeZone"]
    event["start"], event["end"] = (
        when(event.get("start"), "start", zone),
        when(event.get("end"), "end", zone),
    )
    if instant(event["end"], zone) < instant(event["start"], zone):
        raise ApiError(400, "timeRangeEmpty", "The specified time range is empty.")
    reminders = event.get("reminders") or {"useDefault": True}
    overrides = reminders.get("overrides") or []
    if reminders.get("useDefault") and overrides:
        raise ApiError(
            400,
            "cannotUseDefaultRemindersAndSpecifyOverride",
            "Cannot specify both default reminders and overrides at the same time.",
        )
    if len(overrides) > 5 or any(
        o.get("method") not in {"email", "popup"} or not 0 <= int(o.get("minutes", -1)) <= 40320
        for o in overrides
    ):
        raise ApiError(400, "invalid", "Invalid value for: reminders.overrides")
    for kind in ("private", "shared"):
        properties = event.get("extendedProperties", {}).get(kind, {})
        if any(
            not isinstance(v, str) or len(k) > 44 or len(v) > 1024 for k, v in properties.items()
        ):
            raise ApiError(400, "invalid", f"Invalid value for: extendedProperties.{kind}")
    return event


def when(value: object, label: str, calendar_zone: str) -> Json:
    """A start or end as Google echoes it: dateTime with the offset of its zone, or a date."""
    if not isinstance(value, dict) or not (value.get("dateTime") or value.get("date")):
        raise ApiError(400, "required", f"Missing {label} time.")
    if value.get("date"):
        try:
            return {"date": date.fromisoformat(value["date"]).isoformat()}
        except ValueError:
            raise ApiError(400, "invalid", f"Invalid {label} time.") from None
    named = value.get("timeZone")
    zone = time_zone(named, label) if named else None
    try:
        moment = datetime.fromisoformat(value["dateTime"]).replace(microsecond=0)
    except ValueError:
        raise ApiError(400, "invalid", f"Invalid {label} time.") from None
    if moment.tzinfo is None:
        if zone is None:
            raise ApiError(400, "invalid", f"Missing time zone definition for {label} time.")
        moment = moment.replace(tzinfo=zone)
    shown = moment.astimezone(zone or ZoneInfo(calendar_zone)).isoformat()
    return {"dateTime": shown.replace("+00:00", "Z")} | ({"timeZone": named} if named else {})


def instant(when: Json, calendar_zone: str) -> datetime:
    if "date" in when:
        return datetime.combine(date.fromisoformat(when["date"]), time(), ZoneInfo(calendar_zone))
    return datetime.fromisoformat(when["dateTime"])


def rfc3339(value: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ApiError(400, "invalid", f"Bad Request: {name} needs an RFC3339 time with offset")
    return moment


def time_zone(name: object, label: str) -> ZoneInfo:
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise ApiError(
            400, "timeZoneInvalid", f"Invalid time zone definition for {label}."
        ) from None


def page_size(call: Call) -> int:
    try:
        size = int(call.arg("maxResults") or 250)
    except ValueError:
        size = 0
    if size < 1:
        raise ApiError(400, "invalid", "Invalid value for: maxResults")
    return min(size, MAX_PAGE)


def writable(body: Json) -> Json:
    return {k: copy.deepcopy(v) for k, v in body.items() if k not in READ_ONLY}


def merge(target: Json, changes: Json) -> Json:
    for key, value in changes.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value)
        else:
            target[key] = value
    return target


def new_event_id() -> str:
    alphabet = "0123456789abcdefghijklmnopqrstuv"
    return "".join(secrets.choice(alphabet) for _ in range(26))


def stamp(moment: datetime) -> str:
    """RFC 3339 in UTC with milliseconds, as Google writes `created` and `updated`."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
