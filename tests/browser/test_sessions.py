"""A session in a real browser: open it, move it, skip and restore it, and watch the feed follow."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.browsing import Camera, Site, path_of, sign_up
from tests.browser.flows import (
    feed_address,
    feed_events,
    local_start,
    move_elsewhere,
    next_week_session,
    onboard,
)


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_moving_a_session_keeps_its_feed_uid_and_raises_its_sequence(
    site: Site, camera: Camera, js: bool
) -> None:
    with site.context(js=js) as context:
        page = context.new_page()
        sign_up(page, "mover@example.com")
        onboard(page)
        feed = feed_address(page)
        uid = next_week_session(page)
        before = feed_events(page, feed)[uid]
        expect(page.get_by_role("heading", name="Why here")).to_be_visible()
        if js:
            camera.both(page, "session")

        target = move_elsewhere(page, local_start(before), camera if js else None)
        assert path_of(page).startswith(f"/sessions/{uid}")

        after = feed_events(page, feed)[uid]  # the same UID: calendars update, not duplicate
        assert local_start(after) == target
        assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])

        page.get_by_role("button", name="Skip it").click()
        page.wait_for_load_state()
        expect(page.get_by_role("status")).to_contain_text("Skipped")
        skipped = feed_events(page, feed).get(uid)
        assert skipped is None or str(skipped.get("STATUS")) == "CANCELLED"

        page.get_by_role("button", name="Restore runstrength's choice").click()
        page.wait_for_load_state()
        expect(page.get_by_role("status")).to_contain_text("Back to runstrength's choice")
        restored = feed_events(page, feed)[uid]
        assert restored.decoded("DTSTART") == before.decoded("DTSTART")
        assert int(restored["SEQUENCE"]) > int(after["SEQUENCE"])


def test_another_runner_gets_404_for_a_session_page(site: Site) -> None:
    with site.context() as owner, site.context() as stranger:
        page = owner.new_page()
        sign_up(page, "owner@example.com")
        uid = next_week_session(page)
        other = stranger.new_page()
        sign_up(other, "stranger@example.com")
        response = other.goto(f"/sessions/{uid}")
        assert response is not None
        assert response.status == 404
        expect(other.get_by_role("heading", name="Nothing here")).to_be_visible()
