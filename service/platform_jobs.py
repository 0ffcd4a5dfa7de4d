"""The training platforms' tasks on the job queue: Strava webhook events, backfills and the
quarter-hour read scheduler's syncs, intervals.icu reads and pushes.

Registered by ``service.jobs.Jobs`` on its queue; one runner's work with one platform runs at a
time (a lease in the queue's store), and nothing here ever sleeps.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import requests
from huey import crontab  # type: ignore[import-untyped]
from huey.exceptions import RetryTask  # type: ignore[import-untyped]
from sqlalchemy import select

from integrations.errors import AuthExpired, RateLimited, UpstreamError
from service.db import Database
from service.lease import Lease
from service.models import Connection
from service.queue_store import QueueStore

if TYPE_CHECKING:
    from service.app import Runtime
    from service.usecases.strava_schedule import QuarterPlan
    from service.usecases.strava_sync import StravaWork

LOCKED_RETRY_S = 5.0  # a job whose runner is busy with the same work comes back after this long
# Higher runs first: a webhook event before a backfill before publishing before reconciles.
EVENT_PRIORITY, BACKFILL_PRIORITY, PUBLISH_PRIORITY = 30, 20, 10
log = logging.getLogger("runstrength.jobs")


class PlatformTasks:
    """Strava and intervals.icu tasks on one queue; ``upstream`` is the retry policy for
    outages, ``clock`` UTC now (a simulated one in the Strava benchmark)."""

    def __init__(
        self, huey: Any, rt: Runtime, upstream: dict[str, Any], clock: Callable[[], datetime]
    ) -> None:
        self.huey, self.rt, self.clock = huey, rt, clock
        self.strava_backfill = huey.task(
            **upstream, priority=BACKFILL_PRIORITY, name="strava_backfill"
        )(lambda runner_id: self._strava(runner_id, "backfill", lambda w: w.backfill(runner_id)))
        self.strava_sync = huey.task(**upstream, name="strava_sync")(
            lambda runner_id: self._strava(runner_id, "sync", lambda w: w.sync(runner_id))
        )
        self.strava_event = huey.task(**upstream, priority=EVENT_PRIORITY, name="strava_event")(
            self._strava_event
        )
        self.intervals_sync = huey.task(**upstream, name="intervals_sync")(self._intervals)
        self.intervals_push = huey.task(**upstream, name="intervals_push")(
            lambda runner_id: self._intervals(runner_id, push_only=True)
        )
        self.platform_sweep = huey.periodic_task(crontab(minute="*/30"), name="platform_sweep")(
            self.sweep_platforms
        )
        self.strava_tick = huey.periodic_task(crontab(minute="*/15"), name="strava_tick")(
            self.plan_strava_quarter
        )

    def sweep_platforms(self) -> None:
        """Every 30 minutes: reconcile intervals.icu (it has no webhooks for us to rely on)."""
        for runner_id in connected_runners(self.rt.db, provider="intervals_icu"):
            self.intervals_sync(runner_id)

    def plan_strava_quarter(self) -> QuarterPlan:
        """At each quarter hour: the Strava reconciles this quarter's spare reads allow, spread
        over its first minutes (the read budget is the whole installation's)."""
        from service.usecases.strava_schedule import plan_quarter, spread

        plan = plan_quarter(self.rt.db, self.rt.settings, QueueStore(self.huey), self.clock())
        for runner_id, delay in zip(plan.runners, spread(len(plan.runners)), strict=True):
            self.strava_sync.schedule((runner_id,), delay=delay)
        log.info("Strava: %d reconciles this quarter (%d owed a read, %d for the safety net)",
                 len(plan.runners), plan.owed, plan.safety_net)  # fmt: skip
        return plan

    def _strava_event(self, payload: dict[str, Any]) -> None:
        """One webhook event: the athlete's runner's Strava work, under that runner's lease."""
        from service.usecases.strava_sync import runner_of

        try:
            runner_id = runner_of(self.rt.db, payload)
        except ValueError as exc:
            log.warning("ignoring a Strava event that is not one: %s", exc)
            return
        if runner_id is None:
            log.info("Strava event for an athlete no runner has connected")
            return
        self._strava(runner_id, "event", lambda work: work.apply(payload))

    def _strava(self, runner_id: int, what: str, run: Callable[[StravaWork], object]) -> None:
        """Strava work for one runner, under that runner's Strava lease."""
        self._platform("Strava", runner_id, what, lambda session: run(self._strava_work(session)))

    def _intervals(self, runner_id: int, push_only: bool = False) -> None:
        """Read intervals.icu (activities, planned runs), then send our sessions if asked."""
        from service.usecases.intervals_sync import push_intervals, sync_intervals

        db, settings = self.rt.db, self.rt.settings

        def work(session: requests.Session) -> object:
            now = self.clock()
            read = None
            if not push_only:
                read = sync_intervals(db, settings, runner_id, now=now, session=session)
            return read, push_intervals(db, settings, runner_id, now=now, session=session)

        self._platform("intervals.icu", runner_id, "push" if push_only else "sync", work)

    def _platform(
        self, name: str, runner_id: int, what: str, work: Callable[[requests.Session], object]
    ) -> None:
        """One runner's work with a platform at a time: a rate limit waits for its window (no
        sleep), a refused grant waits for a reconnect, an outage is retried with backoff."""
        from integrations.http import new_session
        from service.usecases.strava_sync import NotConnected

        lease = Lease(self.huey, f"{name}.lock.{runner_id}")
        if not lease.acquire():
            raise RetryTask(delay=LOCKED_RETRY_S)
        try:
            with lease.kept(), new_session() as session:
                report = work(session)
        except RateLimited as exc:
            log.warning("runner %s: %s %s waits %.0f s", runner_id, name, what, exc.retry_after)
            raise RetryTask(delay=max(exc.retry_after, 1.0)) from exc
        except (AuthExpired, NotConnected) as exc:
            log.warning("runner %s: %s %s stopped, not retrying: %s", runner_id, name, what, exc)
            return
        except UpstreamError as exc:
            log.warning("runner %s: %s %s failed, retrying: %s", runner_id, name, what, exc)
            raise
        except Exception:
            log.exception("runner %s: %s %s failed", runner_id, name, what)
            return
        log.info("runner %s: %s %s: %s", runner_id, name, what, report)

    def _strava_work(self, session: requests.Session) -> StravaWork:
        from service.usecases.strava_sync import StravaWork

        store = QueueStore(self.huey)
        return StravaWork(self.rt.db, self.rt.settings, session, store, self.clock)


def connected_runners(
    db: Database, among: Iterable[int] | None = None, provider: str = "google_calendar"
) -> list[int]:
    """Ids of runners (of ``among``, when given) with a working connection to ``provider``."""
    query = select(Connection.runner_id).where(
        Connection.provider == provider, Connection.state == "connected"
    )
    if among is not None:
        ids = sorted(set(among))
        if not ids:
            return []
        query = query.where(Connection.runner_id.in_(ids))
    with db.session() as session:
        return list(session.scalars(query.order_by(Connection.runner_id)))


def pushing_runners(db: Database, among: Iterable[int]) -> list[int]:
    """Runners (of ``among``) who asked for their sessions on their intervals.icu calendar."""
    from service.usecases.intervals_connection import intervals_connection, push_enabled

    with db.session() as session:
        ids = connected_runners(db, among, "intervals_icu")
        found = (intervals_connection(session, runner_id) for runner_id in ids)
        return [c.runner_id for c in found if c is not None and push_enabled(c)]
