"""intervals.icu connected through its (fake) consent page in a real browser: calendar access
unticked first, so sessions cannot be sent and the page says why; then every box ticked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from playwright.sync_api import Browser, Page, expect

from tests.browser.browsing import Camera, Site, path_of, sign_up
from tests.browser.conftest import served
from tests.browser.flows import onboard
from tests.browser.platform_flow import card, charted_runs, expect_state
from tests.fakes.intervals import FakeIntervals

SEND = "Send my sessions to the intervals.icu calendar"


@pytest.fixture
def oauth_site(tmp_path: Path, chromium: Browser, fake_intervals: FakeIntervals) -> Iterator[Site]:
    """The app pointed at the fake intervals.icu with an OAuth app registered there."""
    key = Fernet.generate_key().decode("ascii")
    settings = {**fake_intervals.settings_overrides(oauth=True), "encryption_keys": key}
    with served(tmp_path, chromium, settings) as running:
        yield running


def consent(page: Page, fake: FakeIntervals, *, untick: tuple[str, ...] = ()) -> None:
    """From the connections page through the consent page (boxes unticked), back again."""
    card(page, "intervals_icu").get_by_role("link", name="Connect with intervals.icu").click()
    expect(page.get_by_role("heading", name="Allow runstrength to access")).to_be_visible()
    assert page.url.startswith(fake.url + "/oauth/authorize"), page.url
    for scope in untick:
        page.get_by_label(scope).uncheck()
    page.get_by_role("button", name="Approve").click()
    page.wait_for_load_state()
    assert path_of(page) == "/connections"


def test_a_runner_connects_intervals_through_its_consent_page_and_the_scopes_kept_count(
    oauth_site: Site, fake_intervals: FakeIntervals, request: pytest.FixtureRequest
) -> None:
    camera = Camera(oauth_site, request.node.name)
    now = datetime.now(UTC).replace(microsecond=0)
    for days in (2, 9):
        fake_intervals.add_activity(now - timedelta(days=days))
    with oauth_site.context() as context:
        page = context.new_page()
        sign_up(page, "oauth@example.com")
        onboard(page)
        page.goto("/connections")
        row = card(page, "intervals_icu")
        expect(row.get_by_label("API key")).to_be_visible()  # still offered as the alternative
        camera.both(page, "connections-intervals-oauth-offered")

        consent(page, fake_intervals, untick=("CALENDAR:WRITE",))
        status = page.get_by_role("status")
        expect(status).to_contain_text("intervals.icu is connected as Rita Runner")
        expect(status).to_contain_text("2 new activities")
        expect(status).to_contain_text("Calendar access was left unticked")
        expect_state(page, "intervals_icu", "Connected")
        expect(row.get_by_role("button", name=SEND)).to_be_disabled()
        expect(row).to_contain_text("without permission to write to your calendar")
        camera.both(page, "connections-intervals-oauth-no-calendar")
        assert charted_runs(page) == 2

        page.goto("/connections")
        row.get_by_role("button", name="Disconnect intervals.icu").click()
        page.wait_for_load_state()
        expect(page.get_by_role("status")).to_contain_text("its access token deleted")

        consent(page, fake_intervals)
        expect(page.get_by_role("status")).not_to_contain_text("left unticked")
        row.get_by_role("button", name=SEND).click()
        page.wait_for_load_state()
        sent = fake_intervals.events(by_app=True)
        assert sent
        expect(page.get_by_role("status")).to_contain_text(
            f"{len(sent)} sessions sent to your intervals.icu calendar"
        )
