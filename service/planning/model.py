"""The planner's vocabulary: what goes in (preferences, history, planned runs) and what comes out.

Plain frozen values; dates are the runner's local dates, datetimes are aware (runner's offset).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum

from integrations.types import PlannedRun, RunKind

__all__ = [
    "DayPlan",
    "Equipment",
    "Exercise",
    "Override",
    "OverrideAction",
    "PastRun",
    "Plan",
    "PlanRequest",
    "PlannedRun",
    "Preferences",
    "Race",
    "RunKind",
    "Session",
    "SessionKind",
    "Skipped",
    "TimeOfDay",
    "WeekPlan",
    "Window",
]


class SessionKind(StrEnum):
    UPPER_BODY = "upper_body"
    CORE = "core"
    CROSS_TRAINING = "cross_training"


class Equipment(StrEnum):
    GYM = "gym"
    DUMBBELLS = "dumbbells"
    BANDS = "bands"
    NONE = "none"


class TimeOfDay(StrEnum):
    MORNING = "morning"
    MIDDAY = "midday"
    EVENING = "evening"


@dataclass(frozen=True, slots=True)
class Window:
    """A local time window [start, end) on one weekday."""

    start: time
    end: time


@dataclass(frozen=True, slots=True)
class Race:
    day: date
    distance_km: float


ALL_DAY = (Window(time(6, 0), time(21, 0)),)


@dataclass(frozen=True, slots=True)
class Preferences:
    """Everything a runner can set; defaults from TRAINING.md. Weekdays are 0 = Monday ... 6."""

    timezone: str = "UTC"
    units: str = "km"
    week_start: int = 0
    equipment: frozenset[Equipment] = frozenset({Equipment.GYM})
    preferred_time: TimeOfDay = TimeOfDay.EVENING
    upper_body_per_week: int | None = None  # 2 or 3; None: from mileage (TRAINING.md 2)
    long_run_day: int | None = None  # None: inferred
    hard_days: frozenset[int] | None = None  # None: inferred
    run_days: frozenset[int] | None = None  # stated run days, used when nothing can be inferred
    # weekday -> windows; None: every day 06:00-21:00; a weekday missing from a given mapping
    # means the runner is not available that day.
    availability: Mapping[int, tuple[Window, ...]] | None = None
    run_times: Mapping[int, time] = field(default_factory=dict)  # usual run start per weekday
    run_minutes: int = 60  # assumed length of a run whose duration is unknown
    min_session_minutes: int = 10
    max_session_minutes: int = 60
    race: Race | None = None

    def windows(self, weekday: int) -> tuple[Window, ...]:
        """The runner's available windows on a weekday."""
        if self.availability is None:
            return ALL_DAY
        return self.availability.get(weekday, ())


@dataclass(frozen=True, slots=True)
class PastRun:
    """A run already done, as the planner needs it."""

    local_date: date
    distance_m: float
    moving_s: float = 0.0
    start_local: datetime | None = None
    is_race: bool = False
    is_workout: bool = False


class OverrideAction(StrEnum):
    MOVE = "move"  # the runner put the session at ``start``
    SKIP = "skip"  # the runner does not want it
    LOCK = "lock"  # keep it at ``start`` whatever the rebuild finds


@dataclass(frozen=True, slots=True)
class Override:
    uid: str
    action: OverrideAction
    start: datetime | None = None  # aware; required for move and lock


@dataclass(frozen=True, slots=True)
class PlanRequest:
    """One planning job: who (an opaque stable key for uids), what we know, and which weeks."""

    runner_key: str
    prefs: Preferences
    history: tuple[PastRun, ...]
    today: date
    start: date  # first day of the first planned week (a week start)
    weeks: int = 1
    planned: tuple[PlannedRun, ...] = ()  # from a platform's calendar; empty: infer
    overrides: tuple[Override, ...] = ()


@dataclass(frozen=True, slots=True)
class Exercise:
    """One exercise: sets of reps, or of a hold in seconds, or a number of minutes."""

    name: str
    sets: int
    reps: str | None = None  # "8-12"
    hold_s: str | None = None  # "30-60"
    minutes: int | None = None


@dataclass(frozen=True, slots=True)
class Session:
    uid: str
    kind: SessionKind
    variant: str
    title: str
    start: datetime  # aware, runner's offset on that day
    end: datetime
    exercises: tuple[Exercise, ...]
    why: str
    override: OverrideAction | None = None  # set when the runner moved or locked it

    @property
    def day(self) -> date:
        return self.start.date()

    @property
    def duration_min(self) -> int:
        return round((self.end - self.start).total_seconds() / 60)


@dataclass(frozen=True, slots=True)
class Skipped:
    """A session the week should have held but no slot allowed, with the rule that stopped it."""

    kind: SessionKind
    rule: str  # e.g. "rule-2-day-before-long-run", "taper", "runner-skipped"
    reason: str
    uid: str | None = None


@dataclass(frozen=True, slots=True)
class DayPlan:
    day: date
    run: RunKind
    planned_km: float


@dataclass(frozen=True, slots=True)
class WeekPlan:
    week_start: date
    phase: str  # base | peak | taper | race | recovery
    deload: bool
    mileage_km: float
    load_ratio: float | None
    days: tuple[DayPlan, ...]
    sessions: tuple[Session, ...]
    skipped: tuple[Skipped, ...]
    conflicts: tuple[Skipped, ...] = ()  # runner-placed sessions that break a hard rule


@dataclass(frozen=True, slots=True)
class Plan:
    prefs: Preferences
    weeks: tuple[WeekPlan, ...]
