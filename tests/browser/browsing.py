"""What the browser tests share: the served site, page checks (axe, phone width) and screenshots."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from sqlalchemy import select

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
OUTPUT = ROOT / "test-output"
IN_CI = os.environ.get("CI") == "true"
PASSWORD = "correct horse battery"
ZONE = "Europe/Berlin"
SAMPLE_TODAY = "2026-11-22"  # the last day of the sample runs in tests/data/sample
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}}
SIZES = {"phone": PHONE, "desktop": DESKTOP}
# Elements whose right edge lies past the viewport: anything here scrolls the page sideways.
OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > width + 0.5)
    .map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className);
  return {scroll: document.documentElement.scrollWidth, width, wide};
}"""
SERIOUS = ("serious", "critical")
AXE_RUN = """async () => {
  const r = await axe.run(document, {resultTypes: ['violations', 'incomplete']});
  return {violations: r.violations, incomplete: r.incomplete};
}"""


@dataclass(frozen=True)
class Site:
    """The app served on a loopback port, and the browser that visits it."""

    url: str
    app: Flask
    browser: Browser
    tmp: Path

    @contextmanager
    def context(
        self, size: str = "phone", js: bool = True, state: Any = None, scheme: str = "light"
    ) -> Iterator[BrowserContext]:
        """A fresh browser profile (cookies from ``state``) at a phone's or a desktop's size."""
        context = self.browser.new_context(
            **SIZES[size],
            base_url=self.url,
            java_script_enabled=js,
            timezone_id=ZONE,
            locale="en-GB",
            bypass_csp=True,  # lets the axe script in; the pages' own policy is not under test
            storage_state=state,
            color_scheme=scheme,  # type: ignore[arg-type]
        )
        try:
            yield context
        finally:
            context.close()

    def runner_id(self, email: str) -> int | None:
        """The runner behind an account, or None once it is gone."""
        from service.app import runtime
        from service.models import Account

        with runtime(self.app).db.session() as db:
            return db.scalars(select(Account.runner_id).where(Account.email == email)).first()


def sign_up(page: Page, email: str, password: str = PASSWORD) -> None:
    """Create an account through the sign-up form, as a person would."""
    page.goto("/signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Password again").fill(password)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_load_state()


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Sign in through the sign-in form."""
    page.goto("/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def path_of(page: Page) -> str:
    """The page's path and query, without the origin."""
    return re.sub(r"^https?://[^/]+", "", page.url)


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core in the page; the serious and critical violations it finds."""
    if not AXE.exists():
        if IN_CI:
            pytest.fail(f"{AXE} is missing: `make test` fetches axe-core from the npm registry")
        pytest.skip(f"axe-core not fetched to {AXE} (`make test` does it, or npm install)")
    if page.evaluate("() => typeof window.axe") != "object":
        page.add_script_tag(path=str(AXE))
    found: dict[str, list[dict[str, Any]]] = page.evaluate(AXE_RUN)
    serious = [v for v in found["violations"] if v.get("impact") in SERIOUS]
    return serious + invisible_text(found["incomplete"])


def invisible_text(incomplete: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Text in the same colour as its background: axe only asks for a review, we count it."""
    out = []
    for item in incomplete:
        if item["id"] != "color-contrast":
            continue
        nodes = [n for n in item["nodes"] if any(_same_colour(c) for c in n.get("any", []))]
        if nodes:
            out.append(item | {"impact": "serious (1:1 contrast)", "nodes": nodes})
    return out


def _same_colour(check: dict[str, Any]) -> bool:
    return (check.get("data") or {}).get("messageKey") == "equalRatio"


def describe(violations: list[dict[str, Any]]) -> str:
    """Violations as lines a person can act on: rule, impact, what, where."""
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} [{v['helpUrl']}]")
        for node in v["nodes"][:5]:
            summary = (node.get("failureSummary") or node["any"][0]["message"]).replace("\n", " ")
            lines.append(f"    at {json.dumps(node['target'])}: {summary}")
    return "\n".join(lines)


def overflow(page: Page) -> dict[str, Any]:
    """How wide the page is against the viewport, and what sticks out."""
    found: dict[str, Any] = page.evaluate(OVERFLOWING)
    return found


class Camera:
    """Checks each page it is shown (axe, no sideways scroll on a phone) and saves screenshots."""

    def __init__(self, site: Site, test: str, scheme: str = "light") -> None:
        self.site = site
        self.scheme = scheme
        self.folder = OUTPUT / "screenshots" / re.sub(r"[^\w.-]+", "_", test)
        OUTPUT.mkdir(exist_ok=True)
        (OUTPUT / ".gitignore").write_text("*\n")
        self.folder.mkdir(parents=True, exist_ok=True)

    def check(self, page: Page, name: str, size: str = "phone", axe: bool = True) -> None:
        """Check the page as it is now and save it as ``name-size.png``; fail on a problem."""
        page.screenshot(path=str(self.folder / f"{name}-{size}.png"), full_page=True)
        if size == "phone":
            layout = overflow(page)
            assert layout["scroll"] <= layout["width"], f"{name} scrolls sideways: {layout}"
        if axe:
            serious = axe_violations(page)
            assert not serious, f"axe on {name} ({path_of(page)}, {size}):\n{describe(serious)}"

    def both(self, page: Page, name: str) -> None:
        """Check the page at phone size, then open the same address on a desktop and check it."""
        self.check(page, name, "phone")
        state = page.context.storage_state()
        with self.site.context("desktop", state=state, scheme=self.scheme) as desktop:
            wide = desktop.new_page()
            response = wide.goto(path_of(page))
            assert response is not None
            assert response.ok, f"{name} on a desktop answered {response.status}"
            self.check(wide, name, "desktop")
