"""The background queue (Huey): calendar publishing after plan changes, off the request path.

The only module that imports huey. Nothing happens at import time: ``make_queue`` builds a
queue from settings and ``Jobs`` registers our tasks on it, as create_app does for the app.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import requests
from huey import PriorityRedisHuey, SqliteHuey, crontab  # type: ignore[import-untyped]
from huey.exceptions import RetryTask  # type: ignore[import-untyped]

from integrations.errors import AuthExpired, IntegrationError, RateLimited, UpstreamError
from service.db import Database
from service.lease import Lease
from service.models import Runner, utcnow
from service.platform_jobs import (
    LOCKED_RETRY_S,
    PUBLISH_PRIORITY,
    PlatformTasks,
    connected_runners,
    pushing_runners,
)
from service.settings import Settings
from service.usecases.runners import PLAN_CHANGED

if TYPE_CHECKING:
    from flask import Flask

    from service.app import Runtime
    from service.usecases.publish_google import PublishReport

QUEUE_NAME = "runstrength"
EXTENSION = "runstrength.jobs"
DEBOUNCE_S = 5.0  # changes within this long after the first one share a single publish
PENDING_TTL_S = 900.0  # a pending mark whose job was lost stops blocking after this long
UPSTREAM_RETRIES, UPSTREAM_DELAY_S, UPSTREAM_BACKOFF = 4, 30, 2  # waits 30, 60, 120, 240 s
SWEEP_MINUTES = "*/15"  # every connected runner is published this often (Google-side edits)
MAX_POLL_S = 2.0  # an idle SQLite queue is polled at least this often
STOP_TIMEOUT_S = 20.0  # SIGTERM lets running jobs finish for this long

log = logging.getLogger("runstrength.jobs")


class Publisher(Protocol):
    """The publish use case's signature (service.usecases.publish_google.publish_runner)."""

    def __call__(
        self,
        db: Database,
        settings: Settings,
        runner_id: int,
        *,
        now: datetime,
        session: requests.Session,
    ) -> PublishReport: ...


class QueueUnavailable(RuntimeError):
    """The job queue cannot be reached; the message says where and why in one line."""


class RunnerBusy(RuntimeError):
    """Another publish for the same runner holds its lock right now."""


def make_queue(settings: Settings, name: str = QUEUE_NAME) -> Any:
    """SqliteHuey at ``<data_dir>/queue.db`` without a queue URL, else RedisHuey at that URL."""
    if settings.queue_url:  # the priority flavour (a sorted set, Redis 5+): webhook work first
        return PriorityRedisHuey(name, url=settings.queue_url, results=False)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=str(settings.data_dir / "queue.db"), results=False)


def queue_location(settings: Settings) -> str:
    """Where the queue lives, for messages (a Redis URL without its password)."""
    if not settings.queue_url:
        return str(settings.data_dir / "queue.db")
    parts = urlsplit(settings.queue_url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port or 6379}{parts.path}"


