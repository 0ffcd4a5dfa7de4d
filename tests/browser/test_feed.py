"""The subscribe page in a real browser: the feed it links to works, and rotating kills it."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser.browsing import Camera, Site, sign_up
from tests.browser.flows import feed_address


def busy_url(page: Page) -> str:
    return page.get_by_label("Busy-only feed address").input_value()


def test_the_subscribe_page_links_to_a_live_feed_and_passes_axe(site: Site, camera: Camera) -> None:
    with site.context() as context:
        page = context.new_page()
        sign_up(page, "feed@example.com")
        url = feed_address(page)
        assert url.startswith(site.url)
        webcal = page.get_by_role("link", name="Subscribe on this device")
        expect(webcal).to_have_attribute("href", "webcal://" + url.split("://", 1)[1])
        expect(page.locator("svg.qr")).to_be_visible()
        expect(page.get_by_role("button", name="Copy").first).to_be_visible()  # shown by copy.js
        camera.both(page, "subscribe")
        feed = page.request.get(url)
        assert feed.status == 200
        assert feed.headers["content-type"].startswith("text/calendar")
        assert feed.text().startswith("BEGIN:VCALENDAR")
        assert page.request.get(busy_url(page)).status == 200


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_rotating_the_feed_kills_the_old_address_and_serves_the_new_one(
    site: Site, camera: Camera, js: bool
) -> None:
    with site.context(js=js) as context:
        page = context.new_page()
        sign_up(page, "rotate@example.com")
        old, old_busy = feed_address(page), busy_url(page)
        assert page.request.get(old).status == 200
        page.get_by_role("button", name="Give my feed a new address").click()
        page.wait_for_load_state()
        expect(page.get_by_role("status")).to_contain_text("new address")
        new, new_busy = feed_address(page), busy_url(page)
        assert urlsplit(new).path != urlsplit(old).path
        assert page.request.get(old).status == 404
        assert page.request.get(old_busy).status == 404
        assert page.request.get(new).status == 200
        assert page.request.get(new_busy).status == 200
        camera.check(page, "subscribe-rotated", axe=js)
