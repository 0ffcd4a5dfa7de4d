"""The plain-form flows with JavaScript off: sign up, onboarding, upload (rotation: test_feed)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.browsing import Camera, Site, path_of, sign_up
from tests.browser.flows import RUN_FIT, onboard, upload


def test_without_javascript_a_runner_signs_up_onboards_and_imports_a_fit_file(
    site: Site, camera: Camera
) -> None:
    with site.context(js=False) as context:
        page = context.new_page()
        sign_up(page, "plain@example.com")
        assert path_of(page) == "/onboarding"
        # Nothing fills the zone in for us here; a bad zone and a bad window come back inline.
        page.get_by_label("Time zone").fill("Mars/Olympus_Mons")
        windows = page.get_by_role("group", name="Time windows per day")
        windows.get_by_label("Monday").fill("25:00-26:00")
        page.get_by_role("button", name="Save and see my week").click()
        page.wait_for_load_state()
        assert path_of(page) == "/onboarding"
        zone = page.get_by_label("Time zone")
        expect(zone).to_have_attribute("aria-invalid", "true")
        expect(
            page.locator(f"#{zone.get_attribute('aria-describedby').split()[0]}")
        ).to_contain_text("Mars/Olympus_Mons")
        expect(windows.get_by_label("Monday")).to_have_attribute("aria-invalid", "true")
        camera.check(page, "onboarding-errors", axe=False)
        page.goto("/")
        start = page.get_by_role("region", name="Getting started")
        expect(start).to_contain_text("Tell us about your week")  # nothing was saved

        onboard(page)
        assert path_of(page) == "/"
        expect(page.get_by_text("Europe/Berlin")).to_be_visible()

        page.goto("/import")
        page.get_by_role("button", name="Import").click()
        page.wait_for_load_state()
        expect(page.locator("#files-error")).to_contain_text("choose at least one")
        upload(page, [RUN_FIT])
        expect(page.locator(".import-results .totals")).to_contain_text("1 run imported")
        expect(page.locator(".import-results")).to_contain_text("run.fit")
        camera.check(page, "import-results", axe=False)
        page.goto("/")
        expect(page.get_by_text("Tell us about your week")).to_have_count(0)  # onboarded now
