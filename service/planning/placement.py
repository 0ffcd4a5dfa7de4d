"""Where sessions go (TRAINING.md section 3): hard rules filter days, soft rules score them.

Runner-placed sessions go first and stay put (a broken hard rule becomes a conflict); upper body
is then chosen as the best set of days together (so 48 h spacing never strands a session), then
cross-training and core one by one. Every tie breaks on the date, so the output is deterministic.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import combinations, pairwise
from zoneinfo import ZoneInfo

from service.planning.model import Preferences, RunKind, SessionKind
from service.planning.pattern import KNOWN_BUFFER_MIN, TIME_OF_DAY_ANCHOR, RunDay
from service.planning.phases import RULE_RACE, RULE_RECOVERY, RULE_TAPER, day_block
from service.planning.slots import (
    Interval,
    best_start,
    has_transition,
    subtract,
    window_minutes,
)

RULE_LONG = "rule-2-day-before-long-run"
RULE_CONSECUTIVE = "rule-3-consecutive-upper-body"
RULE_REST = "rule-4-rest-day"
RULE_WINDOW = "rule-5-availability"
RULE_HARD_DAY = "rule-6-hard-day"  # upper body never before a hard run on the same day
RULE_SPREAD = "rule-9-spread"  # never two sessions of one kind on the same day
RULE_ORDER = (
    RULE_RACE,
    RULE_RECOVERY,
    RULE_TAPER,
    RULE_LONG,
    RULE_CONSECUTIVE,
    RULE_REST,
    RULE_HARD_DAY,
    RULE_SPREAD,
    RULE_WINDOW,
)
HARD_GAP_MIN = 6 * 60  # upper body at least 6 h after a hard run
SESSION_GAP_MIN = 15
UB, CORE, CROSS = SessionKind.UPPER_BODY, SessionKind.CORE, SessionKind.CROSS_TRAINING
RUN_DAY_SCORE = {
    UB: {RunKind.NONE: 3.0, RunKind.EASY: 5.0, RunKind.HARD: 2.0, RunKind.LONG: 1.0},
    CROSS: {RunKind.NONE: 5.0, RunKind.EASY: 1.0, RunKind.HARD: 0.0, RunKind.LONG: 0.0},
    CORE: {RunKind.NONE: 2.0, RunKind.EASY: 3.0, RunKind.HARD: 2.0, RunKind.LONG: 1.0},
}


@dataclass(frozen=True, slots=True)
class Want:
    """A session to place."""

    uid: str
    kind: SessionKind
    minutes: int
    light: bool


@dataclass(frozen=True, slots=True)
class Pinned:
    """A session the runner put at a local day and minute range (moved or locked)."""

    uid: str
    kind: SessionKind
    day: date
    start: int
    end: int
    light: bool


@dataclass(frozen=True, slots=True)
class WeekInput:
    week_start: date
    days: tuple[RunDay, ...]
    races: tuple[date, ...]
    long_days: frozenset[date]  # long-run dates, including the next week's first day
    prev_upper: frozenset[date]  # upper-body dates already planned before this week
    prefs: Preferences
    tz: ZoneInfo


@dataclass(frozen=True, slots=True)
class Slot:
    """A placed session; ``blocked``: the days its kind could not use and the rule why."""

    uid: str
    kind: SessionKind
    day: date
    start: int
    end: int
    blocked: tuple[tuple[date, str], ...] = ()
    pinned: bool = False


@dataclass(frozen=True, slots=True)
class Miss:
    uid: str
    kind: SessionKind
    rule: str


@dataclass(slots=True)
class Outcome:
    slots: list[Slot] = field(default_factory=list)
    misses: list[Miss] = field(default_factory=list)
    conflicts: list[Miss] = field(default_factory=list)


Evaluation = tuple[str | None, int, float]  # (blocking rule, start minute, score)


class _Week:
    """The week being filled: which days hold what, and the rules checked against that."""

    def __init__(self, wi: WeekInput) -> None:
        self.wi = wi
        self.by_date = {d.day: d for d in wi.days}
        self.taken: dict[date, list[tuple[int, int, SessionKind]]] = {}
        self.upper = set(wi.prev_upper)
        self.rest_candidates = [d.day for d in wi.days if d.kind is RunKind.NONE]
        self.anchor = TIME_OF_DAY_ANCHOR[wi.prefs.preferred_time]
        self.windows = {d.day: window_minutes(wi.prefs.windows(d.day.weekday())) for d in wi.days}
        self.dst = {
            d.day: (d.day, wi.tz) if has_transition(d.day, wi.tz) else None for d in wi.days
        }

    def add(self, kind: SessionKind, day: date, start: int, end: int) -> None:
        self.taken.setdefault(day, []).append((start, end, kind))
        if kind is UB:
            self.upper.add(day)

    def free_rest_days(self) -> list[date]:
        return [d for d in self.rest_candidates if not self.taken.get(d)]

    def day_rule(self, kind: SessionKind, light: bool, day: date) -> str | None:
        """The first hard rule (1 to 4, with phase limits) that keeps ``kind`` off ``day``."""
        rule = day_block(day, kind, light, self.wi.races, self.wi.week_start)
        if rule is not None:
            return rule
        if kind in (UB, CROSS) and day + timedelta(days=1) in self.wi.long_days:
            return RULE_LONG
        if kind is UB and any(day + timedelta(days=k) in self.upper for k in (-1, 0, 1)):
            return RULE_CONSECUTIVE
        taken = self.taken.get(day, [])
        if not taken and self.free_rest_days() == [day]:
            return RULE_REST
        if any(k is kind for *_, k in taken):
            return RULE_SPREAD
        return None

    def evaluate(self, want: Want, day: date) -> Evaluation:
        """Whether ``want`` fits on ``day``, at which minute and how well."""
        rule = self.day_rule(want.kind, want.light, day)
        if rule is not None:
            return rule, 0, 0.0
        run = self.by_date[day]
        earliest, target = 0, self.anchor
        if want.kind is UB and run.kind in (RunKind.HARD, RunKind.LONG) and run.slots:
            if not all(s.known for s in run.slots):
                return RULE_HARD_DAY, 0, 0.0
            earliest = max(s.end for s in run.slots) + KNOWN_BUFFER_MIN
            target = max(target, max(s.end for s in run.slots) + HARD_GAP_MIN)
        free = self._free(day, earliest)
        start = best_start(free, want.minutes, target, self.dst[day])
        if start is None:
            return RULE_WINDOW, 0, 0.0
        return None, start, self._score(want, run, start, target)

    def _free(self, day: date, earliest: int) -> list[Interval]:
        busy: list[Interval] = [s.busy for s in self.by_date[day].slots]
        busy += [(a - SESSION_GAP_MIN, b + SESSION_GAP_MIN) for a, b, _ in self.taken.get(day, [])]
        busy.append((-1, earliest))
        return subtract(self.windows[day], busy)

    def _score(self, want: Want, run: RunDay, start: int, target: int) -> float:
        kind_score = RUN_DAY_SCORE[want.kind].get(run.kind, 0.0)
        if want.kind is UB and run.kind is RunKind.HARD and start >= target:
            kind_score = 6.0
        score = kind_score - 0.25 * abs(start - target) / 60
        here = self.taken.get(run.day, [])
        score -= 3.0 * len(here)
        for k in (-1, 1):
            near = self.taken.get(run.day + timedelta(days=k), [])
            score -= 1.0 * sum(1 for *_, kind in near if kind is want.kind)
        return score


def _worst_rule(week: _Week, blocked: Sequence[tuple[date, str]]) -> str:
    """The rule that ruled out most of the runner's available days (ties: TRAINING.md order)."""
    open_days = [r for d, r in blocked if week.windows[d]]
    if not open_days:
        return RULE_WINDOW
    counts = Counter(open_days)
    return min(counts, key=lambda r: (-counts[r], RULE_ORDER.index(r)))


