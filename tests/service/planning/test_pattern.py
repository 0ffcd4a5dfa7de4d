from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from service.planning.model import PastRun, PlannedRun, Race, RunKind
from service.planning.pattern import infer_pattern, week_runs
from tests.service.planning.builders import (
    FRI,
    MON,
    NEXT_MONDAY,
    SAT,
    SUN,
    THIS_MONDAY,
    THU,
    TODAY,
    TUE,
    TYPICAL_50K,
    WED,
    R,
    easy,
    fast,
    history,
    local_at,
    long,
    prefs,
    week,
)


def test_a_weekday_run_on_half_of_the_six_weeks_is_a_usual_run_day() -> None:
    runs = history({TUE: easy(), SUN: long()}, weeks=6)
    # Fridays on only 3 of the 6 weeks (every other week), Mondays on 2.
    runs += tuple(r for r in history({FRI: easy()}, weeks=6) if r.local_date.day % 2 == 0)
    pattern = infer_pattern(runs, TODAY, prefs())
    assert {TUE, SUN} <= pattern.run_days
    fridays = {r.local_date for r in runs if r.local_date.weekday() == FRI}
    assert (FRI in pattern.run_days) == (len(fridays) >= 3)


def test_runs_older_than_six_weeks_do_not_shape_the_pattern() -> None:
    old = history({MON: easy()}, weeks=12, today=TODAY - timedelta(weeks=7))
    pattern = infer_pattern(old + history({TUE: easy()}), TODAY, prefs())
    assert pattern.run_days == frozenset({TUE})


def test_the_long_run_day_most_often_holds_the_longest_run() -> None:
    runs = history({TUE: easy(8), SAT: long(22), SUN: easy(10)})
    assert infer_pattern(runs, TODAY, prefs()).long_run_day == SAT


def test_workouts_on_two_weeks_make_a_hard_day() -> None:
    runs = history({THU: R(8, 6.0, "07:00", workout=True), SUN: long()}, weeks=3)
    assert infer_pattern(runs, TODAY, prefs()).hard_days == frozenset({THU})


def test_a_clearly_faster_pace_makes_a_hard_day_only_when_it_recurs() -> None:
    recurring = history(TYPICAL_50K)
    assert infer_pattern(recurring, TODAY, prefs()).hard_days == frozenset({TUE})
    # One fast Thursday in six weeks: a one-off, not a hard day.
    once = (
        *history({TUE: easy(), WED: easy(), SAT: easy(), SUN: long()}),
        history({THU: fast()}, weeks=1)[0],
    )
    assert infer_pattern(once, TODAY, prefs()).hard_days == frozenset()


def test_a_pace_only_slightly_faster_than_usual_is_not_hard() -> None:
    runs = history({TUE: R(8, 5.7), WED: easy(), SAT: easy(), SUN: long()})
    assert infer_pattern(runs, TODAY, prefs()).hard_days == frozenset()


def test_the_usual_start_time_is_the_median_per_weekday() -> None:
    runs = history({TUE: easy(at="06:30"), SUN: long(at="08:15")})
    pattern = infer_pattern(runs, TODAY, prefs())
    assert pattern.run_times == {TUE: 6 * 60 + 30, SUN: 8 * 60 + 15}


@pytest.mark.parametrize(
    ("override", "field", "expected"),
    [
        ({"long_run_day": SAT}, "long_run_day", SAT),
        ({"hard_days": frozenset({THU})}, "hard_days", frozenset({THU})),
        ({"run_days": frozenset({MON, WED})}, "run_days", frozenset({MON, WED})),
        (
            {"run_times": {TUE: time(19, 0)}},
            "run_times",
            {TUE: 19 * 60, WED: 420, THU: 420, SAT: 420, SUN: 540},
        ),
    ],
)
def test_preferences_override_every_inference(
    override: dict[str, object], field: str, expected: object
) -> None:
    pattern = infer_pattern(history(TYPICAL_50K), TODAY, prefs(**override))
    assert getattr(pattern, field) == expected


