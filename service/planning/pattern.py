"""The shape of a runner's week (TRAINING.md section 1): run days, long-run day, hard days, times.

Inferred from the last six weeks of runs; every inference yields to the runner's preferences.
Then the upcoming runs of a planned week: platform plan, else the pattern, else stated run days.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from statistics import median, median_low

from service.planning.model import PastRun, PlannedRun, Preferences, RunKind, TimeOfDay
from service.planning.picture import week_start_of

PATTERN_WEEKS = 6
HARD_PACE_FACTOR = 0.92  # "clearly faster": at least 8 % faster than the runner's median pace
HARD_MIN_WEEKS = 2  # a fast weekday must recur on two of the six weeks to count as a hard day
KNOWN_BUFFER_MIN = 30  # kept clear before and after a run whose start is known
UNKNOWN_BUFFER_MIN = 180  # kept clear either side of a run whose start is only assumed
TIME_OF_DAY_ANCHOR = {
    TimeOfDay.MORNING: 7 * 60,
    TimeOfDay.MIDDAY: 12 * 60,
    TimeOfDay.EVENING: 18 * 60,
}
KIND_RANK = {RunKind.NONE: 0, RunKind.EASY: 1, RunKind.HARD: 2, RunKind.LONG: 3, RunKind.RACE: 4}


@dataclass(frozen=True, slots=True)
class RunPattern:
    """A runner's usual week: weekdays 0 = Monday ... 6; times in minutes after local midnight."""

    run_days: frozenset[int]
    long_run_day: int | None
    hard_days: frozenset[int]
    run_times: Mapping[int, int]
    typical_km: Mapping[int, float]
    fallback_km: float
    assumed_time: int  # where a run of unknown start is assumed to be


@dataclass(frozen=True, slots=True)
class RunSlot:
    """One run on a day, [start, end) in minutes after local midnight; ``known``: start is known."""

    start: int
    end: int
    known: bool

    @property
    def busy(self) -> tuple[int, int]:
        """The stretch kept free of sessions: a small margin when known, a wide one when assumed."""
        pad = KNOWN_BUFFER_MIN if self.known else UNKNOWN_BUFFER_MIN
        return self.start - pad, self.end + pad


@dataclass(frozen=True, slots=True)
class RunDay:
    """What one date of a planned week holds in running."""

    day: date
    kind: RunKind
    planned_km: float
    slots: tuple[RunSlot, ...] = ()


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _recent(history: Iterable[PastRun], today: date) -> list[PastRun]:
    first = today - timedelta(weeks=PATTERN_WEEKS)
    return [r for r in history if first <= r.local_date < today and r.distance_m > 0]


def usual_run_days(runs: Sequence[PastRun]) -> frozenset[int]:
    """Weekdays run on at least half of the six weeks (each weekday occurs six times)."""
    dates_by_weekday: dict[int, set[date]] = defaultdict(set)
    for run in runs:
        dates_by_weekday[run.local_date.weekday()].add(run.local_date)
    need = PATTERN_WEEKS / 2
    return frozenset(wd for wd, dates in dates_by_weekday.items() if len(dates) >= need)


def long_run_day(
    runs: Sequence[PastRun], run_days: frozenset[int], week_start: int = 0
) -> int | None:
    """The usual run day most often holding the week's longest run (ties: longer, then earlier)."""
    longest: dict[date, PastRun] = {}
    for run in sorted(runs, key=lambda r: (r.local_date, -r.distance_m)):
        first = week_start_of(run.local_date, week_start)
        best = longest.get(first)
        if best is None or run.distance_m > best.distance_m:
            longest[first] = run
    counts = Counter(r.local_date.weekday() for r in longest.values())
    total: Counter[int] = Counter()
    for run in longest.values():
        total[run.local_date.weekday()] += int(run.distance_m)
    ranked = sorted(
        (wd for wd in counts if wd in run_days), key=lambda d: (-counts[d], -total[d], d)
    )
    return ranked[0] if ranked else None


