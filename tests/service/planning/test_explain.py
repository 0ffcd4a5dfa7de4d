"""The why of each session names the run facts that decided its slot."""

from __future__ import annotations

from datetime import time

from service.planning.explain import skip_reason
from service.planning.model import TimeOfDay
from tests.service.planning.builders import (
    CORE,
    CROSS,
    SAT,
    TUE,
    TYPICAL_50K,
    UB,
    history,
    of_kind,
    plan,
    prefs,
    windows,
)


def test_upper_body_on_the_interval_day_says_how_long_after_the_run() -> None:
    w = plan(history=history(TYPICAL_50K)).weeks[0]
    tuesday = next(s for s in of_kind(w, UB) if s.start.weekday() == TUE)
    assert tuesday.why.startswith(
        "Tuesday is your hard-run day: upper body goes 10 h after the run"
    )
    assert "keep hard days hard" in tuesday.why


def test_the_why_names_the_long_run_that_ruled_out_the_day_before() -> None:
    free = {SAT: "06:00-21:00", TUE: "06:00-21:00", 3: "06:00-21:00"}
    w = plan(history=history(TYPICAL_50K), prefs=prefs(availability=windows(free))).weeks[0]
    assert any("not Saturday: Sunday is your long run" in s.why for s in of_kind(w, UB))


def test_cross_training_why_says_the_day_has_no_run() -> None:
    w = plan(history=history(TYPICAL_50K)).weeks[0]
    assert all("has no run" in s.why for s in of_kind(w, CROSS))


def test_core_why_says_it_shares_the_day() -> None:
    w = plan(history=history(TYPICAL_50K)).weeks[0]
    assert any("shares" in s.why for s in of_kind(w, CORE))


def test_a_deload_week_says_one_set_fewer() -> None:
    p = plan(history=history(TYPICAL_50K), weeks=4)
    deload = next(w for w in p.weeks if w.deload)
    assert all("One set fewer per exercise (deload week)." in s.why for s in of_kind(deload, UB))


def test_every_why_is_a_short_plain_sentence() -> None:
    p = plan(
        history=history(TYPICAL_50K),
        prefs=prefs(preferred_time=TimeOfDay.MORNING, run_times={TUE: time(6, 0)}),
        weeks=4,
    )
    for w in p.weeks:
        for s in w.sessions:
            assert s.why[0].isupper()
            assert s.why.endswith(".")
            assert len(s.why) < 260


def test_skip_reasons_name_the_rule_in_plain_words() -> None:
    assert skip_reason(UB, "rule-2-day-before-long-run") == (
        "No upper body session this week: the days left are the day before your long run."
    )
