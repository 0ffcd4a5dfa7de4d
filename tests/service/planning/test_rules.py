"""One test per placement rule (TRAINING.md section 3), each with a week that tempts the planner."""

from __future__ import annotations

from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest

from service.planning.model import PlannedRun, Race, RunKind, TimeOfDay
from service.planning.planner import build_plan
from tests.service.planning.builders import (
    CORE,
    CROSS,
    FRI,
    MON,
    NEXT_MONDAY,
    SAT,
    SUN,
    THU,
    TUE,
    TYPICAL_50K,
    TZ,
    UB,
    WED,
    easy,
    history,
    of_kind,
    plan,
    prefs,
    request,
    weekdays,
    windows,
)
from tests.service.planning.checker import violations

EVERY_DAY = dict.fromkeys(range(7), "06:00-21:00")


def _day(offset: int, weeks: int = 0) -> object:
    return NEXT_MONDAY + timedelta(weeks=weeks, days=offset)


@pytest.mark.parametrize("race_weekday", [MON, WED, SAT, SUN])
def test_nothing_on_race_day(race_weekday: int) -> None:
    race = NEXT_MONDAY + timedelta(weeks=1, days=race_weekday)
    # Only the race day and the two days before it are free: the tempting days.
    free = {(race_weekday - k) % 7: "06:00-21:00" for k in range(3)}
    req = request(
        history=history(TYPICAL_50K),
        prefs=prefs(race=Race(race, 10.0), availability=windows(free)),
        weeks=3,
    )
    p = build_plan(req)
    assert violations(req, p) == []
    assert all(s.start.date() != race for w in p.weeks for s in w.sessions)


def test_no_strength_in_the_two_days_before_a_race() -> None:
    # A platform race on Monday: the weekend before is the runner's only free time.
    race = NEXT_MONDAY + timedelta(weeks=1)
    planned = (
        PlannedRun(NEXT_MONDAY + timedelta(days=TUE), RunKind.EASY, 8000.0),
        PlannedRun(race, RunKind.RACE, 10_000.0),
    )
    req = request(
        history=history(TYPICAL_50K),
        planned=planned,
        prefs=prefs(availability=windows({SAT: "08:00-20:00", SUN: "08:00-20:00"})),
    )
    w = build_plan(req).weeks[0]
    assert violations(req, build_plan(req)) == []
    assert of_kind(w, UB) == []
    assert of_kind(w, CORE) == []
    assert {s.rule for s in w.skipped if s.kind is UB} == {"rule-1-race"}


def test_no_upper_body_the_day_before_the_long_run() -> None:
    # Saturday is wide open, the weekdays are short: Saturday tempts, Sunday is the long run.
    free = {MON: "19:00-20:00", WED: "19:00-20:00", SAT: "06:00-21:00", SUN: "06:00-21:00"}
    req = request(
        history=history(TYPICAL_50K),
        prefs=prefs(availability=windows(free), upper_body_per_week=3),
    )
    w = build_plan(req).weeks[0]
    assert SAT not in weekdays(of_kind(w, UB)) + weekdays(of_kind(w, CROSS))
    assert violations(req, build_plan(req)) == []


def test_no_upper_body_the_day_before_a_long_run_on_the_next_weeks_first_day() -> None:
    p = prefs(
        run_days=frozenset({MON, WED}),
        long_run_day=MON,
        availability=windows({SUN: "06:00-21:00", TUE: "18:00-21:00"}),
    )
    w = plan(prefs=p, weeks=1).weeks[0]
    assert SUN not in weekdays(of_kind(w, UB))


def test_never_upper_body_on_consecutive_days() -> None:
    # Three upper-body sessions wanted, three free days in a row.
    free = {MON: "06:00-21:00", TUE: "06:00-21:00", WED: "06:00-21:00"}
    req = request(prefs=prefs(availability=windows(free), upper_body_per_week=3))
    w = build_plan(req).weeks[0]
    assert weekdays(of_kind(w, UB)) == [MON, WED]
    assert [s.rule for s in w.skipped if s.kind is UB] == ["rule-3-consecutive-upper-body"]


def test_never_upper_body_on_consecutive_days_across_a_week_boundary() -> None:
    free = {SUN: "06:00-21:00", MON: "06:00-21:00", WED: "18:00-21:00"}
    req = request(prefs=prefs(availability=windows(free)), weeks=3)
    p = build_plan(req)
    assert violations(req, p) == []


def test_at_least_one_full_rest_day() -> None:
    # Runs Monday to Saturday; Sunday is the only run-free day and the only wide-open one.
    six_days = {d: easy(8, "06:30") for d in range(6)}
    free = dict.fromkeys(range(6), "19:00-20:00") | {SUN: "06:00-21:00"}
    req = request(history=history(six_days), prefs=prefs(availability=windows(free)))
    w = build_plan(req).weeks[0]
    assert [s for s in w.sessions if s.start.weekday() == SUN] == []
    assert violations(req, build_plan(req)) == []


