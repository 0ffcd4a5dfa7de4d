"""What a week holds (TRAINING.md section 2, with the phase limits of section 4).

Counts come from the 4-week average band, then the runner's upper-body choice, then load, phase
and deload adjust them. Every session a rule removes is kept as a cut with the rule's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from service.planning.catalog import Size
from service.planning.model import SessionKind
from service.planning.phases import Phase

LOW_BAND_KM = 30.0
HIGH_BAND_KM = 60.0
HIGH_LOAD = 1.3
LOW_LOAD = 0.8
DELOAD_EVERY = 4
# Without a race, deload weeks are counted from this fixed Monday, so every rebuild agrees.
DELOAD_EPOCH = date(2024, 1, 1)

UB, CORE, CROSS = SessionKind.UPPER_BODY, SessionKind.CORE, SessionKind.CROSS_TRAINING


@dataclass(frozen=True, slots=True)
class Demand:
    """One session the week should hold: its kind, its ordinal within the kind, its size."""

    kind: SessionKind
    ordinal: int
    size: Size


@dataclass(frozen=True, slots=True)
class Cut:
    """A session a week rule removed before placement, and that rule."""

    kind: SessionKind
    ordinal: int
    rule: str
    reason: str


@dataclass(frozen=True, slots=True)
class WeekSpec:
    phase: Phase
    deload: bool
    set_drop: int
    load: str  # "high" | "low" | "normal"
    demands: tuple[Demand, ...]
    cuts: tuple[Cut, ...]


def is_deload(week_start: date, next_race: date | None) -> bool:
    """Every 4th week: counted back from the race week when a race is ahead, else from the epoch.

    With a race, the 4th, 8th, ... weeks before the race week deload (never taper or race week).
    """
    if next_race is not None and next_race >= week_start:
        weeks_out = (next_race - week_start).days // 7
        return weeks_out > 0 and weeks_out % DELOAD_EVERY == 0
    return ((week_start - DELOAD_EPOCH).days // 7) % DELOAD_EVERY == DELOAD_EVERY - 1


def band(avg_km: float) -> dict[SessionKind, tuple[int, Size]]:
    """The mileage band's counts and sizes (4-week average in km)."""
    if avg_km < LOW_BAND_KM:
        return {UB: (3, Size.FULL), CORE: (2, Size.FULL), CROSS: (1, Size.FULL)}
    if avg_km <= HIGH_BAND_KM:
        return {UB: (2, Size.FULL), CORE: (2, Size.FULL), CROSS: (1, Size.FULL)}
    return {UB: (2, Size.SHORTER), CORE: (3, Size.SHORT), CROSS: (0, Size.FULL)}


def load_state(ratio: float | None) -> str:
    """High above 1.3, low below 0.8; no ratio (no running for 28 days) counts as normal."""
    if ratio is None:
        return "normal"
    if ratio > HIGH_LOAD:
        return "high"
    return "low" if ratio < LOW_LOAD else "normal"


class _Builder:
    """Counts per kind plus the cuts made so far; ordinals stay fixed as sessions are cut."""

    def __init__(self, counts: dict[SessionKind, tuple[int, Size]]) -> None:
        self.count = {k: n for k, (n, _) in counts.items()}
        self.size = {k: s for k, (_, s) in counts.items()}
        self.cuts: list[Cut] = []

    def cap(self, kind: SessionKind, most: int, rule: str, reason: str) -> None:
        while self.count[kind] > most:
            self.count[kind] -= 1
            self.cuts.append(Cut(kind, self.count[kind], rule, reason))

    def demands(self) -> tuple[Demand, ...]:
        return tuple(
            Demand(kind, i, self.size[kind])
            for kind in (UB, CROSS, CORE)
            for i in range(self.count[kind])
        )


def _apply_phase(b: _Builder, phase: Phase) -> int:
    """Phase limits; returns the sets they drop."""
    if phase is Phase.PEAK:
        b.cap(UB, 2, "peak", "Peak weeks before your race keep upper body to two sessions.")
        return 1
    if phase is Phase.TAPER:
        b.cap(UB, 2, "taper", "Taper: two light upper-body sessions at most.")
        b.cap(CORE, 2, "taper", "Taper: light core only.")
        b.cap(CROSS, 1, "taper", "Taper: one easy cross-training session at most.")
        b.size.update({UB: Size.LIGHT, CORE: Size.LIGHT, CROSS: Size.LIGHT})
    elif phase is Phase.RACE:
        why = "Race week: one light session early in the week, nothing more."
        b.cap(UB, 0, "taper", why)
        b.cap(CROSS, 0, "taper", why)
        b.cap(CORE, 1, "taper", why)
        b.size[CORE] = Size.LIGHT
    elif phase is Phase.RECOVERY:
        b.size[CROSS] = Size.LIGHT
    return 0


def plan_week(
    avg_km: float,
    ratio: float | None,
    phase: Phase,
    deload: bool,
    upper_body_per_week: int | None,
) -> WeekSpec:
    """The sessions one week should hold and the ones rules removed, with the sets to drop."""
    b = _Builder(band(avg_km))
    if upper_body_per_week is not None:
        b.count[UB] = min(3, max(2, upper_body_per_week))
    load = load_state(ratio)
    drop = int(deload)
    if load == "low":
        b.count[CROSS] += 1
    elif load == "high":
        why = f"Your last 7 days ran {ratio:.1f}x your usual load: rest instead."
        b.cap(UB, 2, "high-load", why)
        b.cap(CROSS, 0, "high-load", why)
        drop += 1
    drop += _apply_phase(b, phase)
    return WeekSpec(phase, deload, drop, load, b.demands(), tuple(b.cuts))
