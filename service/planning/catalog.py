"""Session content as data (TRAINING.md section 5): exercises, sets, lengths and phone-sized titles.

The runner's equipment picks the upper-body variant (gym > dumbbells > bands > none); a missing
movement is filled from the next piece of kit the runner has, then from bodyweight.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from service.planning.model import Equipment, Exercise, SessionKind


class Size(StrEnum):
    FULL = "full"
    SHORTER = "shorter"  # upper body in a high-mileage week
    SHORT = "short"  # core in a high-mileage week
    LIGHT = "light"  # taper, race week, recovery


BASE_SETS = 3
LIGHT_SETS = 2
MINUTES = {
    (SessionKind.UPPER_BODY, Size.FULL): 40,
    (SessionKind.UPPER_BODY, Size.SHORTER): 30,
    (SessionKind.UPPER_BODY, Size.LIGHT): 20,
    (SessionKind.CORE, Size.FULL): 15,
    (SessionKind.CORE, Size.SHORT): 10,
    (SessionKind.CORE, Size.LIGHT): 10,
    (SessionKind.CROSS_TRAINING, Size.FULL): 40,
    (SessionKind.CROSS_TRAINING, Size.SHORT): 30,
    (SessionKind.CROSS_TRAINING, Size.LIGHT): 30,
}
TITLES = {
    SessionKind.UPPER_BODY: "Upper body",
    SessionKind.CORE: "Core",
    SessionKind.CROSS_TRAINING: "Swim or bike",
}
PRIORITY = (Equipment.GYM, Equipment.DUMBBELLS, Equipment.BANDS, Equipment.NONE)
# Movement -> exercise name, per piece of kit.
MOVES: dict[Equipment, dict[str, str]] = {
    Equipment.GYM: {
        "press": "Bench press",
        "overhead": "Shoulder press",
        "pull": "Pull-ups",
        "row": "Rows",
    },
    Equipment.DUMBBELLS: {
        "press": "Dumbbell press",
        "overhead": "Overhead press",
        "row": "Dumbbell rows",
    },
    Equipment.BANDS: {
        "press": "Band presses",
        "pull": "Band-assisted pull-ups",
        "row": "Band rows",
    },
    Equipment.NONE: {"press": "Dips", "pull": "Pull-ups"},
}
ORDER = ("press", "overhead", "pull", "row")
SHORTER_MOVES = ("press", "pull", "row")
ACCESSORIES = ("Shoulder shrugs", "Lat pulldowns")


@dataclass(frozen=True, slots=True)
class Content:
    """What a session is: its variant label, title, length and exercises."""

    variant: str
    title: str
    minutes: int
    exercises: tuple[Exercise, ...]


def sets_for(size: Size, set_drop: int) -> int:
    """Sets per exercise after deload/phase/load reductions, never below one."""
    base = LIGHT_SETS if size is Size.LIGHT else BASE_SETS
    return max(1, base - set_drop)


def session_minutes(kind: SessionKind, size: Size, low: int, high: int) -> int:
    """The default length for ``kind``/``size`` kept inside the runner's min..max minutes."""
    minutes = MINUTES.get((kind, size), MINUTES[(kind, Size.FULL)])
    return min(high, max(low, minutes))


def _moves(equipment: Collection[Equipment]) -> tuple[dict[str, str], str]:
    owned = [e for e in PRIORITY if e in equipment] or [Equipment.NONE]
    chosen: dict[str, str] = {}
    used: list[str] = []
    for kit in [*owned, Equipment.NONE]:
        added = False
        for move, name in MOVES[kit].items():
            if move not in chosen:
                chosen[move] = name
                added = True
        if added and kit in owned and kit.value not in used:
            used.append(kit.value)
    label = "+".join("bodyweight" if u == Equipment.NONE.value else u for u in used)
    return chosen, label or "bodyweight"


def upper_body_exercises(
    equipment: Collection[Equipment], size: Size, set_drop: int
) -> tuple[tuple[Exercise, ...], str]:
    """The upper-body exercises for the runner's kit and the variant label naming that kit."""
    moves, label = _moves(equipment)
    sets = sets_for(size, set_drop)
    if size is Size.LIGHT:
        light = [Exercise("Push-ups", sets, reps="10-15")]
        if "row" in moves:
            light.append(Exercise(moves["row"], sets, reps="8-12"))
        light.append(Exercise("Plank", sets, hold_s="30-45"))
        return tuple(light), label
    wanted = ORDER if size is Size.FULL else SHORTER_MOVES
    out = [Exercise(moves[m], sets, reps="8-12") for m in wanted if m in moves]
    if size is Size.FULL:
        out.append(Exercise("Push-ups", sets, reps="10-15"))
    out.append(Exercise("Plank", sets, hold_s="30-60"))
    if size is Size.FULL and Equipment.GYM in equipment:
        out += [Exercise(name, max(1, sets - 1), reps="10-12") for name in ACCESSORIES]
    return tuple(out), label


def core_exercises(size: Size, set_drop: int) -> tuple[Exercise, ...]:
    """Crunches, leg raises, Russian twists and plank; the short and light forms keep fewer."""
    sets = sets_for(size, set_drop)
    full = (
        Exercise("Crunches", sets, reps="20-30"),
        Exercise("Leg raises", sets, reps="15-20"),
        Exercise("Russian twists", sets, reps="20-30"),
        Exercise("Plank", sets, hold_s="30-60"),
    )
    if size is Size.FULL:
        return full
    if size is Size.LIGHT:
        return (full[0], Exercise("Plank", sets, hold_s="30-45"))
    return (full[0], full[2], full[3])


def content(
    kind: SessionKind,
    size: Size,
    set_drop: int,
    equipment: Collection[Equipment],
    minutes_range: tuple[int, int],
) -> Content:
    """The full content of one session."""
    minutes = session_minutes(kind, size, *minutes_range)
    prefix = "Light " if size is Size.LIGHT else ""
    name = TITLES[kind]
    title = f"{prefix}{name.lower() if prefix else name} - {minutes} min"
    if kind is SessionKind.UPPER_BODY:
        exercises, label = upper_body_exercises(equipment, size, set_drop)
        variant = label if size is Size.FULL else f"{label}-{size.value}"
    elif kind is SessionKind.CORE:
        exercises, variant = core_exercises(size, set_drop), f"core-{size.value}"
    else:
        exercises = (Exercise("Easy swim or bike ride", 1, minutes=minutes),)
        variant = "swim-or-bike" if size is Size.FULL else f"swim-or-bike-{size.value}"
    return Content(variant, title, minutes, exercises)
