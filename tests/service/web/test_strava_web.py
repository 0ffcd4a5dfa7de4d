"""Connecting Strava through the fake consent page, its webhook endpoint, and disconnecting."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import select

from service import db as dbmod
from service import jobs
from service.app import create_app, runtime
from service.models import Activity, Connection
from service.usecases.strava_connection import strava_connection
from tests.fakes.strava import FakeStrava
from tests.service.web.conftest import Member, sign_up

VERIFY = "a-verify-token-of-ours"


@pytest.fixture
def strava_app(overrides: dict[str, str], fake_strava: FakeStrava) -> Iterator[Flask]:
    """The app pointed at the fake Strava; queued jobs run at once."""
    key = Fernet.generate_key().decode("ascii")
    settings = {**overrides, **fake_strava.settings_overrides(), "encryption_keys": key}
    app = create_app({**settings, "strava_webhook_verify_token": VERIFY})
    dbmod.upgrade(runtime(app).db.engine)
    queue(app).huey.immediate = True
    yield app
    runtime(app).db.dispose()


def queue(app: Flask) -> jobs.Jobs:
    app_jobs: jobs.AppJobs = app.extensions[jobs.EXTENSION]
    return app_jobs.get()


@pytest.fixture
def runner(strava_app: Flask) -> Member:
    return sign_up(strava_app, "runner@example.com")


def connect(member: Member, fake: FakeStrava) -> str:
    """The whole consent round trip; the connections page the runner lands on."""
    started = member.post("/connect/strava")
    assert started.status_code == 302, started.get_data(as_text=True)[:300]
    back = urlsplit(fake.approve(started.headers["Location"]))
    landed = member.client.get(f"{back.path}?{back.query}")
    assert landed.status_code == 302
    return str(member.client.get(landed.headers["Location"]).get_data(as_text=True))


def stored(app: Flask, runner_id: int) -> set[str]:
    with runtime(app).db.session() as db:
        return set(db.scalars(select(Activity.source_id).where(Activity.runner_id == runner_id)))


def connection(app: Flask, runner_id: int) -> Connection | None:
    with runtime(app).db.session() as db:
        return strava_connection(db, runner_id)


def recent_run(fake: FakeStrava, days_ago: float = 1) -> int:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=days_ago)
    return int(fake.add_activity(start=start)["id"])


def test_connecting_with_every_scope_stores_the_grant_and_backfills(
    strava_app: Flask, runner: Member, fake_strava: FakeStrava
) -> None:
    private = int(fake_strava.add_activity(start=datetime.now(UTC) - timedelta(days=2),
                                           private=True)["id"])  # fmt: skip
    public = recent_run(fake_strava)
    page = connect(runner, fake_strava)
    assert "Strava is connected" in page
    assert "private" not in page
    found = connection(strava_app, runner.runner_id)
    assert found is not None
    assert found.state == "connected"
    assert found.account == str(fake_strava.athlete.id)
    assert "activity:read_all" in found.scopes.split()
    assert stored(strava_app, runner.runner_id) == {str(private), str(public)}


def test_unticking_private_activities_connects_and_says_what_is_missing(
    strava_app: Flask, runner: Member, fake_strava: FakeStrava
) -> None:
    fake_strava.add_activity(start=datetime.now(UTC) - timedelta(days=2), private=True)
    public = recent_run(fake_strava)
    fake_strava.withhold_scopes("activity:read_all")
    page = connect(runner, fake_strava)
    assert "Strava is connected" in page
    assert "private ones stay out" in page
    assert stored(strava_app, runner.runner_id) == {str(public)}


def test_a_consent_without_activity_access_connects_nothing(
    strava_app: Flask, runner: Member, fake_strava: FakeStrava
) -> None:
    fake_strava.withhold_scopes("activity:read_all", "activity:read")
    page = connect(runner, fake_strava)
    assert "Strava was not connected" in page
    assert connection(strava_app, runner.runner_id) is None


def test_the_subscription_check_echoes_the_challenge_only_for_our_verify_token(
    strava_app: Flask,
) -> None:
    client = strava_app.test_client()
    query = {"hub.mode": "subscribe", "hub.challenge": "abc123", "hub.verify_token": VERIFY}
    answer = client.get("/webhooks/strava", query_string=query)
    assert answer.status_code == 200
    assert answer.get_json() == {"hub.challenge": "abc123"}
    wrong = client.get("/webhooks/strava", query_string={**query, "hub.verify_token": "guess"})
    assert wrong.status_code == 403


def test_webhook_events_from_our_subscription_are_applied_and_others_refused(
    strava_app: Flask, runner: Member, fake_strava: FakeStrava
) -> None:
    connect(runner, fake_strava)
    fake_strava.push.create("http://127.0.0.1/webhooks/strava", fake_strava.now())
    fake_strava.take_events()
    created = recent_run(fake_strava)
    (event,) = fake_strava.take_events()
    client = strava_app.test_client()
    assert (
        client.post("/webhooks/strava", json={**event, "subscription_id": 999}).status_code == 403
    )
    assert client.post("/webhooks/strava", json={"junk": True}).status_code == 400
    assert client.post("/webhooks/strava", json=event).status_code == 200
    assert str(created) in stored(strava_app, runner.runner_id)


def test_a_webhook_is_answered_at_once_and_the_work_queued(
    strava_app: Flask, runner: Member, fake_strava: FakeStrava
) -> None:
    connect(runner, fake_strava)
    fake_strava.push.create("http://127.0.0.1/webhooks/strava", fake_strava.now())
    recent_run(fake_strava)
    event = fake_strava.take_events()[-1]
    queue(strava_app).huey.immediate = False
    queue(strava_app).huey.flush()
    fake_strava.clear_log()
    assert strava_app.test_client().post("/webhooks/strava", json=event).status_code == 200
    assert fake_strava.count(path="/api/v3/activities/") == 0
    assert [t.name for t in queue(strava_app).huey.pending()] == ["strava_event"]
    queue(strava_app).huey.flush()


def test_disconnecting_deauthorizes_and_deletes_what_only_strava_gave(
    strava_app: Flask, runner: Member, fake_strava: FakeStrava
) -> None:
    recent_run(fake_strava)
    connect(runner, fake_strava)
    assert stored(strava_app, runner.runner_id)
    page = runner.post("/connect/strava/disconnect", follow_redirects=True)
    assert "Strava is disconnected; 1 activities" in page.get_data(as_text=True)
    assert fake_strava.scopes_of() is None
    assert connection(strava_app, runner.runner_id) is None
    assert stored(strava_app, runner.runner_id) == set()


def test_the_consent_url_asks_for_both_activity_scopes_with_our_state(
    strava_app: Flask, runner: Member, fake_strava: FakeStrava
) -> None:
    started = runner.post("/connect/strava")
    query = {k: v[0] for k, v in parse_qs(urlsplit(started.headers["Location"]).query).items()}
    assert query["scope"] == "activity:read,activity:read_all"
    assert query["redirect_uri"] == "http://127.0.0.1:8000/connect/strava/callback"
    assert len(query["state"]) > 30


def test_the_subscribe_command_passes_strava_s_check_and_webhooks_then_accept_its_id(
    strava_app: Flask,
    fake_strava: FakeStrava,
    overrides: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from click.testing import CliRunner

    from service.cli import State
    from service.cli_strava import strava
    from tests.fakes.server import LoopbackServer

    keys = ",".join(runtime(strava_app).settings.encryption_keys)
    env = {**overrides, **fake_strava.settings_overrides(), "encryption_keys": keys}
    for key, value in {**env, "strava_webhook_verify_token": VERIFY}.items():
        monkeypatch.setenv(f"RUNSTRENGTH_{key.upper()}", value)
    state = State()
    with LoopbackServer(strava_app) as live:
        callback = live.url + "/webhooks/strava"
        made = CliRunner().invoke(strava, ["subscribe", "--callback", callback], obj=state)
        listed = CliRunner().invoke(strava, ["subscriptions"], obj=state)
    state.close()
    assert made.exit_code == 0, made.output
    assert fake_strava.subscription is not None
    assert fake_strava.subscription.callback_url == callback
    assert listed.output.strip() == str(fake_strava.subscription.id)