def test_upcoming_runs_follow_the_pattern_with_typical_distances() -> None:
    p = prefs()
    days = week_runs(infer_pattern(history(TYPICAL_50K), TODAY, p), p, (), NEXT_MONDAY)
    assert [d.kind for d in days] == [
        RunKind.NONE,
        RunKind.HARD,
        RunKind.EASY,
        RunKind.EASY,
        RunKind.NONE,
        RunKind.EASY,
        RunKind.LONG,
    ]
    assert [d.planned_km for d in days] == [0.0, 10.0, 8.0, 8.0, 0.0, 6.0, 18.0]


def test_planned_runs_win_over_the_pattern_in_their_week() -> None:
    p = prefs()
    pattern = infer_pattern(history(TYPICAL_50K), TODAY, p)
    friday = NEXT_MONDAY + timedelta(days=FRI)
    planned = (PlannedRun(friday, RunKind.HARD, 12_000.0, datetime.combine(friday, time(17, 0))),)
    days = week_runs(pattern, p, planned, NEXT_MONDAY)
    assert [d.kind for d in days].count(RunKind.NONE) == 6
    assert days[FRI].kind is RunKind.HARD
    assert days[FRI].planned_km == 12.0
    assert days[FRI].slots[0].known
    # The week after has no planned runs: back to the pattern.
    later = week_runs(pattern, p, planned, NEXT_MONDAY + timedelta(weeks=1))
    assert later[SUN].kind is RunKind.LONG


def test_stated_run_days_are_used_when_there_is_no_history() -> None:
    p = prefs(run_days=frozenset({MON, THU}), long_run_day=SAT)
    days = week_runs(infer_pattern((), TODAY, p), p, (), NEXT_MONDAY)
    assert [d.kind for d in days] == [
        RunKind.EASY,
        RunKind.NONE,
        RunKind.NONE,
        RunKind.EASY,
        RunKind.NONE,
        RunKind.LONG,
        RunKind.NONE,
    ]
    assert not days[MON].slots[0].known


def test_the_race_day_is_a_race() -> None:
    race_day = NEXT_MONDAY + timedelta(days=SUN)
    p = prefs(race=Race(race_day, 21.1))
    days = week_runs(infer_pattern(history(TYPICAL_50K), TODAY, p), p, (), NEXT_MONDAY)
    assert days[SUN].kind is RunKind.RACE
    assert days[SUN].planned_km == 21.1


def test_with_no_runs_at_all_the_week_is_empty() -> None:
    p = prefs()
    days = week_runs(infer_pattern((), date(2026, 1, 1), p), p, (), NEXT_MONDAY)
    assert all(d.kind is RunKind.NONE for d in days)


def test_the_days_already_past_show_the_runs_actually_done() -> None:
    # The usual week has intervals on Tuesday; this week the runner skipped Tuesday and ran an
    # extra 12 km on Monday instead. Planning this week on Wednesday shows what happened.
    usual = history(TYPICAL_50K)
    this_week = [r for r in usual if r.local_date < THIS_MONDAY]
    monday = PastRun(THIS_MONDAY, 12_000.0, 4300.0, local_at(THIS_MONDAY, "18:00"))
    w = week(history=(*this_week, monday), start=THIS_MONDAY)
    runs = {d.day.weekday(): d for d in w.days}
    assert (runs[MON].run, runs[MON].planned_km) == (RunKind.EASY, 12.0)
    assert (runs[TUE].run, runs[TUE].planned_km) == (RunKind.NONE, 0.0)
    assert runs[SUN].run is RunKind.LONG  # still to come: from the pattern
    run_start = local_at(THIS_MONDAY, "18:00")
    run_end = run_start + timedelta(seconds=4300)
    assert all(s.end <= run_start or s.start >= run_end for s in w.sessions)
