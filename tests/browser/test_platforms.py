"""Strava and intervals.icu in a real browser against their fakes: consent or API key, runs
imported onto the dashboard, sessions sent, and disconnecting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from service.app import runtime
from service.usecases.intervals_connection import intervals_connection
from tests.browser.browsing import Camera, Site, path_of, sign_up
from tests.browser.flows import feed_address, feed_events, onboard
from tests.browser.platform_flow import card, charted_runs, day_run, easy_day_ahead, expect_state
from tests.fakes.intervals import FakeIntervals
from tests.fakes.strava import FakeStrava

PRIVATE_SCOPE = "activity:read_all"


def strava_runs(fake: FakeStrava, days_ago: list[int], *, private: bool = False) -> None:
    """Runs on the athlete's Strava, ``days_ago`` before now."""
    now = datetime.now(UTC).replace(microsecond=0)
    for days in days_ago:
        fake.add_activity(start=now - timedelta(days=days), sport_type="Run", distance=8000.0,
                          moving_time=2600, private=private)  # fmt: skip


def test_a_runner_connects_strava_without_private_runs_sees_the_rest_charted_then_disconnects(
    strava_site: Site, strava_camera: Camera, fake_strava: FakeStrava
) -> None:
    strava_runs(fake_strava, [3, 10, 20])
    strava_runs(fake_strava, [5], private=True)
    with strava_site.context() as context:
        page = context.new_page()
        sign_up(page, "strava@example.com")
        onboard(page)
        page.goto("/connections")
        expect_state(page, "strava", "Not connected")
        strava_camera.both(page, "connections-strava-not-connected")

        card(page, "strava").get_by_role("button", name="Connect Strava").click()
        expect(page.get_by_role("heading", name="Authorize runstrength")).to_be_visible()
        assert page.url.startswith(fake_strava.url + "/oauth/authorize"), page.url
        page.get_by_label(PRIVATE_SCOPE).uncheck()
        page.get_by_role("button", name="Authorize").click()
        page.wait_for_load_state()

        assert path_of(page) == "/connections"
        status = page.get_by_role("status")
        expect(status).to_contain_text("Strava is connected")
        expect(status).to_contain_text("private ones stay out")
        expect_state(page, "strava", "Connected")
        assert fake_strava.scopes_of() is not None
        assert PRIVATE_SCOPE not in (fake_strava.scopes_of() or set())
        strava_camera.both(page, "connections-strava-connected")
        assert charted_runs(page) == 3

        page.goto("/connections")
        card(page, "strava").get_by_role("button", name="Disconnect Strava").click()
        page.wait_for_load_state()
        expect(page.get_by_role("status")).to_contain_text(
            "3 activities that came only from Strava were deleted"
        )
        expect_state(page, "strava", "Not connected")
        assert fake_strava.scopes_of() is None
        strava_camera.both(page, "connections-strava-disconnected")
        assert charted_runs(page) == 0


def test_a_runner_connects_intervals_with_its_key_sees_runs_and_plans_and_sends_sessions(
    intervals_site: Site, intervals_camera: Camera, fake_intervals: FakeIntervals
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    for days in (2, 9, 16):
        fake_intervals.add_activity(now - timedelta(days=days))
    fake_intervals.add_strava_stub((now - timedelta(days=4)).replace(tzinfo=None))
    with intervals_site.context() as context:
        page = context.new_page()
        sign_up(page, "intervals@example.com")
        onboard(page)
        runner_id = intervals_site.runner_id("intervals@example.com")
        assert runner_id is not None
        hard_day = easy_day_ahead(page)
        fake_intervals.add_event(hard_day, "6x800m intervals", start=None, moving_time=3600)

        page.goto("/connections")
        expect_state(page, "intervals_icu", "Not connected")
        intervals_camera.both(page, "connections-intervals-not-connected")
        row = card(page, "intervals_icu")
        row.get_by_label("API key").fill("not-the-key")
        row.get_by_role("button", name="Connect intervals.icu").click()
        page.wait_for_load_state()
        expect(page.get_by_role("status")).to_contain_text("intervals.icu was not connected")
        expect_state(page, "intervals_icu", "Not connected")
        with runtime(intervals_site.app).db.session() as db:
            assert intervals_connection(db, runner_id) is None
        intervals_camera.both(page, "connections-intervals-wrong-key")

        row.get_by_label("API key").fill(fake_intervals.api_key)
        row.get_by_role("button", name="Connect intervals.icu").click()
        page.wait_for_load_state()
        status = page.get_by_role("status")
        expect(status).to_contain_text("intervals.icu is connected")
        expect(status).to_contain_text("3 new activities")
        expect(status).to_contain_text("1 activity came from Strava and was skipped")
        expect_state(page, "intervals_icu", "Connected")
        expect(row.locator(".warning")).to_contain_text("1 of your activities reached intervals")
        intervals_camera.both(page, "connections-intervals-connected")

        assert charted_runs(page) == 3
        assert day_run(page, hard_day).startswith("Hard run")

        page.goto("/connections")
        row.get_by_role("button", name="Send my sessions to the intervals.icu calendar").click()
        page.wait_for_load_state()
        sent = {e["external_id"] for e in fake_intervals.events(by_app=True)}
        expect(page.get_by_role("status")).to_contain_text(
            f"{len(sent)} sessions sent to your intervals.icu calendar"
        )
        assert sent == feed_events(page, feed_address(page)).keys()
        page.goto("/connections")
        expect(
            row.get_by_role("button", name="Stop sending sessions to intervals.icu")
        ).to_be_visible()
        intervals_camera.both(page, "connections-intervals-sending")

        row.get_by_label("Also remove the sessions we sent").check()
        row.get_by_role("button", name="Disconnect intervals.icu").click()
        page.wait_for_load_state()
        expect(page.get_by_role("status")).to_contain_text("the sessions we sent were removed")
        expect_state(page, "intervals_icu", "Not connected")
        assert fake_intervals.events(by_app=True) == []
        assert len(fake_intervals.events(by_app=False)) == 1
        intervals_camera.both(page, "connections-intervals-disconnected")


def test_a_runner_who_keeps_every_strava_scope_sees_private_runs_charted_too(
    strava_site: Site, fake_strava: FakeStrava
) -> None:
    strava_runs(fake_strava, [3])
    strava_runs(fake_strava, [5], private=True)
    with strava_site.context() as context:
        page = context.new_page()
        sign_up(page, "every-scope@example.com")
        onboard(page)
        page.goto("/connections")
        card(page, "strava").get_by_role("button", name="Connect Strava").click()
        expect(page.get_by_label(PRIVATE_SCOPE)).to_be_checked()
        page.get_by_role("button", name="Authorize").click()
        page.wait_for_load_state()

        status = page.get_by_role("status")
        expect(status).to_contain_text("Strava is connected")
        expect(status).not_to_contain_text("private")
        assert PRIVATE_SCOPE in (fake_strava.scopes_of() or set())
        assert charted_runs(page) == 2
