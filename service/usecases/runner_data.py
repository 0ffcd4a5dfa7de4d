"""A runner's own data: their preferences to read and change, all of it to export, or to delete."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import available_timezones

from sqlalchemy import ColumnElement, Table, delete, or_, select
from sqlalchemy.orm import Session as DbSession

from service.models import (
    Account,
    Activity,
    ActivitySource,
    ApiToken,
    Base,
    Connection,
    Feed,
    ImportRecord,
    PlannedRunRecord,
    PublishedSession,
    Runner,
    SessionOverride,
)
from service.planning.pattern import infer_pattern
from service.preferences import (
    PREFERENCE_NAMES,
    WEEKDAYS,
    PreferencesError,
    parse_preferences,
    preferences_to_mapping,
)
from service.usecases.build_plan import past_runs, runner_preferences
from service.usecases.runners import InvalidValue, default_runner, store_preferences

EXPORT_FORMAT = "runstrength-export/1"
SINGLE_RUNNER_WORD = "DELETE"
# Every table that refers to a runner, and where its rows go in the export (or why they do not).
EXPORTED_TABLES = {
    "runners": "runner",
    "accounts": "account (email and creation time; never the password hash)",
    "activities": "activities",
    "imports": "imports",
    "session_overrides": "session_overrides",
    "published_sessions": "published_sessions",
    "feeds": "feed (rotation time only; never the token, its hash or nonce)",
    "feed_renders": "left out: rendered calendar bytes, made again from the rest",
    "api_tokens": "api_tokens (names and times; never the hashes)",
    "connections": "connections (service, state, account, times; never the encrypted grant)",
    "remote_events": "left out: event ids in connected calendars, made again on publishing",
    "oauth_states": "left out: authorisations in flight, gone within minutes",
    "activity_sources": "activity_sources (where each activity came from)",
    "planned_runs": "planned_runs (from a connected training calendar)",
}


class BadPreferences(PreferencesError):
    """One or more preferences are wrong: ``problems`` maps each key path to what is wrong."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        super().__init__("; ".join(f"{path}: {what}" for path, what in self.problems.items()))


@dataclass(frozen=True, slots=True)
class PreferenceDraft:
    """What a preferences form starts from: the stored mapping and what the runs suggest."""

    stored: dict[str, Any]
    onboarded: bool
    long_run_day: str | None  # inferred from the last six weeks of runs
    hard_days: tuple[str, ...]


def current_preferences(runner: Runner) -> dict[str, Any]:
    """Every preference in the TOML file's shape, defaults filled in."""
    return preferences_to_mapping(runner_preferences(runner))


def preferences_draft(db: DbSession, runner: Runner, today: date) -> PreferenceDraft:
    """The stored preferences and the long-run and hard days the runner's recent runs show."""
    prefs = replace(runner_preferences(runner), long_run_day=None, hard_days=None)
    pattern = infer_pattern(past_runs(db, runner, today), today, prefs)
    long_day = None if pattern.long_run_day is None else WEEKDAYS[pattern.long_run_day]
    return PreferenceDraft(
        stored=current_preferences(runner),
        onboarded=bool(runner.preferences),
        long_run_day=long_day,
        hard_days=tuple(WEEKDAYS[d] for d in sorted(pattern.hard_days)),
    )


