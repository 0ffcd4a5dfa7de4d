"""Plain-language reasons: why a session sits on its day, and why a session could not be placed.

Each sentence names the run facts that decided it (the hard day, the long run, the race).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from service.planning.model import RunKind, SessionKind
from service.planning.pattern import RunDay

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
LABEL = {
    SessionKind.UPPER_BODY: "upper body",
    SessionKind.CORE: "core",
    SessionKind.CROSS_TRAINING: "cross-training",
}
SKIP_REASONS = {
    "rule-1-race": "your race is close: nothing on race day and no strength in the 2 days before",
    "rule-2-day-before-long-run": "the days left are the day before your long run",
    "rule-3-consecutive-upper-body": "upper body needs 48 h between sessions and the free days "
    "sit back to back",
    "rule-4-rest-day": "the week needs one full rest day",
    "rule-5-availability": "no free window is long enough away from your runs",
    "rule-6-hard-day": "upper body never goes before a hard run, and your run time that day is "
    "unknown",
    "rule-9-spread": "the only days left already hold one",
    "taper": "you are tapering for your race",
    "recovery": "you are recovering from your race: no strength for 5 days",
    "runner-skipped": "you skipped it",
}


@dataclass(frozen=True, slots=True)
class Facts:
    """What the explanation may cite about the week."""

    days: Mapping[date, RunDay]
    set_drop: int
    deload: bool
    load: str


def day_name(day: date) -> str:
    return DAY_NAMES[day.weekday()]


def skip_reason(kind: SessionKind, rule: str) -> str:
    """Why a session of ``kind`` is not in the week."""
    because = SKIP_REASONS.get(rule, rule)
    return f"No {LABEL[kind]} session this week: {because}."


def _hours_after(run: RunDay, start: int) -> int | None:
    known = [s for s in run.slots if s.known and s.end <= start]
    if not known:
        return None
    return (start - max(s.end for s in known)) // 60


def _upper(run: RunDay, start: int) -> str:
    name = day_name(run.day)
    hours = _hours_after(run, start)
    if run.kind is RunKind.HARD:
        later = f"{hours} h after the run" if hours is not None else "after the run"
        return f"{name} is your hard-run day: upper body goes {later} to keep hard days hard"
    if run.kind is RunKind.LONG:
        later = f"{hours} h after it" if hours is not None else "after it"
        return f"{name} is your long run: upper body comes {later}, never before"
    if run.kind is RunKind.EASY:
        return f"{name} is an easy run day, so upper body does not take from a hard session"
    return f"{name} has no run, so upper body gets the day"


def _day_fact(kind: SessionKind, run: RunDay, start: int) -> str:
    name = day_name(run.day)
    if kind is SessionKind.UPPER_BODY:
        return _upper(run, start)
    if kind is SessionKind.CROSS_TRAINING:
        if run.kind is RunKind.NONE:
            return f"{name} has no run: easy swimming or cycling adds aerobic work without impact"
        return f"no run-free day was left, so this shares {name} with a run: keep it easy"
    if run.kind is RunKind.NONE:
        return f"{name} has no run: a short core session keeps the week balanced"
    return f"core is short, so it shares {name} with your {run.kind.value} run"


def _why_not(kind: SessionKind, day: date, blocked: Sequence[tuple[date, str]]) -> str:
    """The nearest day a run fact ruled out, said plainly; empty when none is worth naming."""
    near = sorted(blocked, key=lambda b: (abs((b[0] - day).days), b[0]))
    for other, rule in near:
        name = day_name(other)
        if rule == "rule-2-day-before-long-run":
            return f"not {name}: {DAY_NAMES[(other.weekday() + 1) % 7]} is your long run"
        if rule == "rule-1-race":
            return f"not {name}: it is too close to your race"
        if rule == "rule-3-consecutive-upper-body" and kind is SessionKind.UPPER_BODY:
            return f"not {name}: your arms need 48 h between upper-body sessions"
        if rule == "recovery":
            return f"not {name}: you are still recovering from your race"
        if rule == "rule-6-hard-day":
            return f"not {name}: upper body never goes before a hard run"
    return ""


def _tail(kind: SessionKind, f: Facts) -> str:
    if kind is SessionKind.CROSS_TRAINING:
        return "Your running is down on usual: this keeps your fitness." if f.load == "low" else ""
    if f.set_drop == 0:
        return ""
    cause = (
        "deload week" if f.deload else "high load" if f.load == "high" else "phase before a race"
    )
    if f.set_drop == 1:
        return f"One set fewer per exercise ({cause})."
    return f"{f.set_drop} sets fewer per exercise this week."


def why(
    kind: SessionKind,
    day: date,
    start: int,
    blocked: Sequence[tuple[date, str]],
    facts: Facts,
    *,
    pinned: bool = False,
) -> str:
    """One or two sentences on why this session sits where it does."""
    if pinned:
        first = f"You put this on {day_name(day)}; it stays there"
    else:
        run = facts.days.get(day) or RunDay(day, RunKind.NONE, 0.0)
        first = _day_fact(kind, run, start)
        other = _why_not(kind, day, blocked)
        if other:
            first = f"{first}; {other}"
    first = first[0].upper() + first[1:] + "."
    tail = _tail(kind, facts)
    return f"{first} {tail}" if tail else first
