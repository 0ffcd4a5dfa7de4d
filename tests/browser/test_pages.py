"""Every page of a signed-in runner, light and dark, phone and desktop: axe, width, screenshots."""

from __future__ import annotations

import pytest

from tests.browser.browsing import Camera, Site, sign_up

PAGES = {
    "dashboard": "/",
    "onboarding": "/onboarding",
    "import": "/import",
    "subscribe": "/subscribe",
    "connections": "/connections",
    "settings": "/settings",
    "tokens": "/settings/tokens",
    "password": "/settings/password",
    "not-found": "/no/such/page",
}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_passes_axe_and_fits_a_phone(site: Site, scheme: str) -> None:
    camera = Camera(site, f"pages-{scheme}", scheme)
    with site.context(scheme=scheme) as context:
        page = context.new_page()
        sign_up(page, f"{scheme}@example.com")
        for name, path in PAGES.items():
            response = page.goto(path)
            assert response is not None
            assert response.status == (404 if name == "not-found" else 200), (name, path)
            camera.both(page, name) if name != "not-found" else camera.check(page, name)
