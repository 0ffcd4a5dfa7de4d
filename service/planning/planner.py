"""build_plan: the week-by-week plan from preferences, run history and planned runs.

Pure and deterministic: the same request always gives the same plan; ``today`` is the only clock.
Load projection: the first week uses the load ratio as of ``today``; each later week uses the
ratio as of the day before it starts, counting the planned km of the days after ``today``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from service.planning import catalog, explain
from service.planning.model import (
    DayPlan,
    Override,
    OverrideAction,
    Plan,
    PlanRequest,
    Preferences,
    RunKind,
    Session,
    SessionKind,
    Skipped,
    WeekPlan,
)
from service.planning.pattern import (
    RunDay,
    RunPattern,
    infer_pattern,
    week_runs,
    with_done_runs,
)
from service.planning.phases import week_phase
from service.planning.picture import M_PER_KM, Run, four_week_average_m, load_ratio
from service.planning.placement import Miss, Pinned, Slot, Want, WeekInput, place_week
from service.planning.slots import local
from service.planning.week import Demand, WeekSpec, is_deload, plan_week


def session_uid(runner_key: str, week_start: date, kind: SessionKind, ordinal: int) -> str:
    """A stable, opaque id (24 chars of base32hex, usable as a Google Calendar event id)."""
    seed = f"runstrength|{runner_key}|{week_start.isoformat()}|{kind.value}|{ordinal}"
    digest = hashlib.sha256(seed.encode()).digest()[:15]
    return base64.b32hexencode(digest).decode().lower()


@dataclass(frozen=True, slots=True)
class _Context:
    request: PlanRequest
    tz: ZoneInfo
    pattern: RunPattern
    races: tuple[date, ...]
    next_race: date | None
    overrides: dict[str, Override]


def _races(request: PlanRequest) -> tuple[date, ...]:
    days = {r.local_date for r in request.history if r.is_race and r.local_date <= request.today}
    days |= {p.day for p in request.planned if p.kind is RunKind.RACE}
    if request.prefs.race is not None:
        days.add(request.prefs.race.day)
    return tuple(sorted(days))


def _loads(ctx: _Context, weeks: Sequence[tuple[RunDay, ...]]) -> list[tuple[float, float | None]]:
    """(4-week average km, load ratio) per planned week, projecting planned km past ``today``."""
    req, prefs = ctx.request, ctx.request.prefs
    past = [Run(r.local_date, r.distance_m) for r in req.history if r.local_date <= req.today]
    future: list[Run] = []
    day = req.today + timedelta(days=1)
    first = weeks[0][0].day if weeks else day
    while day < first:  # the days between today and the first planned week
        for rd in week_runs(ctx.pattern, prefs, req.planned, day, days=min(7, (first - day).days)):
            future.append(Run(rd.day, rd.planned_km * M_PER_KM))
        day += timedelta(days=7)
    for days in weeks:
        future += [Run(d.day, d.planned_km * M_PER_KM) for d in days if d.day > req.today]
    out: list[tuple[float, float | None]] = []
    for i, days in enumerate(weeks):
        start = days[0].day
        if i == 0:
            avg = four_week_average_m(past, today=req.today, week_start=prefs.week_start)
            out.append((avg / M_PER_KM, load_ratio(past, today=req.today)))
            continue
        runs = past + [r for r in future if r.local_date < start]
        avg = four_week_average_m(runs, today=start, week_start=start.weekday())
        out.append((avg / M_PER_KM, load_ratio(runs, today=start - timedelta(days=1))))
    return out


def _localise(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment.astimezone(tz)


def _split(
    ctx: _Context, ws: date, demands: Sequence[Demand], set_drop: int
) -> tuple[list[Want], list[Pinned], list[Skipped], dict[str, catalog.Content]]:
    """Demands into sessions to place, runner-pinned sessions and runner-skipped ones."""
    prefs = ctx.request.prefs
    wants, pinned, skipped, contents = [], [], [], {}
    for d in demands:
        uid = session_uid(ctx.request.runner_key, ws, d.kind, d.ordinal)
        content = catalog.content(
            d.kind,
            d.size,
            set_drop,
            prefs.equipment,
            (prefs.min_session_minutes, prefs.max_session_minutes),
        )
        contents[uid] = content
        light = d.size is catalog.Size.LIGHT
        ov = ctx.overrides.get(uid)
        if ov is not None and ov.action is OverrideAction.SKIP:
            reason = explain.skip_reason(d.kind, "runner-skipped")
            skipped.append(Skipped(d.kind, "runner-skipped", reason, uid))
        elif ov is not None and ov.start is not None:
            at = _localise(ov.start, ctx.tz)
            minute = at.hour * 60 + at.minute
            pinned.append(Pinned(uid, d.kind, at.date(), minute, minute + content.minutes, light))
        else:
            wants.append(Want(uid, d.kind, content.minutes, light))
    return wants, pinned, skipped, contents


def _session(ctx: _Context, slot: Slot, content: catalog.Content, facts: explain.Facts) -> Session:
    ov = ctx.overrides.get(slot.uid) if slot.pinned else None
    if ov is not None and ov.start is not None:
        start = _localise(ov.start, ctx.tz)
        end = start + timedelta(minutes=content.minutes)
    else:
        start, end = local(slot.day, slot.start, ctx.tz), local(slot.day, slot.end, ctx.tz)
    why = explain.why(slot.kind, slot.day, slot.start, slot.blocked, facts, pinned=slot.pinned)
    return Session(
        uid=slot.uid,
        kind=slot.kind,
        variant=content.variant,
        title=content.title,
        start=start,
        end=end,
        exercises=content.exercises,
        why=why,
        override=ov.action if ov is not None else None,
    )


def _as_skipped(misses: Sequence[Miss]) -> list[Skipped]:
    return [Skipped(m.kind, m.rule, explain.skip_reason(m.kind, m.rule), m.uid) for m in misses]


def _week(
    ctx: _Context,
    days: tuple[RunDay, ...],
    next_day: RunDay,
    spec: WeekSpec,
    prev_upper: frozenset[date],
) -> WeekPlan:
    """Place one week and assemble its plan (the load ratio is filled in by the caller)."""
    ws = days[0].day
    prefs = ctx.request.prefs
    demands, cut_skips, kept_cuts = _apply_cuts(ctx, ws, spec)
    wants, pinned, skipped, contents = _split(ctx, ws, demands, spec.set_drop)
    skipped += cut_skips
    long_days = frozenset(d.day for d in (*days, next_day) if d.kind is RunKind.LONG)
    wi = WeekInput(ws, days, ctx.races, long_days, prev_upper, prefs, ctx.tz)
    outcome = place_week(wi, wants, pinned)
    facts = explain.Facts({d.day: d for d in days}, spec.set_drop, spec.deload, spec.load)
    sessions = [_session(ctx, s, contents[s.uid], facts) for s in outcome.slots]
    sessions.sort(key=lambda s: (s.start, s.uid))
    return WeekPlan(
        week_start=ws,
        phase=spec.phase.value,
        deload=spec.deload,
        mileage_km=round(sum(d.planned_km for d in days), 1),
        load_ratio=None,
        days=tuple(DayPlan(d.day, d.kind, d.planned_km) for d in days),
        sessions=tuple(sessions),
        skipped=tuple(skipped + _as_skipped(outcome.misses)),
        conflicts=tuple(kept_cuts + _as_skipped(outcome.conflicts)),
    )


def _apply_cuts(
    ctx: _Context, ws: date, spec: WeekSpec
) -> tuple[list[Demand], list[Skipped], list[Skipped]]:
    """Drop what week rules cut, except sessions the runner moved or locked: those stay (light)
    where the runner put them, and the cutting rule is reported as a conflict."""
    demands, skipped, kept = list(spec.demands), [], []
    for cut in spec.cuts:
        uid = session_uid(ctx.request.runner_key, ws, cut.kind, cut.ordinal)
        ov = ctx.overrides.get(uid)
        entry = Skipped(cut.kind, cut.rule, cut.reason, uid)
        if ov is not None and ov.action is not OverrideAction.SKIP and ov.start is not None:
            demands.append(Demand(cut.kind, cut.ordinal, catalog.Size.LIGHT))
            kept.append(entry)
        else:
            skipped.append(entry)
    return demands, skipped, kept


def _context(request: PlanRequest) -> _Context:
    prefs: Preferences = request.prefs
    return _Context(
        request=request,
        tz=ZoneInfo(prefs.timezone),
        pattern=infer_pattern(request.history, request.today, prefs),
        races=_races(request),
        next_race=prefs.race.day if prefs.race is not None else None,
        overrides={o.uid: o for o in request.overrides},
    )


def build_plan(request: PlanRequest) -> Plan:
    """``request.weeks`` week plans from ``request.start``, each placed around its runs."""
    ctx = _context(request)
    prefs = request.prefs
    weeks = [
        with_done_runs(
            week_runs(ctx.pattern, prefs, request.planned, request.start + timedelta(weeks=i)),
            request.history,
            request.today,
            ctx.pattern,
            prefs,
        )
        for i in range(request.weeks + 1)  # one more: its first day may be a long run
    ]
    loads = _loads(ctx, weeks[:-1])
    out: list[WeekPlan] = []
    prev_upper: frozenset[date] = frozenset()
    for i, (avg_km, ratio) in enumerate(loads):
        days = weeks[i]
        ws = days[0].day
        phase = week_phase(ws, ctx.next_race, ctx.races)
        deload = is_deload(ws, ctx.next_race)
        spec = plan_week(avg_km, ratio, phase, deload, prefs.upper_body_per_week)
        plan = _week(ctx, days, weeks[i + 1][0], spec, prev_upper)
        out.append(replace(plan, load_ratio=round(ratio, 2) if ratio is not None else None))
        prev_upper = frozenset(
            s.start.date() for s in plan.sessions if s.kind is SessionKind.UPPER_BODY
        )
    return Plan(prefs=prefs, weeks=tuple(out))
