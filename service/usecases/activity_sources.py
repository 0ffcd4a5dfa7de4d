"""One run, one activity: every source's copy of a run is stored once, linked to its sources.

The activity row holds the richest source's fields (its ``source``/``source_id`` name that
source); each place it came from is an ActivitySource row, and it lives while one remains.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from integrations.types import ExternalActivity, Sport
from service.models import Activity, ActivitySource, ImportRecord, Runner
from service.usecases.runners import local_date_of, mark_plan_changed

SAME_START = timedelta(minutes=2)
SAME_DISTANCE = 0.03  # relative to the longer of the two
FILE_SOURCES = frozenset({"fit", "gpx", "tcx"})
# Whose fields win when two sources have the same run: a FIT file carries the device's own
# numbers, Strava and intervals.icu re-derive them, GPX/TCX exports lose detail.
PRECEDENCE = {"fit": 5, "strava": 4, "intervals_icu": 3, "gpx": 2, "tcx": 2, "demo": 1}
_FIELDS = ("name", "start_utc", "utc_offset_s", "distance_m", "moving_s", "elapsed_s",
           "elevation_gain_m")  # fmt: skip


class Change(StrEnum):
    """What storing one activity did."""

    NEW = "new"
    LINKED = "linked"  # a twin from another source was already stored
    UPDATED = "updated"  # the same source's record again, with changes
    UNCHANGED = "unchanged"


@dataclass(slots=True)
class IngestReport:
    """Counts of what one batch did."""

    new: int = 0
    linked: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, change: Change) -> None:
        setattr(self, change.value, getattr(self, change.value) + 1)


def ingest(
    db: DbSession,
    runner: Runner,
    activities: Iterable[ExternalActivity],
    origin: str,
    *,
    import_id: int | None = None,
) -> IngestReport:
    """Store each activity once per runner: update its own record, link a twin, or add it."""
    report = IngestReport()
    for activity in activities:
        report.add(ingest_one(db, runner, activity, origin, import_id=import_id))
    return report


def ingest_one(
    db: DbSession,
    runner: Runner,
    new: ExternalActivity,
    origin: str,
    *,
    import_id: int | None = None,
) -> Change:
    """Store one activity; the plan is marked changed when anything stored changed."""
    activity = _by_source(db, runner, new.source, new.source_id)
    if activity is not None:
        if not _merge(db, runner, activity, new, origin=origin, import_id=import_id):
            return Change.UNCHANGED
        mark_plan_changed(runner)
        return Change.UPDATED
    twin = _twin(db, runner, new)
    if twin is not None:
        _link(db, runner, twin, new.source, new.source_id)
        if _merge(db, runner, twin, new, origin=origin, import_id=import_id):
            mark_plan_changed(runner)
        return Change.LINKED
    activity = new_activity(runner, import_id, origin, new)
    db.add(activity)
    db.flush()
    _link(db, runner, activity, new.source, new.source_id)
    mark_plan_changed(runner)
    return Change.NEW


def source_link(
    db: DbSession, runner_id: int, source: str, source_id: str
) -> ActivitySource | None:
    """The record that ``source`` has this activity, if it has."""
    return db.scalars(
        select(ActivitySource).where(
            ActivitySource.runner_id == runner_id,
            ActivitySource.source == source,
            ActivitySource.source_id == source_id,
        )
    ).first()


def remove_from_source(db: DbSession, runner: Runner, source: str, source_id: str) -> bool:
    """Forget that a source has the activity; True when no source is left and it was deleted."""
    link = source_link(db, runner.id, source, source_id)
    if link is None:
        return False
    activity = db.get_one(Activity, link.activity_id)
    db.delete(link)
    db.flush()
    return _settle(db, runner, activity)


def remove_all_from_source(db: DbSession, runner: Runner, source: str) -> int:
    """Drop every link to a source (deauthorization); returns how many activities went."""
    links = db.scalars(
        select(ActivitySource).where(
            ActivitySource.runner_id == runner.id, ActivitySource.source == source
        )
    ).all()
    deleted = 0
    for link in links:
        activity = db.get_one(Activity, link.activity_id)
        db.delete(link)
        db.flush()
        deleted += _settle(db, runner, activity)
    return deleted


def sources_of(db: DbSession, activity: Activity) -> list[ActivitySource]:
    """The activity's links, oldest first."""
    return list(
        db.scalars(
            select(ActivitySource)
            .where(ActivitySource.activity_id == activity.id)
            .order_by(ActivitySource.id)
        )
    )


def _by_source(db: DbSession, runner: Runner, source: str, source_id: str) -> Activity | None:
    """The activity this source record already made, repairing a missing link row."""
    found = db.scalars(
        select(Activity)
        .join(ActivitySource, ActivitySource.activity_id == Activity.id)
        .where(
            ActivitySource.runner_id == runner.id,
            ActivitySource.source == source,
            ActivitySource.source_id == source_id,
        )
    ).first()
    if found is not None:
        return found
    found = db.scalars(
        select(Activity).where(
            Activity.runner_id == runner.id,
            Activity.source == source,
            Activity.source_id == source_id,
        )
    ).first()
    if found is not None:
        _link(db, runner, found, source, source_id)
    return found


