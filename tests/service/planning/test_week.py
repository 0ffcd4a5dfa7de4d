"""What a week holds (section 2) and the phases around a race (section 4)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from service.planning.catalog import Size
from service.planning.model import Race, SessionKind
from service.planning.phases import Phase, week_phase
from service.planning.week import band, is_deload, load_state, plan_week
from tests.service.planning.builders import (
    CORE,
    CROSS,
    NEXT_MONDAY,
    SUN,
    TUE,
    TYPICAL_50K,
    UB,
    easy,
    history,
    long,
    of_kind,
    plan,
    prefs,
)


def _counts(spec_demands: object) -> dict[SessionKind, int]:
    out = {UB: 0, CORE: 0, CROSS: 0}
    for d in spec_demands:  # type: ignore[attr-defined]
        out[d.kind] += 1
    return out


@pytest.mark.parametrize(
    ("avg_km", "expected"),
    [
        (20.0, {UB: (3, Size.FULL), CORE: (2, Size.FULL), CROSS: (1, Size.FULL)}),
        (45.0, {UB: (2, Size.FULL), CORE: (2, Size.FULL), CROSS: (1, Size.FULL)}),
        (80.0, {UB: (2, Size.SHORTER), CORE: (3, Size.SHORT), CROSS: (0, Size.FULL)}),
    ],
)
def test_the_mileage_band_sets_the_weeks_sessions(avg_km: float, expected: object) -> None:
    assert band(avg_km) == expected


@pytest.mark.parametrize("wanted", [2, 3])
def test_the_runners_upper_body_choice_overrides_the_band(wanted: int) -> None:
    spec = plan_week(80.0, 1.0, Phase.BASE, deload=False, upper_body_per_week=wanted)
    assert _counts(spec.demands)[UB] == wanted


def test_high_load_drops_upper_body_to_two_with_a_set_fewer_and_rests_instead_of_cross() -> None:
    spec = plan_week(20.0, 1.5, Phase.BASE, deload=False, upper_body_per_week=None)
    assert _counts(spec.demands) == {UB: 2, CORE: 2, CROSS: 0}
    assert spec.set_drop == 1
    assert sorted((c.kind.value, c.rule) for c in spec.cuts) == [
        ("cross_training", "high-load"),
        ("upper_body", "high-load"),
    ]


def test_high_load_from_a_sudden_big_week_shows_in_the_plan() -> None:
    runs = history(TYPICAL_50K, weeks=5, scale=0.5) + history(TYPICAL_50K, weeks=1, scale=2.0)
    w = plan(history=runs).weeks[0]
    assert w.load_ratio is not None
    assert w.load_ratio > 1.3
    assert len(of_kind(w, UB)) == 2
    assert of_kind(w, CROSS) == []
    assert any(s.rule == "high-load" and s.kind is CROSS for s in w.skipped)
    assert all(e.sets == 2 for s in of_kind(w, UB) for e in s.exercises if e.reps == "8-12")


def test_low_load_adds_cross_training() -> None:
    # Back from a two-week break: nothing in the last 14 days.
    runs = tuple(r for r in history(TYPICAL_50K) if r.local_date < date(2026, 11, 11))
    w = plan(history=runs).weeks[0]
    assert w.load_ratio == 0.0
    assert len(of_kind(w, CROSS)) == 2
    assert load_state(0.79) == "low"
    assert load_state(0.8) == "normal"
    assert load_state(None) == "normal"


def test_deload_every_fourth_week_drops_a_set() -> None:
    p = plan(history=history(TYPICAL_50K), weeks=4)
    flags = [w.deload for w in p.weeks]
    assert flags.count(True) == 1
    deload = p.weeks[flags.index(True)]
    normal = p.weeks[flags.index(True) - 1] if flags.index(True) else p.weeks[1]
    sets = {
        w.week_start: [e.sets for s in of_kind(w, UB) for e in s.exercises]
        for w in (deload, normal)
    }
    assert [s - 1 for s in sets[normal.week_start]] == sets[deload.week_start]


def test_deload_weeks_are_anchored_so_rebuilds_agree() -> None:
    starts = [NEXT_MONDAY + timedelta(weeks=i) for i in range(12)]
    from_start = [w.deload for w in plan(weeks=12).weeks]
    from_later = [w.deload for w in plan(start=starts[3], weeks=9).weeks]
    assert from_start[3:] == from_later
    assert [is_deload(d, None) for d in starts] == from_start


def test_with_a_race_deload_counts_back_from_the_race_week() -> None:
    race = NEXT_MONDAY + timedelta(weeks=10, days=SUN)
    flags = [is_deload(NEXT_MONDAY + timedelta(weeks=i), race) for i in range(11)]
    assert [i for i, f in enumerate(flags) if f] == [2, 6]  # 8 and 4 weeks before race week


RACE = NEXT_MONDAY + timedelta(weeks=6, days=SUN)


@pytest.mark.parametrize(
    ("weeks_before", "phase"),
    [
        (6, Phase.BASE),
        (4, Phase.BASE),
        (3, Phase.PEAK),
        (2, Phase.PEAK),
        (1, Phase.TAPER),
        (0, Phase.RACE),
        (-1, Phase.RECOVERY),
        (-2, Phase.BASE),
    ],
)
def test_weeks_get_their_phase_from_the_race(weeks_before: int, phase: Phase) -> None:
    start = RACE - timedelta(days=SUN) - timedelta(weeks=weeks_before)
    assert week_phase(start, RACE, (RACE,)) is phase


def _race_plan(weeks: int = 8) -> list:  # type: ignore[type-arg]
    p = prefs(race=Race(RACE, 42.195))
    return list(plan(history=history(TYPICAL_50K), prefs=p, weeks=weeks).weeks)


def test_peak_caps_upper_body_at_two_with_a_set_fewer() -> None:
    p = prefs(race=Race(RACE, 42.195), upper_body_per_week=3)
    weeks = plan(history=history(TYPICAL_50K), prefs=p, weeks=6).weeks
    base, peak = weeks[0], weeks[4]
    assert (base.phase, peak.phase) == ("base", "peak")
    assert len(of_kind(base, UB)) == 3
    assert len(of_kind(peak, UB)) == 2
    assert any(s.rule == "peak" for s in peak.skipped)
    assert max(e.sets for s in of_kind(peak, UB) for e in s.exercises) == 2


def test_taper_has_no_heavy_upper_body_and_light_core_only() -> None:
    taper = _race_plan()[5]
    assert taper.phase == "taper"
    assert all(s.variant.endswith("light") for s in taper.sessions)
    assert all(s.duration_min <= 30 for s in taper.sessions)


def test_race_week_holds_at_most_one_light_session_early_in_the_week() -> None:
    race_week = _race_plan()[6]
    assert race_week.phase == "race"
    assert len(race_week.sessions) == 1
    only = race_week.sessions[0]
    assert only.variant.endswith("light")
    assert only.start.weekday() <= 2
    assert {s.rule for s in race_week.skipped} == {"taper"}


def test_recovery_has_no_strength_for_five_days_and_light_cross_from_day_three() -> None:
    recovery = _race_plan()[7]
    assert recovery.phase == "recovery"
    for s in recovery.sessions:
        after = (s.start.date() - RACE).days
        if s.kind is CROSS:
            assert after >= 3
            assert s.variant.endswith("light")
        else:
            assert after > 5
    assert any(s.rule == "recovery" for s in recovery.skipped)


def test_a_race_in_the_history_starts_recovery() -> None:
    runs = history({TUE: easy(), SUN: long()})
    raced = tuple(
        r
        if r.local_date != date(2026, 11, 22)
        else r.__class__(r.local_date, 21_100.0, 6000.0, r.start_local, is_race=True)
        for r in runs
    )
    w = plan(history=raced, start=date(2026, 11, 23), today=date(2026, 11, 22)).weeks[0]
    assert w.phase == "recovery"
    assert all((s.start.date() - date(2026, 11, 22)).days > 5 for s in of_kind(w, UB))
