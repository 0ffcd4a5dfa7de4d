"""Strava's per-application rate limits: counters for the 15-minute and daily windows.

Windows are fixed, not sliding: the short one restarts at :00, :15, :30 and :45 UTC, the daily
one at UTC midnight. Every authorised API call counts toward the overall limit, GETs also toward
the read limit; calls over a limit still count (Strava answers them 429 and keeps counting).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

QUARTER_S = 15 * 60


@dataclass(frozen=True)
class Limits:
    """(15-minute, daily) pairs for all calls and for reads; Strava's defaults for a new app."""

    overall: tuple[int, int] = (200, 2000)
    read: tuple[int, int] = (100, 1000)


@dataclass(frozen=True)
class Usage:
    overall_15min: int
    overall_day: int
    read_15min: int
    read_day: int


class RateMeter:
    """Counts calls per window; not thread-safe on its own (the fake serialises calls)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._quarter = -1
        self._day = date.min
        self._counts = [0, 0, 0, 0]  # overall 15 min, overall day, read 15 min, read day

    def record(self, now: datetime, *, read: bool, calls: int = 1) -> bool:
        """Count `calls` calls made at `now`; True when the last of them is over a limit."""
        self._roll(now)
        self._counts[0] += calls
        self._counts[1] += calls
        if read:
            self._counts[2] += calls
            self._counts[3] += calls
        return self.exceeded(now, read=read)

    def exceeded(self, now: datetime, *, read: bool) -> bool:
        usage = self.usage(now)
        over = usage.overall_15min > self.limits.overall[0] or (
            usage.overall_day > self.limits.overall[1]
        )
        if read:
            over = over or usage.read_15min > self.limits.read[0]
            over = over or usage.read_day > self.limits.read[1]
        return over

    def usage(self, now: datetime) -> Usage:
        self._roll(now)
        return Usage(*self._counts)

    def headers(self, now: datetime) -> dict[str, str]:
        """The four headers Strava puts on API responses: "15min,daily" limits and usage."""
        usage = self.usage(now)
        overall, read = self.limits.overall, self.limits.read
        return {
            "X-RateLimit-Limit": f"{overall[0]},{overall[1]}",
            "X-RateLimit-Usage": f"{usage.overall_15min},{usage.overall_day}",
            "X-ReadRateLimit-Limit": f"{read[0]},{read[1]}",
            "X-ReadRateLimit-Usage": f"{usage.read_15min},{usage.read_day}",
        }

    def _roll(self, now: datetime) -> None:
        quarter = int(now.timestamp()) // QUARTER_S
        day = now.astimezone(UTC).date()
        if day != self._day:
            self._day = day
            self._counts = [0, 0, 0, 0]
        if quarter != self._quarter:
            self._quarter = quarter
            self._counts[0] = self._counts[2] = 0
