"""Synthetic runner weeks for the planning tests: histories as data, requests and plans."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from service.planning.model import (
    PastRun,
    Plan,
    PlanRequest,
    Preferences,
    Session,
    SessionKind,
    WeekPlan,
    Window,
)
from service.planning.planner import build_plan

TODAY = date(2026, 11, 25)  # a Wednesday
THIS_MONDAY = date(2026, 11, 23)
NEXT_MONDAY = date(2026, 11, 30)
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
TZ = "Europe/Berlin"
UB = SessionKind.UPPER_BODY
CORE = SessionKind.CORE
CROSS = SessionKind.CROSS_TRAINING


@dataclass(frozen=True)
class R:
    """One run of a weekly template: distance, pace (min/km), start "HH:MM" or None, flags."""

    km: float
    pace: float = 6.0
    at: str | None = "07:00"
    workout: bool = False
    race: bool = False


def easy(km: float = 8.0, at: str | None = "07:00") -> R:
    return R(km, 6.0, at)


def fast(km: float = 10.0, at: str | None = "07:00") -> R:
    """Intervals: clearly faster than the runner's usual pace (4:45/km against 6:00)."""
    return R(km, 4.75, at)


def long(km: float = 20.0, at: str | None = "09:00") -> R:
    return R(km, 6.3, at)


def hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def history(
    week: Mapping[int, R], *, weeks: int = 6, today: date = TODAY, scale: float = 1.0
) -> tuple[PastRun, ...]:
    """A weekly template (weekday -> run) over ``weeks`` full weeks and this week before today."""
    monday = today - timedelta(days=today.weekday())
    runs = []
    for w in range(weeks, -1, -1):
        for weekday, run in sorted(week.items()):
            day = monday - timedelta(weeks=w) + timedelta(days=weekday)
            if day >= today:
                continue
            start = datetime.combine(day, hhmm(run.at)) if run.at else None
            km = run.km * scale
            runs.append(PastRun(day, km * 1000, km * run.pace * 60, start, run.race, run.workout))
    return tuple(runs)


def windows(spec: Mapping[int, str]) -> dict[int, tuple[Window, ...]]:
    """weekday -> "HH:MM-HH:MM[,HH:MM-HH:MM]" as the preferences' availability mapping."""
    out = {}
    for weekday, text in spec.items():
        parts = [p.split("-") for p in text.split(",")]
        out[weekday] = tuple(Window(hhmm(a), hhmm(b)) for a, b in parts)
    return out


def prefs(**kw: Any) -> Preferences:
    kw.setdefault("timezone", TZ)
    return Preferences(**kw)


def request(**kw: Any) -> PlanRequest:
    kw.setdefault("runner_key", "runner-1")
    kw.setdefault("prefs", prefs())
    kw.setdefault("history", ())
    kw.setdefault("today", TODAY)
    kw.setdefault("start", NEXT_MONDAY)
    return PlanRequest(**kw)


def plan(**kw: Any) -> Plan:
    return build_plan(request(**kw))


def week(**kw: Any) -> WeekPlan:
    """The first planned week."""
    return plan(**kw).weeks[0]


def of_kind(w: WeekPlan, kind: SessionKind) -> list[Session]:
    return [s for s in w.sessions if s.kind is kind]


def weekdays(sessions: list[Session]) -> list[int]:
    return sorted(s.start.weekday() for s in sessions)


def local_at(day: date, text: str, tz: str = TZ) -> datetime:
    return datetime.combine(day, hhmm(text), tzinfo=ZoneInfo(tz))


# Weekly templates (weekday -> run) used across the tests.
TYPICAL_50K = {TUE: fast(10), WED: easy(8), THU: easy(8), SAT: easy(6), SUN: long(18)}
BEGINNER_20K = {TUE: easy(5), THU: easy(5), SAT: easy(10, "09:00")}
MARATHON_80K = {
    MON: easy(10),
    TUE: fast(14),
    WED: easy(12),
    THU: fast(12),
    FRI: easy(8),
    SUN: long(26),
}
