"""A signed-up runner with the sample's 12 weeks of runs and Berlin-evening preferences, and the
session uids of the week after the sample's last day (for the session page and API tests)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import func, select

from integrations.files.sources import Walk
from service.app import runtime
from service.models import Runner, SessionOverride
from service.preferences import load_toml, parse_preferences
from service.usecases.import_files import import_sources
from service.usecases.runners import store_preferences
from tests.service.web.conftest import TODAY, Member

BERLIN = ZoneInfo("Europe/Berlin")
WEEK = "2026-11-23"  # the week after TODAY: sessions all in the future
Q = f"today={TODAY}"
SATURDAY_10 = datetime(2026, 11, 28, 10, 0, tzinfo=BERLIN)  # the day before the long run
FRIDAY_17 = datetime(2026, 11, 27, 17, 0, tzinfo=BERLIN)  # free and breaking nothing


@dataclass
class Week:
    sessions: list[dict[str, Any]]

    def of_kind(self, kind: str) -> dict[str, Any]:
        return next(s for s in self.sessions if s["kind"] == kind)


def give_runs(app: Flask, member: Member, data_dir: Path) -> Week:
    """Store the Berlin-evening preferences and import the sample runs for ``member``."""
    rt = runtime(app)
    with rt.db.session() as db:
        runner = db.get(Runner, member.runner_id)
        assert runner is not None
        prefs = parse_preferences(load_toml(data_dir / "prefs" / "berlin_evenings.toml"))
        store_preferences(db, runner, prefs)
    import_sources(rt.db, member.runner_id, Walk([data_dir / "sample" / "activities"]).sources())
    return Week(plan_week(member))


def plan_week(member: Member) -> list[dict[str, Any]]:
    """The week's placed sessions as the plan API shows them."""
    response = member.client.get(f"/api/v1/plan?{Q}&start={WEEK}")
    assert response.status_code == 200, response.get_data(as_text=True)
    week: list[dict[str, Any]] = response.get_json()["weeks"][0]["sessions"]
    return week


def stored_overrides(app: Flask, runner_id: int) -> int:
    """How many session overrides the runner has stored."""
    with runtime(app).db.session() as db:
        count = db.scalar(
            select(func.count())
            .select_from(SessionOverride)
            .where(SessionOverride.runner_id == runner_id)
        )
    return int(count or 0)


def ics_event(body: str, uid: str) -> dict[str, str]:
    """The fields of the one VEVENT with this UID (unfolded), asserting there is exactly one."""
    text = re.sub(r"\r?\n[ \t]", "", body)
    events = [e for e in text.split("BEGIN:VEVENT")[1:] if f"\nUID:{uid}" in e]
    assert len(events) == 1, f"{len(events)} events with UID {uid}"
    fields = {}
    for line in events[0].splitlines():
        name, _, value = line.partition(":")
        fields[name.split(";")[0]] = value
    return fields
