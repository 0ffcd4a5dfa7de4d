"""Spread Strava reconcile syncs over the day so the whole installation stays inside the app's
read limits, webhook work first.

Every quarter hour the scheduler learns how many reads the last quarter spent beyond the
reconciles it started (webhook events, backfills), predicts the rest of the day from that
history, and hands reconcile syncs only the reads left over, most of them in quiet quarters.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement, SQLColumnExpression, func, select

from integrations.strava.limits import QUARTER_S, RateUsage, same_day, same_quarter
from service.db import Database
from service.models import Connection
from service.settings import Settings

QUARTERS = 96  # 15-minute windows in a UTC day
# Predicted webhook reads are multiplied by these before reconciles get any: one quarter's
# count swings more than a whole day's sum.
HEADROOM, DAY_HEADROOM = 1.5, 1.2
QUARTER_MARGIN = 10  # reads of every quarter no reconcile is planned into
DAY_MARGIN = 30  # reads of every day no reconcile is planned into
PRIOR_SHARE = 0.5  # before a quarter has history, assume webhooks need half its even share
LEARNING_RATE = 0.5  # weight of the newest day in a quarter's history
WITH_WEBHOOKS = timedelta(days=1)  # a daily safety net for events Strava failed to deliver
WITHOUT_WEBHOOKS = timedelta(minutes=15)  # polling: as often as the budget allows, not more
SAFETY_NET_SHARE = 0.15  # with webhooks, reconciles take at most this share of a day's reads
SPREAD_S = 12 * 60  # reconciles start across the first 12 minutes of their quarter


class BudgetStore(Protocol):
    """What the scheduler keeps between quarters, shared by every worker (the queue's store)."""

    def load(self) -> RateUsage | None: ...
    def claim(self, quarter: int) -> bool: ...
    def take_quarter(self, quarter: int) -> tuple[int | None, int | None]: ...
    def grant(self, quarter: int, reconciles: int) -> None: ...
    def granted_on(self, day: int) -> int: ...
    def demand(self) -> Sequence[float | None] | None: ...
    def save_demand(self, reads: Sequence[float | None]) -> None: ...
    def subscription(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class QuarterPlan:
    """One quarter's reconciles: which runners, and how the reads were shared out."""

    runners: list[int]
    owed: int  # runners owed a read (edits waiting), whatever the safety net's share
    safety_net: int  # reads left for the safety net
    webhooks: bool


@dataclass(frozen=True, slots=True)
class ReadLimits:
    """The app's read limits: per 15-minute window and per UTC day."""

    quarter: int
    day: int

    @classmethod
    def of(cls, settings: Settings, usage: RateUsage | None) -> ReadLimits:
        """The configured limits, lowered to what Strava last reported, if that is lower."""
        quarter, day = settings.strava_read_limit_15min, settings.strava_read_limit_day
        if usage is not None and usage.read is not None:
            quarter, day = min(quarter, usage.read.limit_15min), min(day, usage.read.limit_day)
        return cls(quarter, day)


@dataclass(frozen=True, slots=True)
class Demand:
    """Reads spent on work other than reconciles, per quarter of the UTC day (None: unknown)."""

    reads: tuple[float | None, ...] = (None,) * QUARTERS
    prior_share: float = PRIOR_SHARE  # of the day, for quarters without history (0: polling)

    def expected(self, slot: int, limits: ReadLimits) -> float:
        """The reads webhook work is expected to need in quarter ``slot`` of the day."""
        known = self.reads[slot]
        return self._prior(limits) if known is None else known

    def at_least(self, slot: int, reads: float, limits: ReadLimits) -> Demand:
        """This history, expecting ``slot`` to need no fewer than ``reads`` (a surge that the
        quarter just ended saw is expected to go on)."""
        known = self.reads[slot]
        return self._with(slot, max(self._prior(limits) if known is None else known, reads))

    def learn(self, slot: int, reads: float) -> Demand:
        """Fold one observed quarter into its history."""
        old = self.reads[slot]
        new = reads if old is None else (1 - LEARNING_RATE) * old + LEARNING_RATE * reads
        return self._with(slot, max(0.0, new))

    def _with(self, slot: int, reads: float) -> Demand:
        return Demand((*self.reads[:slot], reads, *self.reads[slot + 1 :]), self.prior_share)

    def _prior(self, limits: ReadLimits) -> float:
        return self.prior_share * limits.day / QUARTERS


def slot_of(now: datetime) -> int:
    """The quarter of the UTC day ``now`` falls in, 0..95."""
    now = now.astimezone(UTC)
    return (now.hour * 60 + now.minute) // 15


def quarter_index(now: datetime) -> int:
    """A number for ``now``'s 15-minute window, the same one Strava counts in."""
    return int(now.timestamp()) // QUARTER_S


def used(usage: RateUsage | None, now: datetime) -> tuple[int, int]:
    """Reads already spent in ``now``'s quarter and day, as Strava last reported them."""
    if usage is None or usage.read is None:
        return 0, 0
    quarter = usage.read.usage_15min if same_quarter(usage.seen_at, now) else 0
    day = usage.read.usage_day if same_day(usage.seen_at, now) else 0
    return quarter, day


def reconcile_allowance(
    limits: ReadLimits,
    demand: Demand,
    now: datetime,
    spent: tuple[int, int],
    *,
    reconciled_today: int = 0,
    share: float = 1.0,
) -> int:
    """How many reconcile syncs (one read each) may start in ``now``'s quarter.

    The day's spare reads (after this and every later quarter's expected webhook work, and
    within ``share`` of the day) are shared out in proportion to each quarter's own room, then
    capped by this quarter's room."""
    spent_quarter, spent_day = spent
    slot = slot_of(now)
    rooms = [max(0.0, limits.quarter - QUARTER_MARGIN - HEADROOM * demand.expected(s, limits))
             for s in range(slot, QUARTERS)]  # fmt: skip
    expected_rest = DAY_HEADROOM * sum(demand.expected(s, limits) for s in range(slot, QUARTERS))
    day_spare = min(
        limits.day - spent_day - DAY_MARGIN - expected_rest,
        share * limits.day - reconciled_today,
    )
    if day_spare <= 0 or sum(rooms) <= 0:
        return 0
    portion = day_spare * rooms[0] / sum(rooms)
    room_now = (
        limits.quarter - QUARTER_MARGIN - spent_quarter - HEADROOM * demand.expected(slot, limits)
    )
    return max(0, math.floor(min(portion, room_now)))


def owed_runners(db: Database, limit: int) -> list[int]:
    """Up to ``limit`` Strava runners owed a full read (an edit waits in it, or a backfill
    was cut short), longest waiting first."""
    owed = Connection.owed_since.is_not(None) | Connection.reconciled_at.is_(None)
    waiting = func.coalesce(Connection.owed_since, Connection.created_at)
    return _strava_runners(db, owed, limit, waiting)


def due_runners(db: Database, now: datetime, interval: timedelta, limit: int) -> list[int]:
    """Up to ``limit`` other Strava runners not read in full for ``interval``, longest first."""
    due = Connection.owed_since.is_(None) & (Connection.reconciled_at <= now - interval)
    return _strava_runners(db, due, limit, Connection.reconciled_at)


def _strava_runners(
    db: Database, condition: ColumnElement[bool], limit: int, order: SQLColumnExpression[Any]
) -> list[int]:
    if limit <= 0:
        return []
    query = (
        select(Connection.runner_id)
        .where(Connection.provider == "strava", Connection.state == "connected", condition)
        .order_by(order, Connection.id)
        .limit(limit)
    )
    with db.session() as session:
        return list(session.scalars(query))


def spread(count: int) -> list[float]:
    """Start delays (seconds) spreading ``count`` reconciles over the quarter's first minutes."""
    return [round(i * SPREAD_S / count, 1) for i in range(count)]


def interval(webhooks: bool) -> timedelta:
    """How often each runner is read in full at most: daily with webhooks, else every quarter
    hour (the budget may allow less)."""
    return WITH_WEBHOOKS if webhooks else WITHOUT_WEBHOOKS


def observed(reads_in_quarter: int | None, granted: int | None) -> float | None:
    """Reads a finished quarter spent beyond its reconciles; None when nothing was recorded."""
    if reads_in_quarter is None and granted is None:
        return None
    return max(0.0, float((reads_in_quarter or 0) - (granted or 0)))


def as_demand(values: Sequence[float | None] | None, webhooks: bool) -> Demand:
    """A stored history back as Demand (a missing or damaged one starts afresh); without
    webhooks, quarters without history expect no webhook work."""
    prior = PRIOR_SHARE if webhooks else 0.0
    if values is None or len(values) != QUARTERS:
        return Demand(prior_share=prior)
    return Demand(tuple(None if v is None else float(v) for v in values), prior)


def plan_quarter(
    db: Database, settings: Settings, store: BudgetStore, now: datetime
) -> QuarterPlan:
    """Learn from the quarter just ended, then pick the runners to reconcile in this one
    (nobody, when another consumer has planned this quarter already)."""
    quarter = quarter_index(now)
    webhooks = store.subscription() is not None
    if not store.claim(quarter):
        return QuarterPlan([], 0, 0, webhooks)
    demand = as_demand(store.demand(), webhooks)
    reads, granted = store.take_quarter(quarter - 1)
    last = observed(reads, granted)
    if last is not None:
        demand = demand.learn(slot_of(now - timedelta(seconds=QUARTER_S)), last)
        store.save_demand(demand.reads)
    usage = store.load()
    limits = ReadLimits.of(settings, usage)
    if last is not None:
        demand = demand.at_least(slot_of(now), last, limits)
    spent = used(usage, now)
    owed = owed_runners(db, reconcile_allowance(limits, demand, now, spent))
    safety_net = reconcile_allowance(
        limits, demand, now, spent, reconciled_today=store.granted_on(quarter // QUARTERS),
        share=SAFETY_NET_SHARE if webhooks else 1.0,
    )  # fmt: skip
    runners = owed + due_runners(db, now, interval(webhooks), safety_net - len(owed))
    store.grant(quarter, len(runners))
    return QuarterPlan(runners, len(owed), max(0, safety_net - len(owed)), webhooks)