def _twin(db: DbSession, runner: Runner, new: ExternalActivity) -> Activity | None:
    """The stored record of the same run, closest start first.

    Two records from one platform are two activities there, so they never merge; files merge
    with anything (the same run exported twice is still one run).
    """
    candidates = db.scalars(
        select(Activity).where(
            Activity.runner_id == runner.id,
            Activity.start_utc.between(new.start_utc - SAME_START, new.start_utc + SAME_START),
        )
    ).all()
    twins = [old for old in candidates if is_same_activity(old, new)]
    for old in sorted(twins, key=lambda old: abs(old.start_utc - new.start_utc)):
        if new.source in FILE_SOURCES:
            return old
        if all(link.source != new.source for link in sources_of(db, old)):
            return old
    return None


def _link(db: DbSession, runner: Runner, activity: Activity, source: str, source_id: str) -> None:
    db.add(
        ActivitySource(
            runner_id=runner.id, activity_id=activity.id, source=source, source_id=source_id
        )
    )
    db.flush()


def rank(source: str) -> int:
    """How rich a source's fields are; unknown sources rank lowest."""
    return PRECEDENCE.get(source, 0)


def _merge(
    db: DbSession,
    runner: Runner,
    activity: Activity,
    new: ExternalActivity,
    *,
    origin: str,
    import_id: int | None,
) -> bool:
    """Take the richer side's fields and fill what the stored side lacked; True if changed."""
    same = (activity.source, activity.source_id) == (new.source, new.source_id)
    wins = same or rank(new.source) > rank(activity.source)
    before = _snapshot(activity)
    for name in _FIELDS:
        value = getattr(new, name)
        if value is not None and (wins or getattr(activity, name) is None):
            setattr(activity, name, value)
    if new.sport is not Sport.UNKNOWN and (wins or activity.sport == Sport.UNKNOWN.value):
        activity.sport, activity.source_sport = new.sport.value, new.source_sport
    # A same-source update states the flags; other sources only add them (files never know).
    activity.is_race = new.is_race if same else activity.is_race or new.is_race
    activity.is_workout = new.is_workout if same else activity.is_workout or new.is_workout
    if wins and not same:
        activity.source, activity.source_id, activity.origin = new.source, new.source_id, origin
    if import_id is not None and activity.import_id is None:
        activity.import_id = import_id
    activity.local_date = local_date_of(activity.start_utc, activity.utc_offset_s, runner.timezone)
    activity.fingerprint = fingerprint(activity)
    db.flush()
    return _snapshot(activity) != before


def _snapshot(activity: Activity) -> tuple[Any, ...]:
    names = (*_FIELDS, "sport", "source_sport", "is_race", "is_workout", "local_date")
    return tuple(getattr(activity, name) for name in names)


def _settle(db: DbSession, runner: Runner, activity: Activity) -> bool:
    """Delete an activity no source has any more, else let its richest source name it."""
    left = sources_of(db, activity)
    if not left:
        db.delete(activity)
        db.flush()
        mark_plan_changed(runner)
        return True
    if all((link.source, link.source_id) != (activity.source, activity.source_id) for link in left):
        best = max(left, key=lambda link: rank(link.source))
        activity.source, activity.source_id = best.source, best.source_id
        activity.origin = _origin_of(db, activity, best)
        db.flush()
    return False


def _origin_of(db: DbSession, activity: Activity, link: ActivitySource) -> str:
    """A file's name when the link is a file we know, else the source's name."""
    if link.source in FILE_SOURCES and activity.import_id is not None:
        record = db.get(ImportRecord, activity.import_id)
        if record is not None:
            return record.file_name
    return link.source


def family(sport: Sport) -> str:
    """Sports that can be the same activity under two labels share a family."""
    return "run" if sport.is_run else sport.value


def fingerprint(activity: Recorded) -> str:
    """Coarse identity shared by the same activity from any source: family, start minute, 100 m."""
    minute = activity.start_utc.strftime("%Y%m%dT%H%M")
    return f"{family(Sport(activity.sport))}|{minute}|{round(activity.distance_m / 100)}"


class Recorded(Protocol):
    """What twin detection looks at, stored (Activity) or just read (ExternalActivity)."""

    @property
    def start_utc(self) -> datetime: ...
    @property
    def distance_m(self) -> float: ...
    @property
    def sport(self) -> str: ...


def is_same_activity(a: Recorded, b: Recorded) -> bool:
    """Two records of one activity: starts within 2 min, distances within 3%, sports compatible."""
    if abs(a.start_utc - b.start_utc) > SAME_START:
        return False
    if abs(a.distance_m - b.distance_m) > SAME_DISTANCE * max(a.distance_m, b.distance_m):
        return False
    sports = {Sport(a.sport), Sport(b.sport)}
    return Sport.UNKNOWN in sports or len({family(s) for s in sports}) == 1


def new_activity(
    runner: Runner, import_id: int | None, origin: str, a: ExternalActivity
) -> Activity:
    """A fresh activity row from one source's record."""
    return Activity(
        runner_id=runner.id,
        import_id=import_id,
        source=a.source,
        source_id=a.source_id,
        origin=origin,
        sport=a.sport.value,
        source_sport=a.source_sport,
        name=a.name,
        start_utc=a.start_utc,
        utc_offset_s=a.utc_offset_s,
        local_date=local_date_of(a.start_utc, a.utc_offset_s, runner.timezone),
        distance_m=a.distance_m,
        moving_s=a.moving_s,
        elapsed_s=a.elapsed_s,
        elevation_gain_m=a.elevation_gain_m,
        is_race=a.is_race,
        is_workout=a.is_workout,
        fingerprint=fingerprint(a),
    )