def update_preferences(db: DbSession, runner: Runner, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``changes`` (a None value resets that key) into the stored preferences and keep them.

    Every key is checked before anything is written; BadPreferences names each bad one. Storing
    marks the plan changed, so the plan and the feed are built again from the new values.
    """
    wanted = _merged(runner, changes)
    problems = _problems(wanted)
    if problems:
        raise BadPreferences(problems)
    try:
        prefs = parse_preferences(wanted)
    except PreferencesError as exc:  # a rule across keys (session minutes)
        raise BadPreferences(dict([_split(str(exc), "preferences")])) from None
    store_preferences(db, runner, prefs)
    return current_preferences(runner)


def preference_problems(runner: Runner, changes: Mapping[str, Any]) -> dict[str, str]:
    """What update_preferences would refuse in ``changes``, by key path; nothing is stored."""
    return _problems(_merged(runner, changes))


def _merged(runner: Runner, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The stored preferences with ``changes`` applied; a null resets a known key, while an
    unknown key stays in, null or not, to be refused."""
    merged = {**current_preferences(runner), **changes}
    return {k: v for k, v in merged.items() if v is not None or k not in PREFERENCE_NAMES}


def _problems(wanted: Mapping[str, Any]) -> dict[str, str]:
    problems: dict[str, str] = {}
    for key, value in wanted.items():
        try:
            parse_preferences({key: value})
        except PreferencesError as exc:
            path, what = _split(str(exc), key)
            problems[path] = what
    zone = wanted.get("timezone")
    if "timezone" not in problems and zone is not None and zone not in available_timezones():
        problems["timezone"] = f"unknown time zone {zone!r} (use a name like Europe/Berlin)"
    return problems


def _split(message: str, key: str) -> tuple[str, str]:
    """'availability.monday: expected ...' -> ('availability.monday', 'expected ...')."""
    path, sep, what = message.partition(": ")
    if sep and path and " " not in path:
        return path, what
    return key, message


def export_runner(db: DbSession, runner: Runner, now: datetime) -> dict[str, Any]:
    """Everything stored about the runner as one JSON-safe mapping, secrets left out."""
    account = db.scalars(select(Account).where(Account.runner_id == runner.id)).first()
    feed = db.scalars(select(Feed).where(Feed.runner_id == runner.id)).first()
    return {
        "format": EXPORT_FORMAT,
        "exported_at": now.isoformat(),
        "runner": {
            "name": runner.name,
            "timezone": runner.timezone,
            "units": runner.units,
            "week_start": WEEKDAYS[runner.week_start],
            "created_at": runner.created_at.isoformat(),
            "plan_changed_at": runner.plan_changed_at.isoformat(),
        },
        "preferences": current_preferences(runner),
        "account": None
        if account is None
        else {"email": account.email, "created_at": account.created_at.isoformat()},
        "activities": _rows(db, Activity, runner.id, order=Activity.start_utc),
        "imports": _rows(db, ImportRecord, runner.id, order=ImportRecord.created_at),
        "session_overrides": _rows(db, SessionOverride, runner.id, order=SessionOverride.uid),
        "published_sessions": _rows(
            db, PublishedSession, runner.id, order=PublishedSession.uid, omit=frozenset({"id"})
        ),
        "feed": None if feed is None else {"rotated_at": feed.rotated_at.isoformat()},
        "api_tokens": _rows(
            db, ApiToken, runner.id, order=ApiToken.created_at, omit=frozenset({"id", "token_hash"})
        ),
        "activity_sources": _rows(
            db, ActivitySource, runner.id, order=ActivitySource.id, omit=frozenset({"id"})
        ),
        "planned_runs": _rows(
            db, PlannedRunRecord, runner.id, order=PlannedRunRecord.day, omit=frozenset({"id"})
        ),
        "connections": _rows(
            db,
            Connection,
            runner.id,
            order=Connection.provider,
            omit=frozenset({"id", "grant", "sync_token"}),
        ),
    }


def _rows(
    db: DbSession,
    model: Any,
    runner_id: int,
    *,
    order: Any,
    omit: frozenset[str] | set[str] = frozenset(),
) -> list[dict[str, Any]]:
    """The runner's rows of one table, every column but the runner id and ``omit``."""
    table: Table = model.__table__
    names = [c.name for c in table.columns if c.name != "runner_id" and c.name not in omit]
    rows = db.execute(
        select(*(table.c[n] for n in names))
        .where(table.c.runner_id == runner_id)
        .order_by(order, table.c.id)
    )
    return [{name: _plain(value) for name, value in zip(names, row, strict=True)} for row in rows]


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def confirmation_for(db: DbSession, runner: Runner) -> str:
    """What the runner types to confirm deletion: their account's email, or DELETE without one."""
    email = db.scalar(select(Account.email).where(Account.runner_id == runner.id))
    return email or SINGLE_RUNNER_WORD


def delete_runner(db: DbSession, runner: Runner, confirm: str, *, replace_with_new: bool) -> None:
    """Delete the runner and every row that refers to them, once ``confirm`` matches.

    Rows are found through the foreign keys of every table (so a new table is covered too),
    children first, rather than trusting ON DELETE CASCADE alone. With ``replace_with_new``
    (single-runner mode) a fresh, empty runner takes the old one's place.
    """
    expected = confirmation_for(db, runner)
    if confirm.strip().lower() != expected.lower():
        what = "your email address" if expected != SINGLE_RUNNER_WORD else SINGLE_RUNNER_WORD
        raise InvalidValue(f"type {what} to confirm")
    runners: Table = Runner.__table__  # type: ignore[assignment]
    for table in reversed(Base.metadata.sorted_tables):
        owned = _owned(table, runners, runner.id, frozenset())
        if table is not runners and owned is not None:
            db.execute(delete(table).where(owned))
    db.execute(delete(runners).where(runners.c.id == runner.id))
    db.expunge(runner)
    if replace_with_new:
        default_runner(db)


def _owned(
    table: Table, runners: Table, runner_id: int, seen: frozenset[str]
) -> ColumnElement[bool] | None:
    """A condition for the rows of ``table`` that belong to the runner, directly or via a parent."""
    conditions: list[ColumnElement[bool]] = []
    for column in table.columns:
        if column.name == "runner_id" and not column.foreign_keys:
            conditions.append(column == runner_id)
        for fk in column.foreign_keys:
            parent = fk.column.table
            if parent is runners:
                conditions.append(column == runner_id)
            elif isinstance(parent, Table) and parent.name not in seen:
                found = _owned(parent, runners, runner_id, seen | {table.name})
                if found is not None:
                    conditions.append(column.in_(select(fk.column).where(found)))
    return or_(*conditions) if conditions else None
