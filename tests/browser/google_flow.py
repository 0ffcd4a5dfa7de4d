"""Steps of the Google Calendar journey: consent in the browser, publishing, reading the fake."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import Locator, Page, expect

from service.jobs import EXTENSION, AppJobs
from service.usecases.publish_google import PublishReport
from tests.browser.browsing import ZONE, Site, path_of
from tests.fakes.google import FakeGoogle

CARD = "#connection-google_calendar"


def google_card(page: Page) -> Locator:
    """The Google Calendar row of the connections page."""
    return page.locator(CARD)


def consent_and_allow(page: Page, fake: FakeGoogle, button: str) -> None:
    """Press Connect (or Reconnect) on /connections, then Allow on the fake consent page."""
    page.goto("/connections")
    google_card(page).get_by_role("button", name=button).click()
    expect(page.get_by_role("heading", name="Allow access to your Google Account")).to_be_visible()
    assert page.url.startswith(fake.url + "/o/oauth2/v2/auth"), page.url
    page.get_by_role("button", name="Allow").click()
    page.wait_for_load_state()
    assert path_of(page) == "/connections"


def publish(site: Site, runner_id: int) -> PublishReport:
    """Publish now with the app's own jobs, as the worker would (the test server runs none)."""
    app_jobs: AppJobs = site.app.extensions[EXTENSION]
    return app_jobs.get().publish_once(runner_id)


def events_by_uid(fake: FakeGoogle) -> dict[str, dict[str, Any]]:
    """Our calendar's live events in the fake, by the session uid each one carries."""
    (calendar_id,) = fake.calendars
    events = fake.events(calendar_id)
    by_uid = {e["extendedProperties"]["private"]["runstrength_uid"]: e for e in events}
    assert len(by_uid) == len(events), "two events for one session"
    return by_uid


def start_of(event: dict[str, Any]) -> datetime:
    """An event's start in the fake, on the runner's clock."""
    return datetime.fromisoformat(event["start"]["dateTime"]).astimezone(ZoneInfo(ZONE))


def local(moment: datetime) -> str:
    """A start as the move page writes it."""
    return moment.astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%dT%H:%M")
