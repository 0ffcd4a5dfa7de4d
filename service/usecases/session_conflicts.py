"""What a runner's own placement of a session breaks, said as such, and which conflicts a move
adds to the week (the planner's reasons say why a session is missing, which reads wrongly for
a session the runner put somewhere)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from service.planning import explain
from service.planning.model import Skipped, WeekPlan

CONFLICT_WORDS = {
    "rule-1-race": "it is race day or one of the two days before it, when no strength work goes in",
    "rule-2-day-before-long-run": "the next day is your long run, and upper body or "
    "cross-training the day before takes from it",
    "rule-3-consecutive-upper-body": "it sits next to another upper-body day, and the same "
    "muscles need 48 h between sessions",
    "rule-4-rest-day": "it takes the week's last full rest day",
    "rule-5-availability": "it is outside your available times or overlaps a run",
    "rule-6-hard-day": "upper body would come before your hard run that day",
    "rule-9-spread": "that day already holds a session of the same kind",
    "taper": "your race is close: heavy strength is out, and race week keeps one light "
    "session early on",
    "recovery": "you are recovering from your race: no strength work for 5 days",
}


def worded(conflict: Skipped) -> Skipped:
    """A conflict with its reason said as what the runner's choice breaks."""
    if conflict.reason != explain.skip_reason(conflict.kind, conflict.rule):
        return conflict  # a week rule's own sentence (taper, high load): already fits
    words = CONFLICT_WORDS.get(conflict.rule, conflict.reason)
    return replace(conflict, reason=words[0].upper() + words[1:] + ".")


def caused(before: WeekPlan, after: WeekPlan, uid: str) -> tuple[Skipped, ...]:
    """The moved session's conflicts, and any other session's that the move adds."""
    had = Counter((c.uid, c.rule) for c in before.conflicts)
    out = []
    for conflict in after.conflicts:
        key = (conflict.uid, conflict.rule)
        if conflict.uid == uid or had[key] == 0:
            out.append(worded(conflict))
        else:
            had[key] -= 1
    return tuple(out)
