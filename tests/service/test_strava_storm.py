"""A webhook storm: 500 Strava events for 50 runners (duplicates, any order, deletes, a revoked
grant) through the real job, and afterwards the stored activities are exactly Strava's."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from integrations.strava.mapping import activity_from_json
from integrations.types import ExternalActivity, TokenSet
from service import db as dbmod
from service import jobs
from service.app import Runtime, create_app, runtime
from service.crypto import Sealer
from service.models import Activity, ActivitySource, Connection, Runner
from tests.fakes.strava import FakeStrava, Limits

RUNNERS, EVENTS = 50, 500
ROOMY = Limits(overall=(10**6, 10**7), read=(10**6, 10**7))  # the storm is not about quotas
Fields = tuple[Any, ...]


@pytest.fixture
def storm_strava() -> Iterator[FakeStrava]:
    fake = FakeStrava(limits=ROOMY).start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def storm_rt(overrides: dict[str, str], storm_strava: FakeStrava) -> Iterator[Runtime]:
    key = Fernet.generate_key().decode("ascii")
    app = create_app({**overrides, **storm_strava.settings_overrides(), "encryption_keys": key})
    dbmod.upgrade(runtime(app).db.engine)
    yield runtime(app)
    runtime(app).db.dispose()


@pytest.fixture
def queue(storm_rt: Runtime) -> Iterator[jobs.Jobs]:
    """Our tasks on a queue of their own, run at once (a retry would land in its schedule)."""
    huey = jobs.make_queue(storm_rt.settings, name=f"storm-{uuid.uuid4().hex[:12]}")
    huey.immediate = True
    yield jobs.Jobs(huey, storm_rt)
    huey.immediate = False
    huey.flush()


def _connect(rt: Runtime, fake: FakeStrava, athlete_id: int) -> int:
    """A runner whose grant is stored as the OAuth callback stores it."""
    issued = fake.issue_token(athlete_id, scopes=("activity:read_all",))
    expiry = datetime.fromtimestamp(issued.expires_at, UTC)
    grant = TokenSet(issued.access_token, issued.refresh_token, expiry, issued.scopes)
    with rt.db.session() as db:
        runner = Runner(name=f"athlete {athlete_id}", timezone="Europe/Berlin")
        db.add(runner)
        db.flush()
        db.add(
            Connection(
                runner_id=runner.id, provider="strava", state="connected",
                account=str(athlete_id), grant=Sealer.from_settings(rt.settings).seal(grant),
            )
        )  # fmt: skip
        return runner.id


def _upload(fake: FakeStrava, rng: random.Random, athlete_id: int, day: int) -> int:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=day, hours=rng.random())
    sport = rng.choice(["Run", "Run", "TrailRun", "Ride", "Walk"])
    body = fake.add_activity(
        athlete_id, start=start, sport_type=sport, distance=rng.uniform(3e3, 25e3),
        moving_time=rng.randint(900, 9000), workout_type=rng.choice([None, 0, 1, 2, 3]),
    )  # fmt: skip
    return int(body["id"])


def _edit(fake: FakeStrava, rng: random.Random, activity_id: int) -> None:
    edits = {"name": f"edit {rng.randint(1, 999)}", "distance": rng.uniform(3e3, 25e3),
             "sport_type": rng.choice(["Run", "VirtualRun", "Hike"]),
             "workout_type": rng.choice([None, 1, 3])}  # fmt: skip
    keep = rng.sample(sorted(edits), rng.randint(1, 3))
    fake.update_activity(activity_id, **{k: edits[k] for k in keep})


def _round(fake: FakeStrava, rng: random.Random, athlete_id: int, alive: list[int]) -> None:
    """One round of an athlete's uploads, edits and deletes, each queueing its webhook event."""
    alive += [_upload(fake, rng, athlete_id, rng.randint(1, 60)) for _ in range(rng.randint(0, 1))]
    for _ in range(rng.randint(0, 2) if alive else 0):
        _edit(fake, rng, rng.choice(alive))
    if len(alive) > 1 and rng.random() < 0.3:
        fake.delete_activity(alive.pop(rng.randrange(len(alive))))