class Jobs:
    """Our tasks registered on one queue, with the runtime and publish use case they call."""

    def __init__(
        self,
        huey: Any,
        rt: Runtime,
        publisher: Publisher | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """``clock`` (UTC now) drives the Strava work and its scheduler (a simulated one in the
        Strava benchmark)."""
        self.huey, self.rt, self._publisher, self.clock = huey, rt, publisher, clock
        self.publish = huey.task(
            retries=UPSTREAM_RETRIES,
            retry_delay=UPSTREAM_DELAY_S,
            retry_backoff=UPSTREAM_BACKOFF,
            context=True,
            priority=PUBLISH_PRIORITY,
            name="publish",
        )(self._publish_task)
        self.sweep = huey.periodic_task(crontab(minute=SWEEP_MINUTES), name="sweep")(
            self.request_all
        )
        upstream = {"retries": UPSTREAM_RETRIES, "retry_delay": UPSTREAM_DELAY_S,
                    "retry_backoff": UPSTREAM_BACKOFF}  # fmt: skip
        self.platforms = PlatformTasks(huey, rt, upstream, clock)
        tasks = self.platforms  # the platforms' tasks, reachable as before
        self.strava_backfill, self.strava_sync = tasks.strava_backfill, tasks.strava_sync
        self.strava_event, self.strava_tick = tasks.strava_event, tasks.strava_tick
        self.intervals_sync, self.intervals_push = tasks.intervals_sync, tasks.intervals_push
        self.platform_sweep = tasks.platform_sweep
        self.sweep_platforms = tasks.sweep_platforms
        self.plan_strava_quarter = tasks.plan_strava_quarter

    def request_publish(self, runner_ids: Iterable[int], delay_s: float = DEBOUNCE_S) -> list[int]:
        """Schedule one publish per runner unless one is pending; returns those scheduled."""
        scheduled = [r for r in sorted(set(runner_ids)) if self._mark_pending(r)]
        for runner_id in scheduled:
            self.publish.schedule((runner_id,), delay=delay_s)
        return scheduled

    def request_all(self, delay_s: float = 0) -> list[int]:
        """Schedule a publish for every connected runner (catching up, reading Google edits)."""
        return self.request_publish(connected_runners(self.rt.db), delay_s)

    def publish_once(self, runner_id: int) -> PublishReport:
        """Publish now under the runner's lease; RunnerBusy when another publish holds it."""
        lease = Lease(self.huey, f"publish.lock.{runner_id}")
        if not lease.acquire():
            raise RunnerBusy(f"runner {runner_id} is being published right now")
        with lease.kept():
            self.huey.delete(_pending_key(runner_id))  # later changes need another publish
            from integrations.http import new_session

            publisher = self._publisher or _publish_runner()
            with new_session() as session:
                return publisher(
                    self.rt.db, self.rt.settings, runner_id, now=utcnow(), session=session
                )

    def publish_line(self, runner_id: int) -> tuple[bool, str]:
        """Publish now and say how it went in one line; False when nothing was published."""
        try:
            report = self.publish_once(runner_id)
        except RunnerBusy:
            return False, "a publish is running already; try again in a few seconds"
        except RateLimited as exc:
            return False, f"Google asks us to wait {exc.retry_after:.0f} s; try again then"
        except IntegrationError as exc:
            return False, f"Google Calendar failed: {exc}"
        return report.state == "published", describe(report)

    def run_consumer(self, workers: int = 1) -> None:
        """Consume until SIGTERM (running jobs finish) or SIGINT (stop now); catch up first."""
        check_queue(self.huey, self.rt.settings)
        self.request_all()  # jobs lost while no worker ran (a kill mid-publish) run again
        consumer = self.huey.create_consumer(
            workers=workers,
            worker_type="thread",
            graceful_signal="TERM",
            shutdown_timeout=STOP_TIMEOUT_S,
            max_delay=MAX_POLL_S,
        )
        consumer.run()

    def _publish_task(self, runner_id: int, task: Any = None) -> None:
        try:
            report = self.publish_once(runner_id)
        except RunnerBusy:
            log.info("runner %s: busy, retrying in %.0f s", runner_id, LOCKED_RETRY_S)
            raise RetryTask(delay=LOCKED_RETRY_S) from None
        except RateLimited as exc:
            log.warning("runner %s: rate limited, retrying in %.0f s", runner_id, exc.retry_after)
            raise RetryTask(delay=max(exc.retry_after, 1.0)) from exc
        except AuthExpired as exc:  # the use case marked the connection: wait for a reconnect
            log.warning("runner %s: Google refused the grant, not retrying: %s", runner_id, exc)
            return
        except UpstreamError as exc:
            left = task.retries if task is not None else 0
            log.warning("runner %s: Google failed (%d retries left): %s", runner_id, left, exc)
            raise
        except Exception:
            log.exception("runner %s: publishing failed", runner_id)
            return
        log.info("runner %s: %s", runner_id, describe(report))

    def _mark_pending(self, runner_id: int) -> bool:
        key, expires = _pending_key(runner_id), time.time() + PENDING_TTL_S
        if self.huey.put_if_empty(key, expires):
            return True
        current = self.huey.get(key, peek=True)
        if current is not None and current > time.time():
            return False
        self.huey.put(key, expires)  # the job that set the mark was lost
        return True


def _pending_key(runner_id: int) -> str:
    return f"publish.pending.{runner_id}"


def _publish_runner() -> Publisher:
    from service.usecases.publish_google import publish_runner

    return publish_runner


def check_queue(huey: Any, settings: Settings) -> None:
    """Raise QueueUnavailable, in one line, when the queue cannot be read."""
    try:
        huey.pending_count()
    except Exception as exc:
        raise QueueUnavailable(
            f"cannot reach the job queue at {queue_location(settings)}: {exc}"
        ) from exc


def describe(report: PublishReport) -> str:
    """A publish report in one line: what changed, or why nothing did."""
    if report.state != "published":
        return report.detail or report.state.replace("_", " ")
    counts = [
        (report.inserted, "added"),
        (report.patched, "updated"),
        (report.deleted, "removed"),
        (report.moved_by_runner, "moved in Google (kept)"),
        (report.skipped_by_runner, "deleted in Google (skipped)"),
        (report.conflicts, "conflicts"),
    ]
    parts = ["calendar created"] if report.calendar_created else []
    parts += [f"{n} {label}" for n, label in counts if n]
    if not parts:
        return f"up to date ({report.unchanged} events unchanged)"
    return f"{', '.join(parts)}; {report.unchanged} unchanged"


class AppJobs:
    """The app's Jobs, built on first use: an app whose plans never change opens no queue."""

    def __init__(self, rt: Runtime, make: Callable[[], Jobs] | None = None) -> None:
        self._rt = rt
        self._make = make or (lambda: Jobs(make_queue(rt.settings), rt))
        self._jobs: Jobs | None = None
        self._lock = threading.Lock()

    def get(self) -> Jobs:
        with self._lock:
            if self._jobs is None:
                self._jobs = self._make()
            return self._jobs

    def after_commit(self, noted: set[Hashable]) -> None:
        """A commit changed these runners' plans: publish the connected ones soon."""
        changed = {r.id for r in noted if isinstance(r, Runner) and r.id is not None}
        ids = connected_runners(self._rt.db, changed)
        if ids:
            self.get().request_publish(ids)
        for runner_id in pushing_runners(self._rt.db, changed):
            self.get().intervals_push.schedule((runner_id,), delay=DEBOUNCE_S)


def install(app: Flask, rt: Runtime) -> AppJobs:
    """Publish in the background after every committed plan change of this app's database."""
    app_jobs = AppJobs(rt)
    app.extensions[EXTENSION] = app_jobs
    rt.db.on_commit(PLAN_CHANGED, app_jobs.after_commit)
    return app_jobs
