"""Import workout files: each file is read, de-duplicated and stored all or nothing."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from integrations.errors import BadFile
from integrations.files import read_file
from integrations.files.sources import Source
from integrations.types import ExternalActivity, Sport
from service.db import Database
from service.models import ImportRecord, Runner
from service.usecases.activity_sources import Change, ingest_one, is_same_activity

__all__ = [  # is_same_activity moved to activity_sources; still importable from here
    "FileResult",
    "ImportReport",
    "Outcome",
    "import_sources",
    "is_same_activity",
    "store_activities",
]

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    IMPORTED = "imported"
    NOT_RUNNING = "not_running"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class FileResult:
    """What one file gave: its outcome, counts of new runs/others/duplicates, and a reason."""

    name: str
    outcome: Outcome
    runs: int = 0
    others: int = 0
    duplicates: int = 0
    detail: str = ""


@dataclass(slots=True)
class ImportReport:
    """The results of one import, file by file."""

    files: list[FileResult] = field(default_factory=list)

    def total(self, what: str) -> int:
        """Sum of a FileResult count over all files (runs, others, duplicates)."""
        return sum(int(getattr(f, what)) for f in self.files)

    @property
    def rejected(self) -> list[FileResult]:
        return [f for f in self.files if f.outcome is Outcome.REJECTED]


def import_sources(
    db: Database,
    runner_id: int,
    sources: Iterable[Source],
    *,
    sport_override: Sport | None = None,
    on_file: Callable[[Source], None] | None = None,
) -> ImportReport:
    """Import every source for the runner; a bad file is reported and the rest go on."""
    report = ImportReport()
    for source in sources:
        report.files.append(_import_one(db, runner_id, source, sport_override))
        if on_file is not None:
            on_file(source)
    return report


def _import_one(
    db: Database, runner_id: int, source: Source, sport_override: Sport | None
) -> FileResult:
    data: bytes | None = None
    try:
        data = source.read()
        with db.session() as session:
            return _store_file(session, runner_id, source.name, data, sport_override)
    except BadFile as exc:
        reason = str(exc)
    except SQLAlchemyError:
        raise
    except Exception as exc:  # a reader bug must not stop the other files
        log.warning("unexpected error reading %s: %r", source.name, exc)
        log.debug("details", exc_info=True)
        reason = f"could not be read ({type(exc).__name__})"
    digest = hashlib.sha256(data).hexdigest() if data is not None else None
    with db.session() as session:
        _record_rejection(session, runner_id, source.name, digest, reason)
    return FileResult(source.name, Outcome.REJECTED, detail=reason)


def _store_file(
    session: Session, runner_id: int, name: str, data: bytes, sport_override: Sport | None
) -> FileResult:
    parsed = read_file(data, name)
    seen = session.scalars(
        select(ImportRecord.id).where(
            ImportRecord.runner_id == runner_id,
            ImportRecord.sha256 == parsed.sha256,
            ImportRecord.status != Outcome.REJECTED.value,
        )
    ).first()
    if seen is not None:
        return FileResult(
            name, Outcome.DUPLICATE, duplicates=len(parsed.activities), detail="already imported"
        )
    runner = session.get_one(Runner, runner_id)
    record = ImportRecord(
        runner_id=runner_id, file_name=name, sha256=parsed.sha256, status="", detail=""
    )
    session.add(record)
    session.flush()
    activities = parsed.activities
    if sport_override is not None:
        activities = [
            replace(a, sport=sport_override) if a.sport is Sport.UNKNOWN else a for a in activities
        ]
    runs, others, duplicates = _insert_new(session, runner, record.id, name, activities)
    outcome = _outcome(runs, others)
    record.status, record.activity_count = outcome.value, runs + others
    record.detail = _describe(runs, others, duplicates)
    return FileResult(name, outcome, runs, others, duplicates, record.detail)


def store_activities(
    db: Database, runner_id: int, activities: Iterable[ExternalActivity], origin: str
) -> FileResult:
    """Store activities that came from no file (a platform, the demo); twins are linked."""
    with db.session() as session:
        runner = session.get_one(Runner, runner_id)
        runs, others, duplicates = _insert_new(session, runner, None, origin, activities)
    detail = _describe(runs, others, duplicates)
    return FileResult(origin, _outcome(runs, others), runs, others, duplicates, detail)


def _insert_new(
    session: Session,
    runner: Runner,
    import_id: int | None,
    origin: str,
    activities: Iterable[ExternalActivity],
) -> tuple[int, int, int]:
    """Store each activity once with its source; returns (new runs, new others, twins)."""
    runs = others = duplicates = 0
    for activity in activities:
        change = ingest_one(session, runner, activity, origin, import_id=import_id)
        if change is not Change.NEW:
            duplicates += 1
        elif activity.sport.is_run:
            runs += 1
        else:
            others += 1
    return runs, others, duplicates


def _outcome(runs: int, others: int) -> Outcome:
    if runs:
        return Outcome.IMPORTED
    return Outcome.NOT_RUNNING if others else Outcome.DUPLICATE


def _describe(runs: int, others: int, duplicates: int) -> str:
    parts = [
        f"{runs} run(s)" if runs else "",
        f"{others} other" if others else "",
        f"{duplicates} already stored" if duplicates else "",
    ]
    return ", ".join(p for p in parts if p)


def _record_rejection(
    session: Session, runner_id: int, name: str, digest: str | None, reason: str
) -> None:
    """Keep one rejection row per file, so re-running an import adds nothing."""
    query = select(ImportRecord).where(
        ImportRecord.runner_id == runner_id, ImportRecord.status == Outcome.REJECTED.value
    )
    if digest is None:
        query = query.where(ImportRecord.sha256.is_(None), ImportRecord.file_name == name)
    else:
        query = query.where(ImportRecord.sha256 == digest)
    record = session.scalars(query.limit(1)).first()
    if record is None:
        record = ImportRecord(
            runner_id=runner_id,
            file_name=name,
            sha256=digest,
            status=Outcome.REJECTED.value,
            activity_count=0,
        )
        session.add(record)
    record.detail = reason
