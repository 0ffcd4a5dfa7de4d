"""Server-side inline SVG: the weekly mileage bar chart and the feed's QR code."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta

import segno
from markupsafe import Markup, escape

from service.planning.picture import M_PER_KM, M_PER_MI, WeekMileage

WIDTH, HEIGHT = 360, 200
LEFT, RIGHT, TOP, BOTTOM = 4, 4, 20, 38
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM


def per_unit(metres: float, units: str) -> float:
    """Metres in the runner's unit (km or mi)."""
    return metres / (M_PER_MI if units == "mi" else M_PER_KM)


def _scale_top(values: Sequence[float]) -> float:
    """A round maximum for the axis, so bars do not touch the top and 0 stays meaningful."""
    peak = max([*values, 1.0])
    step = 10.0 ** math.floor(math.log10(peak))
    for factor in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if peak <= factor * step:
            return factor * step
    return 10 * step  # pragma: no cover - the loop always returns


def _bar(index: int, week: WeekMileage, *, value: float, top: float, units: str, now: bool) -> str:
    slot = (WIDTH - LEFT - RIGHT) / 12
    width, x = slot * 0.68, LEFT + index * slot + slot * 0.16
    height = PLOT_HEIGHT * value / top
    y = TOP + PLOT_HEIGHT - height
    centre = x + width / 2
    so_far = " so far" if now else ""
    tip = f"Week of {week.week_start:%-d %b}: {value:.1f} {units}{so_far} in {week.runs} runs"
    label_y = y - 4
    return (
        f'<rect class="bar{" bar-now" if now else ""}" x="{x:.1f}" y="{y:.1f}" '
        f'width="{width:.1f}" height="{max(height, 0.5):.1f}" rx="2">'
        f"<title>{escape(tip)}</title></rect>"
        f'<text class="value" x="{centre:.1f}" y="{label_y:.1f}">{value:.0f}</text>'
        f'<text class="day" x="{centre:.1f}" y="{HEIGHT - BOTTOM + 16}">'
        f"{week.week_start.day}</text>"
    )


def _month_labels(weeks: Sequence[WeekMileage]) -> str:
    """The month's short name under the first bar and wherever a new month starts."""
    slot = (WIDTH - LEFT - RIGHT) / 12
    out, last = [], None
    for index, week in enumerate(weeks):
        if week.week_start.month != last:
            last = week.week_start.month
            x = LEFT + index * slot + slot * 0.16
            out.append(
                f'<text class="month" x="{x:.1f}" y="{HEIGHT - 4}">{week.week_start:%b}</text>'
            )
    return "".join(out)


def mileage_chart(
    weeks: Sequence[WeekMileage], *, units: str, avg4_m: float, today: date
) -> Markup:
    """Bars of weekly distance (the week holding today marked), with the 4-week average line."""
    values = [per_unit(w.distance_m, units) for w in weeks]
    average = per_unit(avg4_m, units)
    top = _scale_top([*values, average])
    bars = "".join(
        _bar(
            i,
            w,
            value=v,
            top=top,
            units=units,
            now=w.week_start <= today < w.week_start + timedelta(days=7),
        )
        for i, (w, v) in enumerate(zip(weeks, values, strict=True))
    )
    avg_y = TOP + PLOT_HEIGHT * (1 - average / top)
    summary = "; ".join(
        f"week of {w.week_start:%-d %b}: {v:.1f} {units}"
        for w, v in zip(weeks, values, strict=True)
    )
    title = f"Weekly running distance in {units}, last {len(weeks)} weeks"
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="chart-title">{escape(title)}</title>'
        f'<desc id="chart-desc">{escape(summary)}; 4-week average {average:.1f} {units}.</desc>'
        f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + PLOT_HEIGHT}" '
        f'y2="{TOP + PLOT_HEIGHT}"/>'
        f"{bars}{_month_labels(weeks)}"
        f'<line class="average" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{avg_y:.1f}" '
        f'y2="{avg_y:.1f}"><title>4-week average: {average:.1f} {units}</title></line>'
        "</svg>"
    )


def qr_svg(data: str, *, title: str) -> Markup:
    """A QR code as inline SVG with a light quiet zone, so it scans in dark mode too."""
    code = segno.make(data, error="m")
    svg = code.svg_inline(
        scale=4, border=4, dark="#000", light="#fff", omitsize=True, title=title, svgclass="qr"
    )
    label = str(escape(title))
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1))