def _blocked(evals: dict[date, Evaluation]) -> tuple[tuple[date, str], ...]:
    return tuple((d, e[0]) for d, e in sorted(evals.items()) if e[0] is not None)


def _best_days(
    options: list[tuple[date, float]], n: int, rest: list[date]
) -> tuple[tuple[date, ...], bool]:
    """The best set of up to ``n`` upper-body days: most sessions, then score, then spread.

    Returns the days and whether keeping a rest day cost a session.
    """
    scores = dict(options)
    days = sorted(scores)
    rest_cost = False  # a larger set existed but would have taken the last rest day
    for size in range(min(n, len(days)), 0, -1):
        best: tuple[float, tuple[date, ...]] | None = None
        rest_skipped = False
        for combo in combinations(days, size):
            gaps = [(b - a).days for a, b in pairwise(combo)]
            if any(g < 2 for g in gaps):
                continue
            if rest and all(r in combo for r in rest):
                rest_skipped = True
                continue
            value = sum(scores[d] for d in combo) + 0.5 * min(gaps, default=0)
            if best is None or value > best[0]:
                best = (value, combo)
        if best is not None:
            return best[1], rest_cost
        rest_cost = rest_cost or rest_skipped
    return (), False


def _place_upper(week: _Week, wants: list[Want], out: Outcome) -> None:
    if not wants:
        return
    evals = {d.day: week.evaluate(wants[0], d.day) for d in week.wi.days}
    options = [(d, e[2]) for d, e in sorted(evals.items()) if e[0] is None]
    chosen, rest_cost = _best_days(options, len(wants), week.free_rest_days())
    blocked = _blocked(evals)
    for want, day in zip(wants, chosen, strict=False):
        start = evals[day][1]
        week.add(want.kind, day, start, start + want.minutes)
        out.slots.append(Slot(want.uid, want.kind, day, start, start + want.minutes, blocked))
    if len(chosen) == len(wants):
        return
    if rest_cost:
        rule = RULE_REST
    elif len(options) >= len(wants):
        rule = RULE_CONSECUTIVE
    else:
        rule = _worst_rule(week, blocked)
    out.misses += [Miss(w.uid, w.kind, rule) for w in wants[len(chosen) :]]