def _pace(run: PastRun) -> float | None:
    if run.moving_s <= 0 or run.distance_m <= 0:
        return None
    return run.moving_s / run.distance_m


def hard_days(runs: Sequence[PastRun]) -> frozenset[int]:
    """Weekdays whose runs are races, workouts or clearly fast, on at least two of the six weeks."""
    paces = [p for p in (_pace(r) for r in runs) if p is not None]
    easy = median(paces) if paces else None
    hard_dates: dict[int, set[date]] = defaultdict(set)
    for run in runs:
        pace = _pace(run)
        fast = easy is not None and pace is not None and pace <= easy * HARD_PACE_FACTOR
        if run.is_race or run.is_workout or fast:
            hard_dates[run.local_date.weekday()].add(run.local_date)
    return frozenset(wd for wd, dates in hard_dates.items() if len(dates) >= HARD_MIN_WEEKS)


def run_start_times(runs: Sequence[PastRun]) -> dict[int, int]:
    """The median start (minutes after midnight) per weekday, from runs whose start is known."""
    starts: dict[int, list[int]] = defaultdict(list)
    for run in runs:
        if run.start_local is not None:
            starts[run.local_date.weekday()].append(_minutes(run.start_local.time()))
    return {wd: int(median_low(values)) for wd, values in sorted(starts.items())}


def _typical_km(runs: Sequence[PastRun]) -> tuple[dict[int, float], float]:
    by_day: dict[int, list[float]] = defaultdict(list)
    for run in runs:
        by_day[run.local_date.weekday()].append(run.distance_m / 1000)
    typical = {wd: round(median(kms), 1) for wd, kms in sorted(by_day.items())}
    every = [km for kms in by_day.values() for km in kms]
    return typical, round(median(every), 1) if every else 0.0


