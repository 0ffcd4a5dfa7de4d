"""Time of day arithmetic for placement: windows as minutes, free intervals, DST-safe datetimes.

Minutes count from local midnight; a wall-clock minute that a DST change skips or repeats is
never used for a session start or end.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from service.planning.model import Window

DAY_MIN = 24 * 60
GRID_MIN = 5  # session starts fall on a 5-minute grid

Interval = tuple[int, int]


def window_minutes(windows: Iterable[Window]) -> list[Interval]:
    """Windows as [start, end) minutes; an end of 00:00 means midnight at the end of the day."""
    out = []
    for w in windows:
        start = w.start.hour * 60 + w.start.minute
        end = w.end.hour * 60 + w.end.minute or DAY_MIN
        if end > start:
            out.append((start, end))
    return sorted(out)


def subtract(free: Sequence[Interval], busy: Iterable[Interval]) -> list[Interval]:
    """``free`` minus every busy interval."""
    out = list(free)
    for b0, b1 in busy:
        nxt: list[Interval] = []
        for a0, a1 in out:
            if b1 <= a0 or b0 >= a1:
                nxt.append((a0, a1))
                continue
            if a0 < b0:
                nxt.append((a0, b0))
            if b1 < a1:
                nxt.append((b1, a1))
        out = nxt
    return out


def local(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """The aware datetime ``minute`` minutes after local midnight of ``day``."""
    return (datetime.combine(day, time()) + timedelta(minutes=minute)).replace(tzinfo=tz)


def _clean(day: date, minute: int, tz: ZoneInfo) -> bool:
    """Whether the wall time exists exactly once (not skipped nor repeated by a DST change)."""
    naive = datetime.combine(day, time()) + timedelta(minutes=minute)
    return naive.replace(tzinfo=tz).utcoffset() == naive.replace(tzinfo=tz, fold=1).utcoffset()


def has_transition(day: date, tz: ZoneInfo) -> bool:
    """Whether the UTC offset changes during ``day``."""
    return local(day, 0, tz).utcoffset() != local(day, DAY_MIN, tz).utcoffset()


def best_start(
    free: Sequence[Interval],
    minutes: int,
    target: int,
    dst_check: tuple[date, ZoneInfo] | None = None,
) -> int | None:
    """The grid start nearest ``target`` at which ``minutes`` fit in one free interval."""
    best: int | None = None
    for a, b in free:
        lo = -(-a // GRID_MIN) * GRID_MIN
        hi = (b - minutes) // GRID_MIN * GRID_MIN
        if hi < lo:
            continue
        for start in _around(min(hi, max(lo, target - target % GRID_MIN)), lo, hi):
            if dst_check is None or _fits_clock(start, minutes, *dst_check):
                if best is None or (abs(start - target), start) < (abs(best - target), best):
                    best = start
                break
    return best


def _around(start: int, lo: int, hi: int) -> Iterable[int]:
    """``start`` first, then grid points ever further from it, inside [lo, hi]."""
    yield start
    step = GRID_MIN
    while start - step >= lo or start + step <= hi:
        if start + step <= hi:
            yield start + step
        if start - step >= lo:
            yield start - step
        step += GRID_MIN


def _fits_clock(start: int, minutes: int, day: date, tz: ZoneInfo) -> bool:
    if not (_clean(day, start, tz) and _clean(day, start + minutes, tz)):
        return False
    elapsed = local(day, start + minutes, tz) - local(day, start, tz)
    utc = local(day, start + minutes, tz).astimezone(ZoneInfo("UTC")) - local(
        day, start, tz
    ).astimezone(ZoneInfo("UTC"))
    return elapsed == utc
