"""intervals.icu JSON <-> our types: activities, planned runs from calendar events, our events."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from integrations.strava.mapping import non_negative, sport_of
from integrations.types import CalendarEvent, ExternalActivity, PlannedRun, RunKind

SOURCE = "intervals_icu"
STRAVA_SOURCE = "STRAVA"  # intervals.icu may not pass Strava's data on: these are stubs
RUN_TYPES = frozenset({"Run", "TrailRun", "VirtualRun"})
RACE_CATEGORIES = frozenset({"RACE_A", "RACE_B", "RACE_C"})
LONG_RUN_S = 90 * 60
EASY_S_PER_M = 0.3  # 5:00 min/km: a duration for runs planned by distance only
_HARD = re.compile(
    r"\b(intervals?|tempo|threshold|vo2\s*max|vo2|fartlek|repeats|reps|track)\b"
    r"|\b\d+\s*[x\u00d7]\s*\d",  # 6x800m, 3 x 10 min, with x or the multiplication sign
    re.IGNORECASE,
)
_STRENGTH_KINDS = frozenset({"upper_body", "core"})


def is_strava_stub(raw: Mapping[str, Any]) -> bool:
    """Whether intervals.icu got this activity from Strava (and so must not hand it on)."""
    return raw.get("source") == STRAVA_SOURCE


def activity_from_json(raw: Mapping[str, Any]) -> ExternalActivity:
    """Map one activity; ValueError when it lacks an id or a start."""
    activity_id = raw.get("id")
    if not isinstance(activity_id, str | int) or isinstance(activity_id, bool) or activity_id == "":
        raise ValueError(f"activity without an id: {activity_id!r}")
    start, offset = _start(raw)
    kind = raw.get("type")
    return ExternalActivity(
        source=SOURCE,
        source_id=str(activity_id),
        sport=sport_of(kind, trainer=raw.get("trainer") is True),
        start_utc=start,
        distance_m=non_negative(raw.get("distance")) or 0.0,
        utc_offset_s=offset,
        moving_s=non_negative(raw.get("moving_time")),
        elapsed_s=non_negative(raw.get("elapsed_time")),
        elevation_gain_m=non_negative(raw.get("total_elevation_gain")),
        is_race=raw.get("race") is True,
        name=raw.get("name") if isinstance(raw.get("name"), str) else None,
        source_sport=kind if isinstance(kind, str) else None,
    )


def _start(raw: Mapping[str, Any]) -> tuple[datetime, int | None]:
    """The UTC start and the local offset: ``start_date`` (UTC) against ``start_date_local``."""
    local = _local(raw.get("start_date_local"))
    utc_text = raw.get("start_date")
    if isinstance(utc_text, str) and utc_text:
        start = datetime.fromisoformat(utc_text.replace("Z", "+00:00"))
        start = start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)
        offset = (
            None if local is None else round((local - start.replace(tzinfo=None)).total_seconds())
        )
        return start, offset
    zone = raw.get("timezone")
    if local is None or not isinstance(zone, str):
        raise ValueError("activity without a start")
    aware = local.replace(tzinfo=ZoneInfo(zone))
    delta = aware.utcoffset()
    return aware.astimezone(UTC), None if delta is None else int(delta.total_seconds())


@dataclass(frozen=True, slots=True)
class _Planned:
    day: date
    start_local: datetime | None
    name: str
    text: str
    duration_s: float | None
    distance_m: float
    race: bool

    @property
    def effort_s(self) -> float:
        return self.duration_s if self.duration_s is not None else self.distance_m * EASY_S_PER_M

    @property
    def hard(self) -> bool:
        return _HARD.search(self.text) is not None


def planned_runs_from_events(events: Iterable[Mapping[str, Any]]) -> list[PlannedRun]:
    """Planned runs from calendar events: races, the week's long run, hard and easy runs."""
    planned = [p for p in (_planned(e) for e in events) if p is not None]
    long_runs = {id(p) for p in _weekly_long_runs(planned)}
    runs = []
    for p in sorted(planned, key=lambda p: (p.day, p.start_local or datetime.min)):
        if p.race:
            kind = RunKind.RACE
        elif id(p) in long_runs:
            kind = RunKind.LONG
        else:
            kind = RunKind.HARD if p.hard else RunKind.EASY
        runs.append(PlannedRun(p.day, kind, p.distance_m, p.start_local, p.duration_s, p.name))
    return runs


def _weekly_long_runs(planned: list[_Planned]) -> list[_Planned]:
    """Per ISO week, the longest run named long, or lasting 90 min without hard markers."""
    weeks: dict[tuple[int, int], list[_Planned]] = defaultdict(list)
    for p in planned:
        named = "long" in p.name.lower()
        if not p.race and (named or (p.effort_s >= LONG_RUN_S and not p.hard)):
            weeks[p.day.isocalendar()[:2]].append(p)
    return [max(candidates, key=lambda p: p.effort_s) for candidates in weeks.values()]


def _planned(event: Mapping[str, Any]) -> _Planned | None:
    category = event.get("category")
    if event.get("type") not in RUN_TYPES or category not in {"WORKOUT", *RACE_CATEGORIES}:
        return None
    local = _local(event.get("start_date_local"))
    if local is None:
        return None
    doc = event.get("workout_doc")
    doc = doc if isinstance(doc, dict) else {}
    name, description = _text(event.get("name")), _text(event.get("description"))
    duration = non_negative(event.get("moving_time")) or non_negative(doc.get("duration"))
    return _Planned(
        day=local.date(),
        start_local=local if local.time() != datetime.min.time() else None,
        name=name,
        text=f"{name}\n{description}",
        duration_s=duration or None,
        distance_m=non_negative(event.get("distance")) or non_negative(doc.get("distance")) or 0.0,
        race=category in RACE_CATEGORIES,
    )


def event_body(event: CalendarEvent, zone: ZoneInfo) -> dict[str, Any]:
    """Our session as an intervals.icu WORKOUT event, keyed by our uid as ``external_id``."""
    start = event.start.astimezone(zone)
    strength = any(c in _STRENGTH_KINDS for c in event.categories)
    return {
        "category": "WORKOUT",
        "type": "WeightTraining" if strength else "Workout",
        "start_date_local": start.replace(tzinfo=None).isoformat(timespec="seconds"),
        "name": event.summary,
        "description": event.description,
        "moving_time": round((event.end - event.start).total_seconds()),
        "external_id": event.uid,
    }


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _local(value: object) -> datetime | None:
    """A naive local datetime from "2026-05-05T00:00:00" (or a bare date)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=None)
