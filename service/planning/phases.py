"""Phases around a race (TRAINING.md section 4) and the day-level limits they put on sessions.

Base/build more than 4 weeks out, peak 4 to 2 weeks out, taper the last 14 days, the race week,
and 5 days of recovery after any race (a planned one or one found in the history).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from enum import StrEnum

from service.planning.model import SessionKind

PEAK_DAYS = 28  # peak: fewer than 28 and at least 14 days before the race
TAPER_DAYS = 14
NO_HEAVY_DAYS = 10  # the last 10 days: no heavy upper body, light core only
STRENGTH_FREE_DAYS = 2  # no strength in the 2 days before a race (rule 1)
RECOVERY_DAYS = 5
LIGHT_CROSS_FROM = 3  # light cross-training allowed from the 3rd day after a race
RACE_WEEK_EARLY_DAYS = 3  # race week: its one light session goes in the week's first 3 days

RULE_RACE = "rule-1-race"
RULE_TAPER = "taper"
RULE_RECOVERY = "recovery"


class Phase(StrEnum):
    BASE = "base"
    PEAK = "peak"
    TAPER = "taper"
    RACE = "race"
    RECOVERY = "recovery"


STRENGTH = frozenset({SessionKind.UPPER_BODY, SessionKind.CORE})


def week_phase(week_start: date, next_race: date | None, races: Sequence[date]) -> Phase:
    """The phase of the week starting at ``week_start``; the race week wins over recovery."""
    days = [week_start + timedelta(days=i) for i in range(7)]
    if any(d in races or d == next_race for d in days):
        return Phase.RACE
    if any(1 <= (d - r).days <= RECOVERY_DAYS for d in days for r in races):
        return Phase.RECOVERY
    if next_race is None:
        return Phase.BASE
    to_race = [(next_race - d).days for d in days]
    if any(1 <= n < TAPER_DAYS for n in to_race):
        return Phase.TAPER
    if any(TAPER_DAYS <= n < PEAK_DAYS for n in to_race):
        return Phase.PEAK
    return Phase.BASE


def day_block(
    day: date, kind: SessionKind, light: bool, races: Sequence[date], week_start: date
) -> str | None:
    """The race rule that keeps a session of ``kind`` off ``day``, or None when it may go there."""
    for race in races:
        rule = _before_race(day, kind, light, race, week_start) or _after_race(
            day, kind, light, race
        )
        if rule is not None:
            return rule
    return None


def _before_race(
    day: date, kind: SessionKind, light: bool, race: date, week_start: date
) -> str | None:
    before = (race - day).days
    if before == 0 or (kind in STRENGTH and 1 <= before <= STRENGTH_FREE_DAYS):
        return RULE_RACE
    if kind in STRENGTH and not light and 1 <= before <= NO_HEAVY_DAYS:
        return RULE_TAPER
    race_week = 0 <= (race - week_start).days < 7
    if race_week and before > 0 and (day - week_start).days >= RACE_WEEK_EARLY_DAYS:
        return RULE_TAPER
    return None


def _after_race(day: date, kind: SessionKind, light: bool, race: date) -> str | None:
    after = (day - race).days
    if not 1 <= after <= RECOVERY_DAYS:
        return None
    if kind in STRENGTH:
        return RULE_RECOVERY
    light_enough = light and after >= LIGHT_CROSS_FROM
    return None if light_enough else RULE_RECOVERY
