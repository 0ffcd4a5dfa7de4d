"""The contract between the outside world and runstrength: frozen value types, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class Sport(StrEnum):
    """Sports as runstrength understands them; every source maps its own labels onto these."""

    RUN = "run"
    TRAIL_RUN = "trail_run"
    TREADMILL_RUN = "treadmill_run"
    WALK = "walk"
    HIKE = "hike"
    RIDE = "ride"
    SWIM = "swim"
    OTHER = "other"
    UNKNOWN = "unknown"

    @property
    def is_run(self) -> bool:
        """Whether the sport counts toward running mileage."""
        return self in _RUNS


_RUNS = frozenset({Sport.RUN, Sport.TRAIL_RUN, Sport.TREADMILL_RUN})


@dataclass(frozen=True, slots=True)
class ExternalActivity:
    """One activity (or one leg of a multisport activity) as read from a file or a platform.

    ``start_utc`` is timezone-aware UTC. ``utc_offset_s`` is the local offset at the start when
    the source states it, else None (the runner's time zone decides). Distances are metres,
    durations seconds.
    """

    source: str
    source_id: str
    sport: Sport
    start_utc: datetime
    distance_m: float
    utc_offset_s: int | None = None
    moving_s: float | None = None
    elapsed_s: float | None = None
    elevation_gain_m: float | None = None
    is_race: bool = False
    is_workout: bool = False
    name: str | None = None
    source_sport: str | None = None


class RunKind(StrEnum):
    """What a day's running is, as the planner sees it."""

    NONE = "none"
    EASY = "easy"
    HARD = "hard"
    LONG = "long"
    RACE = "race"


@dataclass(frozen=True, slots=True)
class PlannedRun:
    """A run the runner's platform calendar says is coming (local date; start when known)."""

    day: date
    kind: RunKind
    distance_m: float = 0.0
    start_local: datetime | None = None
    duration_s: float | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """One timed event as every calendar integration publishes it.

    ``start``/``end`` are aware datetimes; ``revised`` is the last real change (DTSTAMP and
    LAST-MODIFIED), ``sequence`` counts visible changes.
    """

    uid: str
    start: datetime
    end: datetime
    summary: str
    description: str
    categories: tuple[str, ...]
    revised: datetime
    sequence: int = 0
    url: str | None = None


@dataclass(frozen=True, slots=True)
class TokenSet:
    """An OAuth grant as a provider returned it; ``expires_at`` is aware UTC or None."""

    access_token: str
    refresh_token: str | None
    expires_at: datetime | None
    scopes: frozenset[str]
    token_type: str = "Bearer"