class Storm:
    """After each round of changes some waiting events arrive (shuffled, some twice) and the rest
    later, so a job often fetches a state newer than its event, or handles a stale event."""

    def __init__(self, fake: FakeStrava, queue: jobs.Jobs, rng: random.Random) -> None:
        self.fake, self.queue, self.rng = fake, queue, rng
        self.waiting: list[Any] = []
        self.delivered: list[Any] = []

    def deliver(self, share: float, *, total: int | None = None) -> None:
        """Deliver a share of the waiting events; with ``total``, redeliveries fill up to it."""
        self.waiting += self.fake.take_events()
        self.rng.shuffle(self.waiting)
        cut = round(len(self.waiting) * share)
        batch, self.waiting = self.waiting[:cut], self.waiting[cut:]
        batch += [self.rng.choice(batch) for _ in range(len(batch) // 10)]
        if total is not None:
            sent = self.delivered + batch
            assert len(sent) <= total
            batch += [self.rng.choice(sent) for _ in range(total - len(sent))]
        self.rng.shuffle(batch)
        for payload in batch:
            self.queue.strava_event(payload)
        self.delivered += batch


def _fields(a: ExternalActivity | Activity) -> Fields:
    sport = a.sport if isinstance(a.sport, str) else a.sport.value
    return (sport, a.start_utc, a.distance_m, a.utc_offset_s, a.name, a.moving_s, a.elapsed_s,
            a.elevation_gain_m, a.is_race, a.is_workout, a.source_sport)  # fmt: skip


def _truth(fake: FakeStrava, athlete_id: int) -> dict[str, Fields]:
    mapped = (activity_from_json(body) for body in fake.activities(athlete_id))
    return {a.source_id: _fields(a) for a in mapped}


def _stored(rt: Runtime, runner_id: int) -> dict[str, Fields]:
    """The runner's activities by Strava id; each must have Strava as its one source."""
    with rt.db.session() as db:
        rows = db.execute(
            select(Activity, ActivitySource.source, ActivitySource.source_id)
            .join(ActivitySource, ActivitySource.activity_id == Activity.id)
            .where(Activity.runner_id == runner_id)
        ).all()
        count = len(db.scalars(select(Activity.id).where(Activity.runner_id == runner_id)).all())
        assert count == len(rows)
        assert all(source == "strava" == a.source for a, source, _ in rows)
        return {source_id: _fields(a) for a, _, source_id in rows}


def test_500_webhook_events_for_50_runners_leave_exactly_what_strava_has(
    storm_rt: Runtime, queue: jobs.Jobs, storm_strava: FakeStrava
) -> None:
    rng = random.Random(8)
    fake = storm_strava
    athletes = [fake.add_athlete(f"Runner{i}").id for i in range(RUNNERS)]
    # Some runners had runs before connecting: no event ever names them, no sync ran.
    unsynced = {str(_upload(fake, rng, athlete_id, day=70)) for athlete_id in athletes[:10]}
    fake.take_events()
    runners = {a: _connect(storm_rt, fake, a) for a in athletes}
    revoked = athletes[7]
    queue.strava_backfill(runners[revoked])
    assert _stored(storm_rt, runners[revoked])

    storm = Storm(fake, queue, rng)
    alive: dict[int, list[int]] = {a: [] for a in athletes}
    for _ in range(5):
        for athlete_id in athletes:
            _round(fake, rng, athlete_id, alive[athlete_id])
        storm.deliver(share=0.7)
    fake.revoke_access(revoked)
    stranger = fake.add_athlete("Not", "Connected").id
    _upload(fake, rng, stranger, 1)  # its create event names an athlete nobody connected
    storm.waiting += [
        fake.webhook_event(123456789, "update", athletes[0]),  # an activity that never existed
        fake.webhook_event(athletes[1], "update", athletes[1], object_type="athlete"),
    ]
    storm.deliver(share=1.0, total=EVENTS)

    assert len(storm.delivered) == EVENTS
    assert {e["aspect_type"] for e in storm.delivered} == {"create", "update", "delete"}
    assert [*queue.huey.pending(), *queue.huey.scheduled()] == []  # nothing left to retry
    assert sum(len(_truth(fake, a)) for a in athletes) > 80
    for athlete_id, runner_id in runners.items():
        truth = {} if athlete_id == revoked else _truth(fake, athlete_id)
        expected = {k: v for k, v in truth.items() if k not in unsynced}
        assert _stored(storm_rt, runner_id) == expected, f"athlete {athlete_id}"
    with storm_rt.db.session() as db:
        gone = db.scalars(select(Connection).where(Connection.account == str(revoked))).all()
        assert gone == []  # the revoked runner's tokens are deleted with their activities
