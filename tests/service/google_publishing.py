"""A Berlin runner with the sample's runs, connected to the fake Google, ready to publish."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from cryptography.fernet import Fernet
from sqlalchemy import select

from integrations.calendar.google import event_id_for
from integrations.files.sources import Walk
from integrations.http import new_session
from integrations.types import CalendarEvent, TokenSet
from service import db as dbmod
from service.crypto import Sealer
from service.db import Database
from service.models import Connection, RemoteEvent, Runner, SessionOverride
from service.preferences import load_toml, parse_preferences
from service.settings import Settings
from service.usecases.import_files import import_sources
from service.usecases.publish_google import PublishReport, publish_runner
from service.usecases.publish_plan import window_events
from service.usecases.runners import default_runner, store_preferences
from tests.fakes.google import FakeGoogle

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday, three days after the sample ends
WRITES = ("POST", "PATCH", "PUT", "DELETE")


@dataclass
class Published:
    """The runner, their database and settings, the fake Google, and handy views of them."""

    db: Database
    settings: Settings
    runner_id: int
    fake: FakeGoogle
    http: requests.Session

    def publish(self, now: datetime = NOW) -> PublishReport:
        """Publish as the job would; the client does not retry (a failure is final at once)."""
        return publish_runner(
            self.db, self.settings, self.runner_id, now=now, session=self.http, retries=0
        )

    def connection(self) -> Connection:
        with self.db.session() as s:
            found = s.scalars(select(Connection).where(Connection.runner_id == self.runner_id))
            return found.one()

    @property
    def calendar_id(self) -> str:
        calendar_id = self.connection().calendar_id
        assert calendar_id is not None
        return calendar_id

    def planned(self, now: datetime = NOW) -> dict[str, CalendarEvent]:
        """The feed window's events (as the feed shows them) by our event id."""
        with self.db.session() as s:
            runner = s.get_one(Runner, self.runner_id)
            events = window_events(
                s, runner, base_url=self.settings.base_url, today=now.date(), now=now
            )
        return {event_id_for(e.uid): e for e in events}

    def remote(self) -> dict[str, dict[str, Any]]:
        """The events the runner sees in Google (not cancelled), by id."""
        return {e["id"]: e for e in self.fake.events(self.calendar_id)}

    def recorded(self) -> dict[str, RemoteEvent]:
        with self.db.session() as s:
            rows = s.scalars(select(RemoteEvent))
            return {r.event_id: r for r in rows}

    def overrides(self) -> dict[str, SessionOverride]:
        with self.db.session() as s:
            rows = s.scalars(
                select(SessionOverride).where(SessionOverride.runner_id == self.runner_id)
            )
            return {r.uid: r for r in rows}

    def writes(self) -> int:
        """Calendar calls that change something, on the wire or inside batches."""
        return sum(self.fake.count(m, "^/calendar/v3/", inner=None) for m in WRITES)


def connected_runner(
    overrides: dict[str, str], fake: FakeGoogle, data_dir: Path
) -> Iterator[Published]:
    """Set everything up on the test's database; closes it afterwards."""
    values = {
        **overrides,
        **fake.settings_overrides(),
        "encryption_keys": Fernet.generate_key().decode("ascii"),
    }
    settings = Settings.from_env(env={}, overrides=values)
    db = Database(settings)
    dbmod.upgrade(db.engine)
    with db.session() as s:
        runner = default_runner(s)
        prefs = parse_preferences(load_toml(data_dir / "prefs" / "berlin_evenings.toml"))
        store_preferences(s, runner, prefs)
        runner_id = runner.id
    import_sources(db, runner_id, Walk([data_dir / "sample" / "activities"]).sources())
    issued = fake.issue_token()
    grant = TokenSet(
        issued.access_token, issued.refresh_token, NOW + timedelta(hours=1), issued.scopes
    )
    with db.session() as s:
        s.add(
            Connection(
                runner_id=runner_id,
                provider="google_calendar",
                state="connected",
                grant=Sealer.from_settings(settings).seal(grant),
                scopes=" ".join(sorted(issued.scopes)),
                account="runner@example.com",
                last_error="",
                reminder_minutes=15,
            )
        )
    with new_session() as http:
        yield Published(db, settings, runner_id, fake, http)
    db.dispose()
