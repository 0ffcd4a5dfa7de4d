"""Steps of the runner's journey that several tests share: onboarding, importing, the feed."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar
from playwright.sync_api import Page, expect

from tests.browser.browsing import ROOT, ZONE, Camera, path_of

SAMPLE = ROOT / "tests" / "data" / "sample"
ACTIVITIES = SAMPLE / "activities"
RUN_FIT = ROOT / "tests" / "data" / "fit" / "run.fit"


def sample_files() -> list[Path]:
    """Twelve weeks of runs as a watch leaves them: loose GPX/TCX files and the last week zipped."""
    return sorted(p for p in ACTIVITIES.iterdir() if p.is_file())


def _weeks() -> list[dict[str, Any]]:
    weeks: list[dict[str, Any]] = json.loads((SAMPLE / "expected.json").read_text())["weeks"]
    return weeks


def expected_weeks() -> dict[str, float]:
    """Week start -> kilometres run, as the sample's generator recorded them."""
    return {w["week_start"]: float(w["run_km"]) for w in _weeks()}


def expected_counts() -> tuple[int, int]:
    """How many runs and other activities the sample holds."""
    weeks = _weeks()
    return sum(w["runs"] for w in weeks), sum(len(w["other"]) for w in weeks)


def onboard(page: Page) -> None:
    """Fill the onboarding form as a Berlin runner who trains in the evening, and save it."""
    if path_of(page) != "/onboarding":
        page.goto("/onboarding")
    expect(page.get_by_role("heading", name="Tell us about your week")).to_be_visible()
    page.get_by_label("Time zone").fill(ZONE)
    page.get_by_label("Kilometres").check()
    page.get_by_label("Dumbbells").check()
    page.get_by_label("Resistance bands").check()
    windows = page.get_by_role("group", name="Time windows per day")
    for day in ("Monday", "Wednesday", "Thursday", "Friday"):
        windows.get_by_label(day).fill("18:00-21:00")
    windows.get_by_label("Tuesday").fill("06:30-08:00, 18:00-21:30")
    windows.get_by_label("Saturday").fill("08:00-12:00")
    windows.get_by_label("Sunday").fill("15:00-18:00")
    page.get_by_label("Evening").check()
    page.get_by_label("Long-run day").select_option("sunday")
    race_day = date.today() + timedelta(days=120)  # always ahead, whenever the suite runs
    page.get_by_label("Next race: date").fill(race_day.isoformat())
    page.get_by_label("Next race: distance in km").fill("42.195")
    page.get_by_role("button", name="Save and see my week").click()
    page.wait_for_load_state()


def upload(page: Page, files: list[Path]) -> None:
    """Choose files on the import page and send them; waits for the results."""
    page.goto("/import")
    page.get_by_label("Activity files").set_input_files(files)
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", name="Results")).to_be_visible(timeout=30_000)


def feed_address(page: Page) -> str:
    """The https feed address the subscribe page shows."""
    page.goto("/subscribe")
    url = page.get_by_label("Feed address, for apps that ask for a URL").input_value()
    assert url.endswith(".ics"), url
    return url


def feed_events(page: Page, url: str) -> dict[str, Any]:
    """UID -> VEVENT of the feed at ``url``, fetched with the browser's own request client."""
    response = page.request.get(url)
    assert response.status == 200
    calendar = Calendar.from_ical(response.body())
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def local_start(event: Any) -> str:
    """The event's start on the runner's clock, as the move page writes it."""
    start: datetime = event.decoded("DTSTART")
    return start.astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%dT%H:%M")


def next_week_session(page: Page) -> str:
    """Open the first session of next week from the dashboard; its uid."""
    page.goto("/")
    week = page.get_by_role("region", name="Next week")
    first = week.locator("article.session").first
    uid = (first.get_attribute("id") or "").removeprefix("session-")
    first.get_by_role("link").click()
    page.wait_for_load_state()
    assert path_of(page) == f"/sessions/{uid}"
    return uid


def move_elsewhere(page: Page, current: str, camera: Camera | None = None) -> str:
    """From a session page: pick the last offered slot that is not ``current``, check, confirm."""
    page.get_by_role("link", name="Move to another time").click()
    slots = page.get_by_role("radio")
    values: list[str] = slots.evaluate_all("els => els.map(e => e.value)")
    target = next(v for v in reversed(values) if v != current)
    page.locator(f'input[name="to"][value="{target}"]').check()
    if camera:
        camera.both(page, "session-move")
    page.get_by_role("button", name="Check this time").first.click()
    expect(page.get_by_role("heading", name="Move it to")).to_be_visible()
    if camera:
        camera.check(page, "session-move-preview")
    page.get_by_role("button", name="Move it here").click()
    page.wait_for_load_state()
    expect(page.get_by_role("status")).to_contain_text("Moved to")
    return target
