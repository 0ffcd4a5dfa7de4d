from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.planning.picture import (
    Run,
    four_week_average_m,
    load_ratio,
    week_start_of,
    weekly_mileage,
)

TODAY = date(2026, 11, 25)  # a Wednesday


def test_weeks_start_on_monday_by_default() -> None:
    assert week_start_of(TODAY, 0) == date(2026, 11, 23)


def test_a_sunday_week_start_moves_the_boundary() -> None:
    assert week_start_of(TODAY, 6) == date(2026, 11, 22)
    assert week_start_of(date(2026, 11, 22), 6) == date(2026, 11, 22)


def test_a_sunday_run_belongs_to_the_week_that_started_on_monday() -> None:
    runs = [Run(date(2026, 11, 22), 20_000.0, 7200.0), Run(date(2026, 11, 23), 5_000.0, 1500.0)]
    weeks = weekly_mileage(runs, today=TODAY, weeks=2)
    assert [w.week_start for w in weeks] == [date(2026, 11, 16), date(2026, 11, 23)]
    assert [w.distance_m for w in weeks] == [20_000.0, 5_000.0]
    assert weeks[0].longest_m == 20_000.0
    assert weeks[0].moving_s == 7200.0


def test_runs_after_today_are_not_counted() -> None:
    weeks = weekly_mileage([Run(date(2026, 11, 27), 10_000.0)], today=TODAY, weeks=1)
    assert weeks[0].runs == 0


def test_four_week_average_uses_the_four_full_weeks_before_this_one() -> None:
    runs = [Run(date(2026, 11, 23) - timedelta(weeks=w), 40_000.0) for w in range(1, 6)]
    runs.append(Run(TODAY, 99_000.0))  # this week: not part of the average
    assert four_week_average_m(runs, today=TODAY) == 40_000.0


def test_load_ratio_is_one_for_an_even_month() -> None:
    runs = [Run(TODAY - timedelta(days=d), 5_000.0) for d in range(28)]
    assert load_ratio(runs, today=TODAY) == pytest.approx(1.0)


def test_load_ratio_after_a_two_week_break_is_zero_and_none_after_a_month() -> None:
    runs = [Run(TODAY - timedelta(days=d), 5_000.0) for d in range(14, 28)]
    assert load_ratio(runs, today=TODAY) == 0.0
    assert load_ratio([Run(TODAY - timedelta(days=40), 5_000.0)], today=TODAY) is None


def test_a_sudden_big_week_gives_a_high_ratio() -> None:
    runs = [Run(TODAY - timedelta(days=d), 10_000.0) for d in range(7)]
    runs += [Run(TODAY - timedelta(days=d), 3_000.0) for d in range(7, 28)]
    assert load_ratio(runs, today=TODAY) == pytest.approx(70_000 / ((70_000 + 63_000) / 4))


runs_strategy = st.lists(
    st.builds(
        Run,
        local_date=st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)),
        distance_m=st.floats(min_value=0, max_value=100_000, allow_nan=False),
        moving_s=st.floats(min_value=0, max_value=30_000, allow_nan=False),
    ),
    max_size=60,
)


@given(runs=runs_strategy, week_start=st.integers(0, 6), weeks=st.integers(1, 60))
def test_weekly_sums_equal_the_sum_of_the_runs_they_cover(
    runs: list[Run], week_start: int, weeks: int
) -> None:
    result = weekly_mileage(runs, today=TODAY, weeks=weeks, week_start=week_start)
    first, last = result[0].week_start, TODAY
    covered = [r for r in runs if first <= r.local_date <= last]
    assert sum(w.distance_m for w in result) == pytest.approx(sum(r.distance_m for r in covered))
    assert sum(w.runs for w in result) == len(covered)
    assert all((w.week_start.weekday() - week_start) % 7 == 0 for w in result)
    assert all(b.week_start - a.week_start == timedelta(weeks=1) for a, b in pairwise(result))
