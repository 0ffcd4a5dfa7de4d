"""Session content (section 5): the runner's kit picks the variant; sets and lengths adapt."""

from __future__ import annotations

import pytest

from service.planning.catalog import Size, content, core_exercises, sets_for, upper_body_exercises
from service.planning.model import Equipment, SessionKind
from tests.service.planning.builders import UB, of_kind, plan, prefs

GYM, DB, BANDS, NONE = Equipment.GYM, Equipment.DUMBBELLS, Equipment.BANDS, Equipment.NONE


def _names(kit: set[Equipment], size: Size = Size.FULL) -> list[str]:
    exercises, _ = upper_body_exercises(frozenset(kit), size, 0)
    return [e.name for e in exercises]


@pytest.mark.parametrize(
    ("kit", "label", "names"),
    [
        (
            {GYM},
            "gym",
            [
                "Bench press",
                "Shoulder press",
                "Pull-ups",
                "Rows",
                "Push-ups",
                "Plank",
                "Shoulder shrugs",
                "Lat pulldowns",
            ],
        ),
        (
            {DB},
            "dumbbells",
            ["Dumbbell press", "Overhead press", "Pull-ups", "Dumbbell rows", "Push-ups", "Plank"],
        ),
        (
            {BANDS},
            "bands",
            ["Band presses", "Band-assisted pull-ups", "Band rows", "Push-ups", "Plank"],
        ),
        ({NONE}, "bodyweight", ["Dips", "Pull-ups", "Push-ups", "Plank"]),
        (set(), "bodyweight", ["Dips", "Pull-ups", "Push-ups", "Plank"]),
        (
            {DB, BANDS},
            "dumbbells+bands",
            [
                "Dumbbell press",
                "Overhead press",
                "Band-assisted pull-ups",
                "Dumbbell rows",
                "Push-ups",
                "Plank",
            ],
        ),
        ({GYM, BANDS, NONE}, "gym", None),
    ],
)
def test_the_runners_equipment_picks_the_variant(
    kit: set[Equipment], label: str, names: list[str] | None
) -> None:
    _, got = upper_body_exercises(frozenset(kit), Size.FULL, 0)
    assert got == label
    if names is not None:
        assert _names(kit) == names


def test_the_article_sets_and_reps_are_kept() -> None:
    exercises, _ = upper_body_exercises(frozenset({GYM}), Size.FULL, 0)
    by_name = {e.name: e for e in exercises}
    assert (by_name["Bench press"].sets, by_name["Bench press"].reps) == (3, "8-12")
    assert by_name["Push-ups"].reps == "10-15"
    assert by_name["Plank"].hold_s == "30-60"
    core = {e.name: e for e in core_exercises(Size.FULL, 0)}
    assert [(e.sets, e.reps or e.hold_s) for e in core.values()] == [
        (3, "20-30"),
        (3, "15-20"),
        (3, "20-30"),
        (3, "30-60"),
    ]


@pytest.mark.parametrize(
    ("size", "drop", "sets"),
    [(Size.FULL, 0, 3), (Size.FULL, 1, 2), (Size.FULL, 5, 1), (Size.LIGHT, 1, 1)],
)
def test_sets_drop_but_never_below_one(size: Size, drop: int, sets: int) -> None:
    assert sets_for(size, drop) == sets


def test_shorter_and_light_sessions_hold_fewer_exercises() -> None:
    assert len(_names({GYM}, Size.SHORTER)) < len(_names({GYM}))
    assert len(_names({GYM}, Size.LIGHT)) <= 3


@pytest.mark.parametrize(("low", "high", "minutes"), [(10, 60, 40), (45, 90, 45), (10, 25, 25)])
def test_session_length_stays_inside_the_runners_limits(low: int, high: int, minutes: int) -> None:
    assert content(SessionKind.UPPER_BODY, Size.FULL, 0, {GYM}, (low, high)).minutes == minutes


def test_titles_fit_on_a_phone() -> None:
    for kind in SessionKind:
        for size in Size:
            c = content(kind, size, 0, {GYM}, (10, 60))
            assert len(c.title) <= 28
    assert content(UB, Size.FULL, 0, {GYM}, (10, 60)).title == "Upper body - 40 min"


def test_a_runner_with_bands_only_gets_band_sessions() -> None:
    w = plan(prefs=prefs(equipment=frozenset({BANDS}))).weeks[0]
    sessions = of_kind(w, UB)
    assert sessions
    assert all(s.variant == "bands" for s in sessions)
    assert "Band rows" in [e.name for e in sessions[0].exercises]
