"""Strava's rate limits: the usage headers on every answer and the windows they count in.

Strava counts per application in 15-minute windows starting at :00/:15/:30/:45 and in UTC days;
``X-RateLimit-*`` counts every call, ``X-ReadRateLimit-*`` only reads; each header is "15min,daily".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

QUARTER_S = 15 * 60


@dataclass(frozen=True, slots=True)
class Budget:
    """One header pair: the limits and what is used of them, for 15 minutes and the day."""

    limit_15min: int
    usage_15min: int
    limit_day: int
    usage_day: int


@dataclass(frozen=True, slots=True)
class RateUsage:
    """The application's usage as the last answer reported it, and when (UTC) we saw it."""

    overall: Budget
    read: Budget | None
    seen_at: datetime

    def retry_after(self, now: datetime, reserve: int = 0) -> float | None:
        """Seconds until a window with fewer than ``reserve`` calls left (at most a quarter of
        its limit) resets, else None.

        A window that has rolled over since ``seen_at`` counts as fresh.
        """
        budgets = [b for b in (self.overall, self.read) if b is not None]
        if same_day(self.seen_at, now) and any(
            b.usage_day >= b.limit_day - _kept(reserve, b.limit_day) for b in budgets
        ):
            return seconds_to_midnight(now)
        if same_quarter(self.seen_at, now) and any(
            b.usage_15min >= b.limit_15min - _kept(reserve, b.limit_15min) for b in budgets
        ):
            return seconds_to_next_quarter(now)
        return None


def usage_from_headers(headers: Mapping[str, str], seen_at: datetime) -> RateUsage | None:
    """The usage the headers report, or None when they are missing or malformed."""
    overall = _budget(headers, "X-RateLimit")
    if overall is None:
        return None
    return RateUsage(overall, _budget(headers, "X-ReadRateLimit"), seen_at.astimezone(UTC))


def seconds_to_next_quarter(now: datetime) -> float:
    """Seconds from ``now`` to the next :00/:15/:30/:45 (a full window exactly on one)."""
    now = now.astimezone(UTC)
    into = (now.minute % 15) * 60 + now.second + now.microsecond / 1e6
    return QUARTER_S - into


def seconds_to_midnight(now: datetime) -> float:
    """Seconds from ``now`` to the next UTC midnight, when the daily limits reset."""
    now = now.astimezone(UTC)
    midnight = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
    return (midnight - now).total_seconds()


def same_quarter(a: datetime, b: datetime) -> bool:
    """Whether two instants fall in the same 15-minute window."""
    return _quarter(a) == _quarter(b)


def same_day(a: datetime, b: datetime) -> bool:
    """Whether two instants fall on the same UTC day."""
    return a.astimezone(UTC).date() == b.astimezone(UTC).date()


def _kept(reserve: int, limit: int) -> int:
    """The calls a reserve keeps back from a window: never more than a quarter of its limit
    (a small app's 20 reads would otherwise be all reserve)."""
    return min(reserve, limit // 4)


def _quarter(moment: datetime) -> int:
    return int(moment.timestamp()) // QUARTER_S


def _budget(headers: Mapping[str, str], prefix: str) -> Budget | None:
    limits = _pair(headers.get(f"{prefix}-Limit"))
    usage = _pair(headers.get(f"{prefix}-Usage"))
    if limits is None or usage is None:
        return None
    return Budget(limits[0], usage[0], limits[1], usage[1])


def _pair(value: str | None) -> tuple[int, int] | None:
    parts = (value or "").split(",")
    if len(parts) != 2:
        return None
    try:
        first, second = int(parts[0].strip()), int(parts[1].strip())
    except ValueError:
        return None
    return (first, second) if first >= 0 and second >= 0 else None