def infer_pattern(history: Iterable[PastRun], today: date, prefs: Preferences) -> RunPattern:
    """The runner's usual week from the six weeks before ``today``; preferences win everywhere."""
    runs = _recent(history, today)
    days = prefs.run_days if prefs.run_days is not None else usual_run_days(runs)
    long_day = (
        prefs.long_run_day
        if prefs.long_run_day is not None
        else long_run_day(runs, days, prefs.week_start)
    )
    hard = prefs.hard_days if prefs.hard_days is not None else hard_days(runs) & days
    # A long-run day or a hard day is a run day by definition.
    days = days | hard | ({long_day} if long_day is not None else frozenset())
    hard = hard - {long_day}
    times = run_start_times(runs)
    times.update({wd: _minutes(t) for wd, t in prefs.run_times.items()})
    typical, fallback = _typical_km(runs)
    known = sorted(times.values())
    assumed = known[(len(known) - 1) // 2] if known else TIME_OF_DAY_ANCHOR[prefs.preferred_time]
    return RunPattern(days, long_day, hard, times, typical, fallback, assumed)


def _pattern_kind(pattern: RunPattern, weekday: int) -> RunKind:
    if weekday not in pattern.run_days:
        return RunKind.NONE
    if weekday == pattern.long_run_day:
        return RunKind.LONG
    return RunKind.HARD if weekday in pattern.hard_days else RunKind.EASY


def _slot(pattern: RunPattern, weekday: int, minutes: int) -> RunSlot:
    start = pattern.run_times.get(weekday)
    if start is None:
        return RunSlot(pattern.assumed_time, pattern.assumed_time + minutes, known=False)
    return RunSlot(start, start + minutes, known=True)


def _from_pattern(pattern: RunPattern, day: date, prefs: Preferences) -> RunDay:
    weekday = day.weekday()
    kind = _pattern_kind(pattern, weekday)
    if kind is RunKind.NONE:
        return RunDay(day, kind, 0.0)
    km = pattern.typical_km.get(weekday, pattern.fallback_km)
    return RunDay(day, kind, km, (_slot(pattern, weekday, prefs.run_minutes),))


def _from_planned(
    pattern: RunPattern, day: date, runs: Sequence[PlannedRun], prefs: Preferences
) -> RunDay:
    kind = max((r.kind for r in runs), key=KIND_RANK.__getitem__, default=RunKind.NONE)
    slots = []
    for run in runs:
        if run.kind is RunKind.NONE:
            continue
        minutes = round(run.duration_s / 60) if run.duration_s else prefs.run_minutes
        if run.start_local is not None:
            start = _minutes(run.start_local.time())
            slots.append(RunSlot(start, start + minutes, known=True))
        else:
            slots.append(_slot(pattern, day.weekday(), minutes))
    km = round(sum(r.distance_m for r in runs) / 1000, 1)
    return RunDay(day, kind, km, tuple(sorted(slots, key=lambda s: (s.start, s.end))))


def week_runs(
    pattern: RunPattern,
    prefs: Preferences,
    planned: Sequence[PlannedRun],
    week_start: date,
    *,
    days: int = 7,
) -> tuple[RunDay, ...]:
    """The runs of the week starting at ``week_start``: a platform's plan when it has any that
    week, else the pattern; the race day (``prefs.race``) is always a race."""
    dates = [week_start + timedelta(days=i) for i in range(days)]
    by_day: dict[date, list[PlannedRun]] = defaultdict(list)
    for run in planned:
        if dates[0] <= run.day <= dates[-1]:
            by_day[run.day].append(run)
    out = []
    for day in dates:
        if by_day:
            run_day = _from_planned(pattern, day, by_day.get(day, []), prefs)
        else:
            run_day = _from_pattern(pattern, day, prefs)
        out.append(_as_race(run_day, pattern, prefs))
    return tuple(out)


def _as_race(run_day: RunDay, pattern: RunPattern, prefs: Preferences) -> RunDay:
    race = prefs.race
    if race is None or race.day != run_day.day:
        return run_day
    slots = run_day.slots or (_slot(pattern, run_day.day.weekday(), prefs.run_minutes),)
    return RunDay(run_day.day, RunKind.RACE, round(race.distance_km, 1), slots)


def with_done_runs(
    days: tuple[RunDay, ...],
    history: Sequence[PastRun],
    today: date,
    pattern: RunPattern,
    prefs: Preferences,
) -> tuple[RunDay, ...]:
    """Days up to ``today`` show the runs actually done (today only once a run is recorded)."""
    done: dict[date, list[PastRun]] = defaultdict(list)
    for run in history:
        done[run.local_date].append(run)
    out = []
    for run_day in days:
        runs = done.get(run_day.day, [])
        if run_day.day > today or (run_day.day == today and not runs):
            out.append(run_day)
        else:
            out.append(_done_day(run_day, runs, pattern, prefs))
    return tuple(out)


def _done_day(
    expected: RunDay, runs: Sequence[PastRun], pattern: RunPattern, prefs: Preferences
) -> RunDay:
    if not runs:
        return RunDay(expected.day, RunKind.NONE, 0.0)
    if any(r.is_race for r in runs):
        kind = RunKind.RACE
    elif any(r.is_workout for r in runs):
        kind = RunKind.HARD
    else:  # what the day was meant to be, now that it happened
        kind = expected.kind if expected.kind is not RunKind.NONE else RunKind.EASY
    slots = tuple(_done_slot(r, pattern, prefs) for r in runs)
    km = round(sum(r.distance_m for r in runs) / 1000, 1)
    return RunDay(expected.day, kind, km, slots)


def _done_slot(run: PastRun, pattern: RunPattern, prefs: Preferences) -> RunSlot:
    minutes = round(run.moving_s / 60) if run.moving_s else prefs.run_minutes
    if run.start_local is None:
        return _slot(pattern, run.local_date.weekday(), minutes)
    start = run.start_local.hour * 60 + run.start_local.minute
    return RunSlot(start, start + minutes, known=True)
