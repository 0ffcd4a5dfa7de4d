"""Runner preferences: one mapping shape for the TOML file and the stored JSON, checked by key."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from service.planning.model import Equipment, Preferences, Race, TimeOfDay, Window

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class PreferencesError(ValueError):
    """A preference has a bad value; the message names the key."""


def load_toml(path: Path) -> dict[str, Any]:
    """Read a preferences TOML file into a plain mapping (not yet checked)."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise PreferencesError(f"cannot read {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PreferencesError(f"{path} is not valid TOML: {exc}") from None


def _weekday(value: Any, key: str) -> int:
    if not isinstance(value, str) or value.lower() not in WEEKDAYS:
        raise PreferencesError(f"{key}: expected a weekday name like 'sunday', got {value!r}")
    return WEEKDAYS.index(value.lower())


def _weekdays(value: Any, key: str) -> frozenset[int]:
    if not isinstance(value, list):
        raise PreferencesError(f"{key}: expected a list of weekday names")
    return frozenset(_weekday(v, key) for v in value)


def _clock(value: Any, key: str) -> time:
    try:
        hours, minutes = str(value).split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise PreferencesError(f"{key}: expected HH:MM, got {value!r}") from None


def _windows(value: Any, key: str) -> tuple[Window, ...]:
    items = value if isinstance(value, list) else [value]
    windows = []
    for item in items:
        start, sep, end = str(item).partition("-")
        window = Window(_clock(start.strip(), key), _clock(end.strip(), key)) if sep else None
        if window is None or window.end <= window.start:
            raise PreferencesError(f"{key}: expected 'HH:MM-HH:MM' with the end after the start")
        windows.append(window)
    return tuple(sorted(windows, key=lambda w: w.start))


def _availability(value: Any) -> dict[int, tuple[Window, ...]]:
    if not isinstance(value, Mapping):
        raise PreferencesError("availability: expected a table of weekday = ['HH:MM-HH:MM', ...]")
    return {
        _weekday(day, "availability"): _windows(v, f"availability.{day}")
        for day, v in value.items()
    }


def _run_times(value: Any) -> dict[int, time]:
    if not isinstance(value, Mapping):
        raise PreferencesError("run_times: expected a table of weekday = 'HH:MM'")
    return {_weekday(day, "run_times"): _clock(v, f"run_times.{day}") for day, v in value.items()}


def _race(value: Any) -> Race | None:
    if not value:
        return None
    if not isinstance(value, Mapping):
        raise PreferencesError("race: expected a table with date and distance_km")
    try:
        day = (
            value["date"] if isinstance(value["date"], date) else date.fromisoformat(value["date"])
        )
        distance = float(value.get("distance_km", 42.195))
    except (KeyError, TypeError, ValueError):
        raise PreferencesError(
            "race: expected date = YYYY-MM-DD and distance_km = a number"
        ) from None
    if not 0 < distance <= 500:
        raise PreferencesError("race.distance_km: expected a distance between 0 and 500 km")
    return Race(day, distance)


def _choice(options: tuple[str, ...]) -> Callable[[Any, str], str]:
    def check(value: Any, key: str) -> str:
        if value not in options:
            raise PreferencesError(f"{key}: expected one of {', '.join(options)}, got {value!r}")
        return str(value)

    return check


def _zone(value: Any, key: str) -> str:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise PreferencesError(
            f"{key}: unknown time zone {value!r} (use a name like Europe/Berlin)"
        ) from None
    return str(value)


def _minutes(low: int, high: int) -> Callable[[Any, str], int]:
    def check(value: Any, key: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise PreferencesError(f"{key}: expected a whole number from {low} to {high}")
        return value

    return check


def _equipment(value: Any, key: str) -> frozenset[Equipment]:
    options = tuple(e.value for e in Equipment)
    items = value if isinstance(value, list) else [value]
    return frozenset(Equipment(_choice(options)(v, key)) for v in items) or frozenset(
        {Equipment.NONE}
    )


_FIELDS: dict[str, Callable[[Any, str], Any]] = {
    "timezone": _zone,
    "units": _choice(("km", "mi")),
    "week_start": _weekday,
    "equipment": _equipment,
    "preferred_time": lambda v, k: TimeOfDay(_choice(tuple(t.value for t in TimeOfDay))(v, k)),
    "upper_body_per_week": _minutes(2, 3),
    "long_run_day": _weekday,
    "hard_days": _weekdays,
    "run_days": _weekdays,
    "availability": lambda v, k: _availability(v),
    "run_times": lambda v, k: _run_times(v),
    "run_minutes": _minutes(10, 360),
    "min_session_minutes": _minutes(5, 120),
    "max_session_minutes": _minutes(10, 180),
    "race": lambda v, k: _race(v),
}


PREFERENCE_NAMES = frozenset(_FIELDS)  # every key a preferences mapping may hold


def parse_preferences(data: Mapping[str, Any], base: Preferences | None = None) -> Preferences:
    """Preferences from a TOML/JSON mapping; every key optional, unknown keys refused."""
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise PreferencesError(f"unknown preference(s): {', '.join(unknown)}")
    values = {key: _FIELDS[key](value, key) for key, value in data.items()}
    prefs = replace(base or Preferences(), **values)
    if prefs.min_session_minutes > prefs.max_session_minutes:
        raise PreferencesError("min_session_minutes: must not exceed max_session_minutes")
    return prefs


def preferences_to_mapping(prefs: Preferences) -> dict[str, Any]:
    """The JSON-safe mapping that parse_preferences reads back to the same Preferences."""
    out: dict[str, Any] = {
        "timezone": prefs.timezone,
        "units": prefs.units,
        "week_start": WEEKDAYS[prefs.week_start],
        "equipment": sorted(e.value for e in prefs.equipment),
        "preferred_time": prefs.preferred_time.value,
        "run_minutes": prefs.run_minutes,
        "min_session_minutes": prefs.min_session_minutes,
        "max_session_minutes": prefs.max_session_minutes,
    }
    if prefs.upper_body_per_week is not None:
        out["upper_body_per_week"] = prefs.upper_body_per_week
    if prefs.long_run_day is not None:
        out["long_run_day"] = WEEKDAYS[prefs.long_run_day]
    for key, days in (("hard_days", prefs.hard_days), ("run_days", prefs.run_days)):
        if days is not None:
            out[key] = [WEEKDAYS[d] for d in sorted(days)]
    if prefs.availability is not None:
        out["availability"] = {
            WEEKDAYS[d]: [f"{w.start:%H:%M}-{w.end:%H:%M}" for w in ws]
            for d, ws in sorted(prefs.availability.items())
        }
    if prefs.run_times:
        out["run_times"] = {WEEKDAYS[d]: f"{t:%H:%M}" for d, t in sorted(prefs.run_times.items())}
    if prefs.race is not None:
        out["race"] = {"date": prefs.race.day.isoformat(), "distance_km": prefs.race.distance_km}
    return out