def _place_one(week: _Week, want: Want, out: Outcome) -> None:
    evals = {d.day: week.evaluate(want, d.day) for d in week.wi.days}
    options = [(-e[2], d) for d, e in sorted(evals.items()) if e[0] is None]
    if not options:
        out.misses.append(Miss(want.uid, want.kind, _worst_rule(week, _blocked(evals))))
        return
    _, day = min(options)
    start = evals[day][1]
    week.add(want.kind, day, start, start + want.minutes)
    out.slots.append(Slot(want.uid, want.kind, day, start, start + want.minutes, _blocked(evals)))


def _pin(week: _Week, pinned: Sequence[Pinned], out: Outcome) -> None:
    for p in sorted(pinned, key=lambda p: (p.day, p.start, p.uid)):
        rule = week.day_rule(p.kind, p.light, p.day) if p.day in week.by_date else None
        if rule == RULE_REST:
            rule = None  # checked once all pinned sessions are in
        rule = rule or _pinned_clock_rule(week, p)
        if rule is not None:
            out.conflicts.append(Miss(p.uid, p.kind, rule))
        week.add(p.kind, p.day, p.start, p.end)
        out.slots.append(Slot(p.uid, p.kind, p.day, p.start, p.end, pinned=True))
    if week.rest_candidates and not week.free_rest_days() and pinned:
        last = max(pinned, key=lambda p: (p.day, p.start, p.uid))
        out.conflicts.append(Miss(last.uid, last.kind, RULE_REST))


def _pinned_clock_rule(week: _Week, p: Pinned) -> str | None:
    """Rule 5 for a runner-placed session: inside a window and clear of every known run."""
    windows = window_minutes(week.wi.prefs.windows(p.day.weekday()))
    if not any(a <= p.start and p.end <= b for a, b in windows):
        return RULE_WINDOW
    run = week.by_date.get(p.day)
    if run and any(s.known and s.start < p.end and p.start < s.end for s in run.slots):
        return RULE_WINDOW
    return None


def place_week(wi: WeekInput, wants: Sequence[Want], pinned: Sequence[Pinned]) -> Outcome:
    """Place the pinned sessions, then upper body, cross-training and core around them."""
    week, out = _Week(wi), Outcome()
    _pin(week, pinned, out)
    _place_upper(week, [w for w in wants if w.kind is UB], out)
    for kind in (CROSS, CORE):
        for want in (w for w in wants if w.kind is kind):
            _place_one(week, want, out)
    return out
