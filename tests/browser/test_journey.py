"""A runner's whole first visit in a real browser, from sign-up to deleting the account."""

from __future__ import annotations

import re
from datetime import date

from playwright.sync_api import Page, expect

from tests.browser.browsing import SAMPLE_TODAY, Camera, Site, path_of, sign_up
from tests.browser.flows import (
    expected_counts,
    expected_weeks,
    feed_address,
    feed_events,
    local_start,
    move_elsewhere,
    next_week_session,
    onboard,
    sample_files,
    upload,
)


def chart_weeks(page: Page) -> dict[str, float]:
    """Week label -> distance, from the chart's text description (what a screen reader says)."""
    desc = page.locator("svg.chart desc").text_content() or ""
    return {m[1]: float(m[2]) for m in re.finditer(r"week of (\d+ \w+): ([\d.]+) km", desc)}


def test_sign_up_onboard_import_see_the_week_subscribe_rotate_and_delete(
    site: Site, camera: Camera
) -> None:
    email = "journey@example.com"
    with site.context() as context:
        page = context.new_page()
        sign_up(page, email)
        assert path_of(page) == "/onboarding"
        camera.both(page, "onboarding")
        onboard(page)
        assert path_of(page) == "/"
        expect(page.get_by_role("status")).to_contain_text("All set")

        # Twelve weeks of files from a watch, the last week zipped, chosen all at once.
        upload(page, sample_files())
        results = page.locator(".import-results")
        runs, others = expected_counts()
        totals = results.locator(".totals")
        expect(totals).to_contain_text(f"{runs} runs imported, {others} other activities stored")
        expect(totals).to_contain_text("0 rejected")
        expect(results).to_contain_text("watch-export.zip")
        camera.check(page, "import-results")
        page.goto("/import")
        camera.both(page, "import")

        # The chart shows each week's distance as the sample's generator recorded it.
        page.goto(f"/?today={SAMPLE_TODAY}")
        shown = chart_weeks(page)
        for week_start, km in expected_weeks().items():
            label = f"{date.fromisoformat(week_start):%-d %b}"
            assert abs(shown[label] - km) < 0.15, (label, shown.get(label), km)
        expect(page.get_by_text("you ran")).to_be_visible()
        expect(page.get_by_role("heading", name="Getting started")).to_have_count(0)
        # This week and next, day by day, with placed sessions linking to their pages.
        expect(page.get_by_role("heading", name="This week")).to_be_visible()
        expect(page.get_by_role("heading", name="Next week")).to_be_visible()
        sessions = page.locator("article.session")
        assert sessions.count() >= 4
        sunday = page.locator("li.day", has=page.get_by_role("heading", name="Sunday 22 Nov"))
        expect(sunday.locator(".run")).to_have_text("Long run, about 16 km")
        expect(page.get_by_text("Hard run, ran 8 km")).to_be_visible()  # Tuesday's intervals
        camera.both(page, "dashboard")

        # A session of next week, moved: the feed keeps its UID and raises its SEQUENCE.
        feed = feed_address(page)
        uid = next_week_session(page)
        before = feed_events(page, feed)[uid]
        camera.both(page, "session")
        target = move_elsewhere(page, local_start(before), camera)
        moved = feed_events(page, feed)[uid]
        assert local_start(moved) == target
        assert int(moved["SEQUENCE"]) > int(before["SEQUENCE"])

        page.goto("/settings")
        expect(page.get_by_label("Time zone")).to_have_value("Europe/Berlin")
        expect(page.get_by_label("Long-run day")).to_have_value("sunday")
        camera.both(page, "settings")
        page.goto("/connections")
        camera.both(page, "connections")

        # The feed: live, then rotated (old address dead), then dead with the account.
        old = feed_address(page)
        assert old == feed
        page.get_by_role("button", name="Give my feed a new address").click()
        page.wait_for_load_state()
        new = feed_address(page)
        assert new != old
        assert page.request.get(old).status == 404
        feed = page.request.get(new)
        assert feed.status == 200
        assert "BEGIN:VEVENT" in feed.text()

        page.goto("/settings")
        page.get_by_label("Type to confirm").fill("someone-else@example.com")
        page.get_by_role("button", name="Delete everything").click()
        expect(page.locator("#confirm-error")).to_be_visible()
        assert site.runner_id(email) is not None  # a wrong confirmation deletes nothing
        page.get_by_label("Type to confirm").fill(email)
        page.get_by_role("button", name="Delete everything").click()
        page.wait_for_load_state()
        assert path_of(page) == "/signup"
        expect(page.get_by_role("status")).to_contain_text("deleted")
        assert site.runner_id(email) is None
        assert page.request.get(new).status == 404
        page.goto("/")
        assert path_of(page).startswith("/signin")