def test_a_runner_who_runs_every_day_still_gets_sessions() -> None:
    every_day = {d: easy(6, "06:30") for d in range(7)}
    w = plan(history=history(every_day)).weeks[0]
    assert len(of_kind(w, UB)) >= 2


def test_sessions_stay_inside_available_windows() -> None:
    free = {MON: "06:15-07:00", WED: "12:00-12:45", FRI: "20:00-21:00", SAT: "07:00-08:00"}
    req = request(history=history(TYPICAL_50K), prefs=prefs(availability=windows(free)))
    p = build_plan(req)
    assert violations(req, p) == []
    for s in p.weeks[0].sessions:
        assert s.start.weekday() in free


def test_a_session_never_overlaps_a_run() -> None:
    # The runner runs every evening at 18:00, exactly at the preferred session time.
    times = {d: time(18, 0) for d in range(7)}
    p = prefs(
        run_days=frozenset({MON, TUE, THU, SAT, SUN}),
        long_run_day=SUN,
        run_times=times,
        availability=windows(dict.fromkeys(range(7), "17:00-21:00")),
    )
    req = request(prefs=p)
    result = build_plan(req)
    assert violations(req, result) == []
    run_days = {MON, TUE, THU, SAT, SUN}
    for s in result.weeks[0].sessions:
        if s.start.weekday() in run_days:
            assert s.start.time() >= time(19, 0) or s.end.time() <= time(18, 0)


def test_an_unknown_run_time_keeps_sessions_three_hours_away_from_the_assumed_run() -> None:
    p = prefs(
        run_days=frozenset({TUE, THU}),
        preferred_time=TimeOfDay.EVENING,
        availability=windows({TUE: "06:00-21:00", THU: "06:00-21:00"}),
    )
    w = plan(prefs=p).weeks[0]
    for s in w.sessions:
        # Assumed run 18:00-19:00 (the preferred evening); nothing 15:00-22:00.
        assert s.end.time() <= time(15, 0)


def test_upper_body_goes_hours_after_a_hard_run_not_before() -> None:
    # Morning is preferred and the hard run is at noon: the tempting slot is before it.
    p = prefs(
        run_days=frozenset({TUE}),
        hard_days=frozenset({TUE}),
        run_times={TUE: time(12, 0)},
        preferred_time=TimeOfDay.MORNING,
        availability=windows({TUE: "06:00-21:00", FRI: "06:00-07:00"}),
    )
    w = plan(prefs=p).weeks[0]
    tuesday = [s for s in of_kind(w, UB) if s.start.weekday() == TUE]
    assert len(tuesday) == 1
    assert tuesday[0].start.time() >= time(19, 0)  # 6 h after the run ends at 13:00


def test_upper_body_prefers_a_hard_day_or_an_easy_day_to_a_rest_day() -> None:
    w = plan(history=history(TYPICAL_50K)).weeks[0]
    assert TUE in weekdays(of_kind(w, UB))


def test_cross_training_goes_on_a_non_run_day() -> None:
    w = plan(history=history(TYPICAL_50K)).weeks[0]
    run_days = {TUE, WED, THU, SAT, SUN}
    assert of_kind(w, CROSS)
    assert all(s.start.weekday() not in run_days for s in of_kind(w, CROSS))


def test_core_is_short_and_may_share_a_day_with_a_run() -> None:
    w = plan(history=history(TYPICAL_50K)).weeks[0]
    cores = of_kind(w, CORE)
    assert cores
    assert all(s.duration_min <= 20 for s in cores)


def test_sessions_are_spread_through_the_week() -> None:
    w = plan(history=history(TYPICAL_50K)).weeks[0]
    days = [s.start.date() for s in w.sessions]
    assert len(set(days)) >= len(days) - 1


def test_sessions_prefer_the_preferred_time_of_day() -> None:
    morning = plan(prefs=prefs(preferred_time=TimeOfDay.MORNING)).weeks[0]
    assert all(s.start.time() == time(7, 0) for s in morning.sessions)


def test_times_are_correct_across_a_dst_change() -> None:
    # The last Sunday of March 2027 in Berlin: 02:00 jumps to 03:00.
    start = NEXT_MONDAY + timedelta(weeks=17)
    assert start.isoformat() == "2027-03-29"
    p = prefs(availability=windows(dict.fromkeys(range(7), "01:30-04:00")))
    req = request(prefs=p, start=start - timedelta(weeks=1))
    result = build_plan(req)
    assert violations(req, result) == []
    tz = ZoneInfo(TZ)
    for s in result.weeks[0].sessions:
        assert s.start.tzinfo is not None
        assert (s.end.astimezone(tz) - s.start.astimezone(tz)) == s.end - s.start
        elapsed = s.end.timestamp() - s.start.timestamp()
        assert elapsed == s.duration_min * 60
