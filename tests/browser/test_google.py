"""Google Calendar in a real browser against the fake Google: consent, publishing, both sides'
moves, a revoked grant, reconnecting and disconnecting with the calendar deleted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from playwright.sync_api import Page, expect

from integrations.calendar.google import event_id_for
from service.models import utcnow
from service.usecases.publish_google import PublishReport
from tests.browser.browsing import Camera, Site, sign_up
from tests.browser.flows import (
    feed_address,
    feed_events,
    move_elsewhere,
    next_week_session,
    onboard,
    sample_files,
    upload,
)
from tests.browser.google_flow import (
    consent_and_allow,
    events_by_uid,
    google_card,
    local,
    publish,
    start_of,
)
from tests.fakes.google import FakeGoogle

EMAIL = "google@example.com"
REMOVE = "Also delete the runstrength calendar and its sessions from Google"


def assert_calendar_shows_the_feed(page: Page, fake: FakeGoogle) -> dict[str, dict[str, Any]]:
    """One event per feed session, with the feed's title and the id derived from its uid."""
    feed = feed_events(page, feed_address(page))
    published = events_by_uid(fake)
    assert published.keys() == feed.keys()
    for uid, event in published.items():
        assert event["id"] == event_id_for(uid)
        assert event["summary"] == str(feed[uid]["SUMMARY"])
    return published


def test_a_runner_connects_google_sees_the_plan_published_and_disconnects_deleting_it(
    google_site: Site, google_camera: Camera, fake_google: FakeGoogle
) -> None:
    with google_site.context() as context:
        page = context.new_page()
        sign_up(page, EMAIL)
        onboard(page)
        upload(page, sample_files())
        runner_id = google_site.runner_id(EMAIL)
        assert runner_id is not None
        page.goto("/connections")
        expect(google_card(page).locator(".state")).to_have_text("Not connected")
        google_camera.both(page, "connections-not-connected")

        consent_and_allow(page, fake_google, "Connect Google Calendar")
        expect(page.get_by_role("status")).to_contain_text("Google Calendar is connected")
        expect(google_card(page).locator(".state")).to_have_text("Connected")
        google_camera.both(page, "connections-connected")

        first = publish(google_site, runner_id)
        published = assert_calendar_shows_the_feed(page, fake_google)
        assert first.calendar_created
        assert first.inserted == len(published) > 10

        steps = Steps(page, google_site, google_camera, fake_google, runner_id)
        steps.moved_in_the_app_is_patched()
        steps.moved_in_google_is_kept_as_the_runners_move()
        steps.revoked_grant_asks_for_reconnection()
        steps.reconnected_then_disconnected_with_the_calendar_deleted()


@dataclass
class Steps:
    """The rest of the journey, one method per thing the runner does, in order."""

    page: Page
    site: Site
    camera: Camera
    fake: FakeGoogle
    runner_id: int

    def publish(self) -> PublishReport:
        return publish(self.site, self.runner_id)

    def moved_in_the_app_is_patched(self) -> None:
        """The same event, at the new time: a patch, no insert and no delete."""
        uid = next_week_session(self.page)
        before = events_by_uid(self.fake)[uid]
        target = move_elsewhere(self.page, local(start_of(before)))

        report = self.publish()

        assert (report.inserted, report.deleted) == (0, 0)
        assert report.patched >= 1
        after = assert_calendar_shows_the_feed(self.page, self.fake)[uid]
        assert after["id"] == before["id"]
        assert local(start_of(after)) == target

    def moved_in_google_is_kept_as_the_runners_move(self) -> None:
        """Dragging an event in Google pins the session there: the session page says so."""
        soon = utcnow() + timedelta(days=1)
        uid, event = min(
            ((u, e) for u, e in events_by_uid(self.fake).items() if start_of(e) > soon),
            key=lambda found: start_of(found[1]),
        )
        new_start = start_of(event) + timedelta(hours=1)
        (calendar_id,) = self.fake.calendars
        self.fake.move_event(calendar_id, event["id"], new_start)

        report = self.publish()

        assert report.moved_by_runner == 1
        assert start_of(events_by_uid(self.fake)[uid]) == new_start
        self.page.goto(f"/sessions/{uid}")
        expect(self.page.locator("p.state")).to_contain_text("Moved by you")
        shown = self.page.locator("p.when time").first.get_attribute("datetime") or ""
        assert datetime.fromisoformat(shown) == new_start
        self.camera.both(self.page, "session-moved-in-google")

    def revoked_grant_asks_for_reconnection(self) -> None:
        """Access removed in the Google account: the dashboard and connections page say so."""
        self.fake.revoke_grants()

        assert self.publish().state == "needs_reconnect"

        self.page.goto("/")
        expect(self.page.get_by_role("heading", name="A connection needs you")).to_be_visible()
        self.camera.check(self.page, "dashboard-needs-reconnection")
        self.page.goto("/connections")
        card = google_card(self.page)
        expect(card.locator(".state")).to_have_text("Needs reconnection")
        expect(card.get_by_role("button", name="Reconnect Google Calendar")).to_be_visible()
        self.camera.both(self.page, "connections-needs-reconnection")

    def reconnected_then_disconnected_with_the_calendar_deleted(self) -> None:
        """Reconnecting reuses the calendar as it is; disconnecting can delete it at Google."""
        (calendar_id,) = self.fake.calendars
        consent_and_allow(self.page, self.fake, "Reconnect Google Calendar")
        expect(google_card(self.page).locator(".state")).to_have_text("Connected")

        again = self.publish()

        assert (again.state, again.written, again.calendar_created) == ("published", 0, False)
        assert list(self.fake.calendars) == [calendar_id]
        card = google_card(self.page)
        card.get_by_label(REMOVE).check()
        card.get_by_role("button", name="Disconnect Google Calendar").click()
        self.page.wait_for_load_state()
        expect(self.page.get_by_role("status")).to_contain_text("runstrength calendar deleted")
        assert self.fake.calendars == {}
        assert self.fake.count("POST", "^/revoke$") == 1
        expect(google_card(self.page).locator(".state")).to_have_text("Not connected")
        self.camera.both(self.page, "connections-disconnected")
