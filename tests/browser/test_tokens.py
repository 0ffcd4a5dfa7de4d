"""Personal API tokens in a real browser: shown once, usable with the API, revocable."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.browsing import Camera, Site, sign_up


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_a_token_made_on_the_page_opens_the_api_until_it_is_revoked(
    site: Site, camera: Camera, js: bool
) -> None:
    with site.context(js=js) as context:
        page = context.new_page()
        sign_up(page, "tokens@example.com")
        page.goto("/settings/tokens")
        page.get_by_role("button", name="Create token").click()
        expect(page.locator("#name-error")).to_be_visible()  # a name is required
        page.get_by_label("Name").fill("spreadsheet")
        page.get_by_role("button", name="Create token").click()
        token = page.get_by_label("Token", exact=True).input_value()
        assert len(token) >= 20
        camera.check(page, "token-created", axe=js)
        # A fresh, cookie-less client: only the bearer token speaks for the runner.
        api = context.browser.new_context(base_url=site.url) if context.browser else None
        assert api is not None
        bearer = {"Authorization": f"Bearer {token}"}
        assert api.request.get("/api/v1/plan", headers=bearer).status == 200
        assert api.request.get("/api/v1/plan").status == 401
        page.goto("/settings/tokens")
        expect(page.get_by_label("Token", exact=True)).to_have_count(0)  # never shown again
        page.get_by_role("button", name="Revoke the token spreadsheet").click()
        page.wait_for_load_state()
        expect(page.get_by_role("status")).to_contain_text("Token revoked")
        assert api.request.get("/api/v1/plan", headers=bearer).status == 401
        api.close()
        if js:
            camera.both(page, "tokens")
