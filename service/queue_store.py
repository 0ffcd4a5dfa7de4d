"""Small values every worker and the app share through the job queue's key-value store: Strava's
last seen rate-limit usage, our webhook subscription, and the read scheduler's history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from integrations.strava.limits import RateUsage

USAGE, SUBSCRIPTION, DEMAND = "strava.usage", "strava.subscription", "strava.demand"
QUARTER_READS, QUARTER_GRANTED = "strava.reads.{}", "strava.granted.{}"
DAY_GRANTED, PLANNED = "strava.granted.day.{}", "strava.planned.{}"


class QueueStore:
    """Keys in the queue's store; writes race harmlessly (the newest usage or a max wins)."""

    def __init__(self, huey: Any) -> None:
        self._huey = huey

    def load(self) -> RateUsage | None:
        """The newest rate-limit usage any worker saw."""
        value = self._huey.get(USAGE, peek=True)
        return value if isinstance(value, RateUsage) else None

    def save(self, usage: RateUsage) -> None:
        """Keep the newer of the stored usage and ``usage`` (jobs finish out of order), and the
        most reads seen in ``usage``'s quarter, for the scheduler's history."""
        current = self.load()
        if current is None or usage.seen_at >= current.seen_at:
            self._huey.put(USAGE, usage)
        if usage.read is not None:
            key = QUARTER_READS.format(int(usage.seen_at.timestamp()) // 900)
            seen = self._huey.get(key, peek=True)
            if not isinstance(seen, int) or usage.read.usage_15min > seen:
                self._huey.put(key, usage.read.usage_15min)

    def take_quarter(self, quarter: int) -> tuple[int | None, int | None]:
        """The most reads seen in ``quarter`` and the reconciles granted in it, forgotten now."""
        reads = self._huey.get(QUARTER_READS.format(quarter))
        granted = self._huey.get(QUARTER_GRANTED.format(quarter))
        return (
            reads if isinstance(reads, int) else None,
            granted if isinstance(granted, int) else None,
        )

    def claim(self, quarter: int) -> bool:
        """True for the first caller only: each quarter is planned once, however many
        consumers run the periodic tasks."""
        self._huey.delete(PLANNED.format(quarter - 1))
        return bool(self._huey.put_if_empty(PLANNED.format(quarter), 1))

    def grant(self, quarter: int, reconciles: int) -> None:
        """Remember how many reconciles ``quarter`` was given, and its day in all (only the
        quarter's claimant writes these)."""
        self._huey.put(QUARTER_GRANTED.format(quarter), reconciles)
        day = quarter // 96
        self._huey.delete(DAY_GRANTED.format(day - 1))
        self._huey.put(DAY_GRANTED.format(day), self.granted_on(day) + reconciles)

    def granted_on(self, day: int) -> int:
        """Reconciles granted on UTC day number ``day`` (days since 1970-01-01)."""
        value = self._huey.get(DAY_GRANTED.format(day), peek=True)
        return value if isinstance(value, int) else 0

    def demand(self) -> Sequence[float | None] | None:
        value = self._huey.get(DEMAND, peek=True)
        return value if isinstance(value, tuple) else None

    def save_demand(self, reads: Sequence[float | None]) -> None:
        self._huey.put(DEMAND, tuple(reads))

    def subscription(self) -> int | None:
        value = self._huey.get(SUBSCRIPTION, peek=True)
        return value if isinstance(value, int) else None

    def set_subscription(self, subscription_id: int | None) -> None:
        self._huey.delete(SUBSCRIPTION)
        if subscription_id is not None:
            self._huey.put(SUBSCRIPTION, subscription_id)
