"""The Strava benchmark's simulation: an installation's runners upload runs to the fake Strava,
webhook events reach our real Strava jobs, the real quarter-hour scheduler starts reconciles,
all on one simulated clock (the fake's rate-limit windows and token expiry follow it).

Jobs run the moment they are due, one at a time, as an idle consumer would; a job that raises
RetryTask (a rate limit, a busy runner) or an upstream error comes back when it says.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from huey import MemoryHuey
from huey.exceptions import RetryTask
from sqlalchemy import select

from bench.strava_workload import Population, Run
from integrations.errors import UpstreamError
from integrations.types import TokenSet
from service.app import Runtime
from service.crypto import Sealer
from service.jobs import Jobs
from service.models import Activity, ActivitySource, Connection, Runner
from service.queue_store import QueueStore
from service.usecases.strava_schedule import quarter_index, spread
from tests.fakes.strava import FakeStrava

QUARTER = timedelta(minutes=15)


@dataclass(slots=True)
class Tally:
    """What the simulation saw: events, waits, reads per window and when each run landed."""

    uploaded: int = 0
    edited: int = 0
    deleted: int = 0
    delivered: int = 0
    lost: int = 0
    retries: int = 0
    reconciles: int = 0
    reads_by_quarter: dict[int, int] = field(default_factory=dict)
    reads_by_day: dict[str, int] = field(default_factory=dict)
    lateness_s: list[float] = field(default_factory=list)  # runs whose event arrived
    recovered_s: list[float] = field(default_factory=list)  # runs whose event was lost
    same_window: int = 0
    deleted_unseen: int = 0
    edit_lateness_s: list[float] = field(default_factory=list)  # edits whose event arrived
    lost_edit_s: list[float] = field(default_factory=list)


class Simulation:
    """One installation on a simulated clock: a heap of (due, seq, what, argument)."""

    def __init__(self, rt: Runtime, fake: FakeStrava, pop: Population, seed: int) -> None:
        self.rt, self.fake, self.pop = rt, fake, pop
        self.rng = random.Random(seed)
        self.now = pop.runs[0].start.astimezone(UTC) if pop.runs else datetime.now(UTC)
        self.jobs = Jobs(MemoryHuey("strava-bench", immediate=False), rt, clock=lambda: self.now)
        self.tally = Tally()
        self._heap: list[tuple[datetime, int, str, Any]] = []
        self._seq = itertools.count()
        self.runner_of_athlete: dict[int, int] = {}
        self.athletes: list[int] = []  # by runner index
        self.waiting: dict[int, dict[str, tuple[datetime, bool]]] = {}  # runner: id -> arrived
        self.arrived: dict[str, tuple[int, Run]] = {}
        # runner: id -> when, new title, whether its event was lost
        self.edits: dict[int, dict[str, tuple[datetime, str, bool]]] = {}

    # -- set-up --------------------------------------------------------------------------

    def connect_everyone(self, start: datetime) -> None:
        """Every runner connected and read in full during the week before ``start``."""
        self.fake.set_time(start - timedelta(days=1))
        sealer = Sealer.from_settings(self.rt.settings)
        with self.rt.db.session() as db:
            for index, zone in enumerate(self.pop.zones):
                athlete = self.fake.add_athlete(f"Runner{index}", "Sim").id
                issued = self.fake.issue_token(athlete, scopes=("activity:read_all",))
                expiry = datetime.fromtimestamp(issued.expires_at, UTC)
                grant = TokenSet(issued.access_token, issued.refresh_token, expiry, issued.scopes)
                runner = Runner(name=f"runner {index}", timezone=zone)
                db.add(runner)
                db.flush()
                db.add(Connection(
                    runner_id=runner.id, provider="strava", state="connected",
                    account=str(athlete), grant=sealer.seal(grant),
                    sync_token=str(int((start - timedelta(days=1)).timestamp())),
                    reconciled_at=start - timedelta(days=7 * self.rng.random()),
                ))  # fmt: skip
                self.runner_of_athlete[athlete] = runner.id
                self.athletes.append(athlete)
        QueueStore(self.jobs.huey).set_subscription(1)  # webhooks are on

    # -- the loop ------------------------------------------------------------------------

    def run(self, start: datetime, end: datetime) -> Tally:
        """Simulate from ``start`` to ``end``; work still queued then (retries) runs to the end."""
        for run in self.pop.runs:
            if run.arrives < end:
                self._at(run.arrives, "upload", run)
        tick = start
        while tick < end:
            self._at(tick, "tick", None)
            tick += QUARTER
        while self._heap:
            due, _, what, argument = heapq.heappop(self._heap)
            if due >= end and what in {"upload", "edit", "delete"}:
                continue  # the weeks are over: no new runs, only our queued work
            self.now = due
            self.fake.set_time(due)
            self._handlers()[what](argument)
        return self.tally

    def _handlers(self) -> dict[str, Callable[[Any], None]]:
        return {"upload": self._upload, "edit": self._edit, "delete": self._delete,
                "deliver": self._deliver, "tick": self._tick, "sync": self._sync}  # fmt: skip

    def _at(self, due: datetime, what: str, argument: Any) -> None:
        heapq.heappush(self._heap, (due.astimezone(UTC), next(self._seq), what, argument))

    # -- what happens at Strava ----------------------------------------------------------

    def _upload(self, run: Run) -> None:
        athlete = self.athletes[run.runner]
        body = self.fake.add_activity(
            athlete, start=run.start.astimezone(UTC), timezone=run.timezone, sport_type="Run",
            distance=run.distance_m, moving_time=run.moving_s,
            elapsed_time=int(run.moving_s * 1.05), workout_type=run.workout_type,
        )  # fmt: skip
        strava_id = str(body["id"])
        runner_id = self.runner_of_athlete[athlete]
        self.arrived[strava_id] = (runner_id, run)
        self.tally.uploaded += 1
        lost = self._send_events()
        self.waiting.setdefault(runner_id, {})[strava_id] = (self.now, lost)
        if run.edited_at is not None:
            self._at(run.edited_at, "edit", int(strava_id))
        if run.deleted_at is not None:
            self._at(run.deleted_at, "delete", int(strava_id))

    def _edit(self, activity_id: int) -> None:
        if activity_id in self.fake.data.activities:
            name = f"Run {self.rng.randint(1000, 9999)}"
            self.fake.update_activity(activity_id, name=name)
            self.tally.edited += 1
            runner_id, _ = self.arrived[str(activity_id)]
            lost = self._send_events()
            self.edits.setdefault(runner_id, {})[str(activity_id)] = (self.now, name, lost)

    def _delete(self, activity_id: int) -> None:
        if activity_id in self.fake.data.activities:
            self.fake.delete_activity(activity_id)
            self.tally.deleted += 1
            runner_id, _ = self.arrived[str(activity_id)]
            self.edits.get(runner_id, {}).pop(str(activity_id), None)
            if self.waiting.get(runner_id, {}).pop(str(activity_id), None) is not None:
                self.tally.deleted_unseen += 1
            self._send_events()

    def _send_events(self, lost_share: float = 0.005, twice_share: float = 0.02) -> bool:
        """Strava posts each waiting event within seconds; a few get lost, a few come twice.
        True when an event was lost."""
        lost = False
        for payload in self.fake.take_events():
            if self.rng.random() < lost_share:
                self.tally.lost += 1
                lost = True
                continue
            self._at(self.now + timedelta(seconds=self.rng.uniform(1, 5)), "deliver", payload)
            if self.rng.random() < twice_share:
                later = timedelta(seconds=self.rng.uniform(10, 120))
                self._at(self.now + later, "deliver", payload)
        return lost

    # -- what our side does --------------------------------------------------------------

    def _deliver(self, payload: dict[str, Any]) -> None:
        self.tally.delivered += 1
        self._job(lambda: self.jobs.strava_event.call_local(payload), "deliver", payload)
        self._landed(self.runner_of_athlete.get(int(payload["owner_id"])))

    def _tick(self, _: None) -> None:
        plan = self.jobs.plan_strava_quarter()
        self.jobs.huey.storage.flush_queue()  # the plan's syncs run from our heap instead
        for runner_id, delay in zip(plan.runners, spread(len(plan.runners)), strict=True):
            self._at(self.now + timedelta(seconds=delay), "sync", runner_id)

    def _sync(self, runner_id: int) -> None:
        self.tally.reconciles += self._job(
            lambda: self.jobs.strava_sync.call_local(runner_id), "sync", runner_id
        )
        self._landed(runner_id)

    def _job(self, work: Callable[[], object], what: str, argument: Any) -> bool:
        """Run one job; False when it has to come back later."""
        done = False
        try:
            work()
            done = True
        except RetryTask as retry:
            self.tally.retries += 1
            self._at(self.now + timedelta(seconds=retry.delay or 1), what, argument)
        except UpstreamError:
            self.tally.retries += 1
            self._at(self.now + timedelta(seconds=30), what, argument)
        self._count_reads()
        return done

    def _count_reads(self) -> None:
        usage = self.fake.meter.usage(self.now)
        quarter, day = quarter_index(self.now), self.now.date().isoformat()
        self.tally.reads_by_quarter[quarter] = usage.read_15min
        self.tally.reads_by_day[day] = usage.read_day

    def _edits_landed(self, runner_id: int | None) -> None:
        """Note the runner's edits whose new title we store now, and how late each is."""
        edits = self.edits.get(runner_id or -1)
        if not edits:
            return
        with self.rt.db.session() as db:
            rows = db.execute(select(Activity.source_id, Activity.name).where(
                Activity.runner_id == runner_id, Activity.source_id.in_(list(edits)),
            )).all()  # fmt: skip
            names = {row.source_id: row.name for row in rows}
        for strava_id, (edited, name, lost) in list(edits.items()):
            if names.get(strava_id) == name:
                del edits[strava_id]
                late = (self.now - edited).total_seconds()
                (self.tally.lost_edit_s if lost else self.tally.edit_lateness_s).append(late)

    def _landed(self, runner_id: int | None) -> None:
        """Note the runner's waiting runs that are stored now, and how late each is."""
        self._edits_landed(runner_id)
        waiting = self.waiting.get(runner_id or -1)
        if not waiting:
            return
        with self.rt.db.session() as db:
            stored = db.scalars(select(ActivitySource.source_id).where(
                ActivitySource.runner_id == runner_id, ActivitySource.source == "strava",
                ActivitySource.source_id.in_(list(waiting)),
            )).all()  # fmt: skip
        for strava_id in stored:
            arrived, lost = waiting.pop(strava_id)
            late = (self.now - arrived).total_seconds()
            if lost:
                self.tally.recovered_s.append(late)
            else:
                self.tally.lateness_s.append(late)
                self.tally.same_window += quarter_index(self.now) == quarter_index(arrived)
