"""The contract between the outside world and runstrength: frozen value types, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
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
