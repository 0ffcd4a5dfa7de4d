"""Runner overrides (move, skip, lock) and session uids that survive rebuilds."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from service.planning.model import Override, OverrideAction, Race
from service.planning.planner import build_plan, session_uid
from tests.service.planning.builders import (
    CORE,
    NEXT_MONDAY,
    SAT,
    TYPICAL_50K,
    UB,
    WED,
    history,
    local_at,
    of_kind,
    prefs,
    request,
    windows,
)
from tests.service.planning.checker import violations

BASE = request(history=history(TYPICAL_50K))


def test_uids_are_base32hex_event_ids_without_personal_data() -> None:
    uid = session_uid("runner-1", NEXT_MONDAY, UB, 0)
    assert re.fullmatch(r"[0-9a-v]{24}", uid)
    assert "runner" not in uid
    assert uid != session_uid("runner-1", NEXT_MONDAY, UB, 1)
    assert uid != session_uid("runner-2", NEXT_MONDAY, UB, 0)


def test_uids_stay_the_same_when_the_session_moves_to_another_day() -> None:
    before = build_plan(BASE).weeks[0]
    narrow = replace(
        BASE,
        prefs=prefs(
            availability=windows({WED: "06:00-21:00", SAT: "06:00-21:00", 0: "06:00-21:00"})
        ),
    )
    after = build_plan(narrow).weeks[0]
    first_before, first_after = of_kind(before, UB)[0], of_kind(after, UB)[0]
    assert first_before.start.date() != first_after.start.date()
    assert first_before.uid == first_after.uid


def test_rebuilds_are_identical() -> None:
    assert build_plan(BASE) == build_plan(BASE)


def test_skip_removes_the_session_and_says_the_runner_skipped_it() -> None:
    target = of_kind(build_plan(BASE).weeks[0], CORE)[0]
    w = build_plan(replace(BASE, overrides=(Override(target.uid, OverrideAction.SKIP),))).weeks[0]
    assert target.uid not in [s.uid for s in w.sessions]
    assert [(s.uid, s.rule) for s in w.skipped] == [(target.uid, "runner-skipped")]


def test_move_keeps_the_session_where_the_runner_put_it_and_places_others_around_it() -> None:
    original = build_plan(BASE).weeks[0]
    target = of_kind(original, UB)[0]
    at = local_at(NEXT_MONDAY + timedelta(days=WED), "18:30")  # Wednesday: an easy run day
    moved = replace(BASE, overrides=(Override(target.uid, OverrideAction.MOVE, at),))
    req_plan = build_plan(moved)
    w = req_plan.weeks[0]
    mine = next(s for s in w.sessions if s.uid == target.uid)
    assert mine.start == at
    assert mine.duration_min == target.duration_min
    assert mine.override is OverrideAction.MOVE
    assert w.conflicts == ()
    others = [s for s in of_kind(w, UB) if s.uid != target.uid]
    assert all(abs((s.start.date() - at.date()).days) >= 2 for s in others)
    assert violations(moved, req_plan) == []


def test_lock_keeps_the_session_in_place_on_every_rebuild() -> None:
    target = of_kind(build_plan(BASE).weeks[0], UB)[0]
    at = target.start + timedelta(hours=1)
    locked = replace(BASE, overrides=(Override(target.uid, OverrideAction.LOCK, at),))
    first = build_plan(locked)
    later = build_plan(replace(locked, history=history(TYPICAL_50K, scale=1.1)))
    for p in (first, later):
        mine = next(s for s in p.weeks[0].sessions if s.uid == target.uid)
        assert mine.start == at
        assert mine.override is OverrideAction.LOCK


def test_a_move_that_breaks_a_hard_rule_stays_put_and_is_reported_as_a_conflict() -> None:
    target = of_kind(build_plan(BASE).weeks[0], UB)[0]
    saturday = local_at(NEXT_MONDAY + timedelta(days=SAT), "10:00")  # the day before the long run
    moved = replace(BASE, overrides=(Override(target.uid, OverrideAction.MOVE, saturday),))
    w = build_plan(moved).weeks[0]
    mine = next(s for s in w.sessions if s.uid == target.uid)
    assert mine.start == saturday
    assert [(c.uid, c.rule) for c in w.conflicts] == [(target.uid, "rule-2-day-before-long-run")]


def test_a_locked_session_a_race_week_would_drop_stays_and_the_rule_is_reported() -> None:
    race_week = replace(BASE, prefs=prefs(race=Race(NEXT_MONDAY + timedelta(days=6), 10.0)))
    plain = build_plan(race_week).weeks[0]
    dropped = [s for s in plain.skipped if s.kind is UB]
    assert dropped, "a race week drops upper body"
    uid = dropped[0].uid
    assert uid is not None
    at = local_at(NEXT_MONDAY, "18:00")
    locked = replace(race_week, overrides=(Override(uid, OverrideAction.LOCK, at),))
    w = build_plan(locked).weeks[0]
    kept = next(s for s in w.sessions if s.uid == uid)
    assert kept.start == at
    assert kept.override is OverrideAction.LOCK
    assert [c.rule for c in w.conflicts if c.uid == uid] == [dropped[0].rule]
    assert uid not in [s.uid for s in w.skipped]
