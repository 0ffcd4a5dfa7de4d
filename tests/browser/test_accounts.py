"""Signing up, in and out in a real browser, with and without JavaScript."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.browsing import PASSWORD, Camera, Site, path_of, sign_in, sign_up


def test_the_sign_up_and_sign_in_pages_pass_axe_and_fit_a_phone(site: Site, camera: Camera) -> None:
    with site.context() as context:
        page = context.new_page()
        page.goto("/signup")
        camera.both(page, "signup")
        page.goto("/signin")
        camera.both(page, "signin")


def test_a_new_runner_signs_up_lands_on_onboarding_and_sees_an_empty_week(
    site: Site, camera: Camera
) -> None:
    with site.context() as context:
        page = context.new_page()
        sign_up(page, "new@example.com")
        assert path_of(page) == "/onboarding"
        assert site.runner_id("new@example.com") is not None
        page.goto("/")
        expect(page.get_by_role("heading", name="Your week")).to_be_visible()
        expect(page.get_by_role("heading", name="Getting started")).to_be_visible()
        expect(page.get_by_text("Europe/Berlin")).to_be_visible()  # the zone the browser told
        camera.both(page, "dashboard-empty")


def test_sign_up_errors_show_next_to_their_field(site: Site, camera: Camera) -> None:
    with site.context() as context:
        page = context.new_page()
        page.goto("/signup")
        page.get_by_label("Email").fill("short@example.com")
        page.get_by_label("Password", exact=True).fill("short")
        page.get_by_label("Password again").fill("other")
        page.get_by_role("button", name="Create account").click()
        password = page.get_by_label("Password", exact=True)
        expect(password).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#password-error")).to_contain_text("at least")
        expect(page.locator("#confirm-error")).to_contain_text("differ")
        assert site.runner_id("short@example.com") is None
        camera.check(page, "signup-errors")


def test_a_wrong_password_is_refused_and_the_right_one_signs_in_then_out(site: Site) -> None:
    with site.context() as context:
        page = context.new_page()
        sign_up(page, "back@example.com")
    with site.context() as context:
        page = context.new_page()
        sign_in(page, "back@example.com", "not the password")
        expect(page.get_by_text("do not match an account")).to_be_visible()
        assert path_of(page).startswith("/signin")
        sign_in(page, "back@example.com", PASSWORD)
        assert path_of(page) == "/"
        expect(page.get_by_role("heading", name="Your week")).to_be_visible()
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_load_state()
        assert path_of(page).startswith("/signin")
        page.goto("/")
        assert re.match(r"^/signin", path_of(page)), "the dashboard stayed open after sign-out"
