"""The runner's page in a real headless Chromium on a phone-sized screen."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.service.web.conftest import TODAY

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = Path("/tmp/runner_page.png")
PHONE = {"width": 390, "height": 844}
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Elements whose right edge lies past the viewport: anything here scrolls the page sideways.
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > width + 0.5)
    .map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className);
  return {scroll: document.documentElement.scrollWidth, width, wide};
}"""


@pytest.fixture
def served(sample_app: Flask) -> Iterator[str]:
    """The app on a loopback port in a thread, for as long as the test runs."""
    if not CHROMIUM.exists() and os.environ.get("CI") != "true":
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    server = make_server("127.0.0.1", 0, sample_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def test_on_a_phone_the_chart_and_sessions_show_and_nothing_scrolls_sideways(served: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True)
            response = page.goto(f"{served}/?today={TODAY}")
            assert response is not None
            assert response.status == 200
            chart = page.locator("svg.chart")
            assert chart.is_visible()
            box = chart.bounding_box()
            assert box is not None
            assert 300 <= box["width"] <= PHONE["width"]
            sessions = page.locator("article.session")
            assert sessions.count() > 0
            assert sessions.first.is_visible()
            assert page.locator("svg.qr").is_visible()
            layout = page.evaluate(OVERFLOWING)
            assert layout["scroll"] <= layout["width"], layout
            assert layout["wide"] == [], layout
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()
    assert SCREENSHOT.stat().st_size > 10_000
