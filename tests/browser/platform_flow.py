"""Steps of the Strava and intervals.icu journeys: the connections rows and what the dashboard
shows of runs read from a platform."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Locator, Page, expect

from tests.browser.browsing import ZONE, path_of

RUNS_IN_BAR = re.compile(r" in (\d+) runs$")


def card(page: Page, key: str) -> Locator:
    """One row of the connections page, by provider key (``strava``, ``intervals_icu``)."""
    return page.locator(f"#connection-{key}")


def expect_state(page: Page, key: str, words: str) -> None:
    """The row's state badge reads ``words``."""
    expect(card(page, key).locator(".state")).to_have_text(words)


def today() -> date:
    """Today on the runner's clock (the onboarding form sets Berlin)."""
    return datetime.now(ZoneInfo(ZONE)).date()


def charted_runs(page: Page) -> int:
    """How many runs the dashboard's mileage chart counts over its weeks."""
    page.goto("/")
    titles = page.locator("#mileage svg rect.bar title").all_text_contents()
    assert titles, "the dashboard shows no mileage bars"
    counts = [RUNS_IN_BAR.search(t) for t in titles]
    assert all(counts), titles
    return sum(int(m[1]) for m in counts if m)


def day_run(page: Page, day: date) -> str:
    """The run the dashboard shows for ``day`` (this week or next), in words."""
    if path_of(page) != "/":
        page.goto("/")
    heading = page.locator("h3", has_text=re.compile("^" + day.strftime("%A %-d %b")))
    row = page.locator("li.day", has=heading)
    expect(row).to_have_count(1)
    return row.locator("p.run").inner_text()


def easy_day_ahead(page: Page) -> date:
    """The first day after today, this week or next, that the dashboard does not call hard."""
    first = today() + timedelta(days=1)
    for offset in range(10):
        day = first + timedelta(days=offset)
        page.goto("/")
        if page.locator("li.day h3", has_text=day.strftime("%A %-d %b")).count() == 0:
            break
        if not day_run(page, day).startswith("Hard run"):
            return day
    raise AssertionError("every day ahead is already a hard day")
