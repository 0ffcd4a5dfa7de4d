"""Generate the demo data set: 12 weeks of one Berlin runner's training, ending Sunday 2026-11-22.

Deterministic (fixed seed, gzip mtime 0, fixed zip dates): running it again rewrites the same
bytes. Writes activities/ (GPX, TCX, gzipped, one zip), expected.json and README.md.
Distances are great-circle sums with R = 6378137 m, the radius runstrength's GPX reader uses;
TCX laps carry the same sums as DistanceMeters, as a watch would.

    python tests/data/sample/make_sample.py
"""

from __future__ import annotations

import gzip
import io
import json
import math
import random
import zipfile
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
OUT = HERE / "activities"
SEED = 20261122
TZ = ZoneInfo("Europe/Berlin")
LAST_SUNDAY = date(2026, 11, 22)
FIRST_MONDAY = LAST_SUNDAY - timedelta(days=83)
WEEKS = 12
EARTH_RADIUS_M = 6378137.0
STEP_S = 5  # one point every 5 seconds, like a watch in 1-in-5 recording
ZIP_NAME = "watch-export.zip"
ZIP_DATE = (2026, 11, 23, 8, 0, 0)

# Long runs grow from 14 to 24 km; every 4th week is a lighter week.
LONG_KM = [14, 15, 17, 13, 17, 19, 21, 15, 20, 22, 24, 16]
EASY_KM = {  # Monday, Wednesday, Thursday
    "normal": (6.0, 7.0, 6.0),
    "down": (5.0, 6.0, 5.0),
    "peak": (5.0, 7.0, 5.0),
}
RIDE_WEEKS = {2: 38.0, 4: 30.0, 6: 42.0, 9: 35.0}  # week number (1-based): km, on Saturday
SWIM_WEEKS = {1: 1.6, 3: 1.8, 5: 2.0}  # Friday evening lake swims while the water is warm
WALK_WEEK = 10  # one Saturday afternoon walk
PLACES = {  # centre (lat, lon) and loop radius in metres
    "easy": ((52.5145, 13.3501), 600.0),  # Tiergarten
    "intervals": ((52.4737, 13.4018), 420.0),  # Tempelhofer Feld
    "long": ((52.4880, 13.2600), 1800.0),  # Grunewald
    "ride": ((52.4400, 13.2000), 6000.0),
    "swim": ((52.4330, 13.2140), 160.0),  # Schlachtensee
    "walk": ((52.5145, 13.3501), 900.0),
}


@dataclass(frozen=True)
class Plan:
    """One planned activity: what, when (local), and its parts as (metres, seconds per km)."""

    kind: str
    sport_label: str
    local_start: datetime
    parts: tuple[tuple[float, float], ...]
    title: str


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float
    ele: float
    utc: datetime
    cumulative_m: float
    part: int


def week_plans(rng: random.Random, week: int) -> list[Plan]:
    """The activities of one week (1-based), Monday to Sunday."""
    monday = FIRST_MONDAY + timedelta(weeks=week - 1)
    down = week % 4 == 0
    easy = EASY_KM["down" if down else "peak" if week in (10, 11) else "normal"]
    reps = 4 if down else 5
    plans = [
        _run(rng, monday, "18:30", "easy", easy[0], title="Easy run"),
        _intervals(rng, monday + timedelta(days=1), reps),
        _run(rng, monday + timedelta(days=2), "07:00", "easy", easy[1], title="Easy morning run"),
        _run(rng, monday + timedelta(days=3), "18:30", "easy", easy[2], title="Easy run"),
    ]
    if week in SWIM_WEEKS:
        when = _local(rng, monday + timedelta(days=4), "17:30")
        plans.append(
            Plan("swim", "swimming", when, ((SWIM_WEEKS[week] * 1000, 1500.0),), "Lake swim")
        )
    if week in RIDE_WEEKS:
        when = _local(rng, monday + timedelta(days=5), "10:00")
        plans.append(Plan("ride", "Biking", when, ((RIDE_WEEKS[week] * 1000, 140.0),), "Ride"))
    if week == WALK_WEEK:
        when = _local(rng, monday + timedelta(days=5), "14:00")
        plans.append(Plan("walk", "walking", when, ((6000.0, 720.0),), "Afternoon walk"))
    plans.append(
        _run(rng, monday + timedelta(days=6), "09:00", "long", LONG_KM[week - 1], title="Long run")
    )
    return plans


def _local(rng: random.Random, day: date, hhmm: str) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    start = datetime.combine(day, time(hours, minutes), tzinfo=TZ)
    return start + timedelta(seconds=rng.randint(0, 6 * 60))


def _run(rng: random.Random, day: date, hhmm: str, kind: str, km: float, *, title: str) -> Plan:
    pace = rng.uniform(335, 355) if kind == "easy" else rng.uniform(345, 360)
    return Plan(kind, "running", _local(rng, day, hhmm), ((km * 1000, pace),), title)


def _intervals(rng: random.Random, day: date, reps: int) -> Plan:
    parts: list[tuple[float, float]] = [(2000.0, 350.0)]
    for rep in range(reps):
        parts.append((800.0, rng.uniform(245, 255)))
        if rep < reps - 1:
            parts.append((400.0, 390.0))
    parts.append((1500.0, 355.0))
    title = f"Intervals {reps} x 800 m"
    return Plan("intervals", "running", _local(rng, day, "18:30"), tuple(parts), title)


def loop_polyline(kind: str, phase: float) -> tuple[list[tuple[float, float]], list[float]]:
    """A closed, wobbly loop around the place's centre, with cumulative lengths in metres."""
    (lat0, lon0), radius = PLACES[kind]
    vertices = []
    for i in range(721):
        theta = 2 * math.pi * i / 720
        r = radius * (1 + 0.12 * math.sin(3 * theta + phase))
        north, east = r * math.sin(theta), r * math.cos(theta)
        lat = lat0 + math.degrees(north / EARTH_RADIUS_M)
        lon = lon0 + math.degrees(east / (EARTH_RADIUS_M * math.cos(math.radians(lat0))))
        vertices.append((lat, lon))
    lengths = [0.0]
    for a, b in pairwise(vertices):
        lengths.append(lengths[-1] + haversine_m(a, b))
    return vertices, lengths


def haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lat2 = math.radians(a[0]), math.radians(b[0])
    dlat, dlon = lat2 - lat1, math.radians(b[1] - a[1])
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h)))


def position_at(
    vertices: list[tuple[float, float]], lengths: list[float], s: float
) -> tuple[float, float, float]:
    """Latitude, longitude and loop angle (0..1) at arc length ``s`` (wrapping around)."""
    s %= lengths[-1]
    lo, hi = 0, len(lengths) - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if lengths[mid] <= s else (lo, mid)
    f = (s - lengths[lo]) / (lengths[hi] - lengths[lo])
    (a_lat, a_lon), (b_lat, b_lon) = vertices[lo], vertices[hi]
    return a_lat + f * (b_lat - a_lat), a_lon + f * (b_lon - a_lon), lo / 720


def simulate(rng: random.Random, plan: Plan) -> list[Point]:
    """Points every STEP_S seconds along the loop, with pace noise and about 1.5 m GPS noise."""
    vertices, lengths = loop_polyline(plan.kind, rng.uniform(0, 2 * math.pi))
    noise_m = {"swim": 0.4, "walk": 0.7}.get(plan.kind, 1.5)  # watches smooth slow tracks more
    utc = plan.local_start.astimezone(UTC)
    points: list[Point] = []
    travelled, part_index, part_left = 0.0, 0, plan.parts[0][0]
    while True:
        lat, lon, angle = position_at(vertices, lengths, travelled)
        lat += math.degrees(rng.gauss(0, noise_m) / EARTH_RADIUS_M)
        lon += math.degrees(rng.gauss(0, noise_m) / (EARTH_RADIUS_M * math.cos(math.radians(lat))))
        ele = (
            0.0
            if plan.kind == "swim"
            else 38 + 6 * math.sin(2 * math.pi * angle) + rng.gauss(0, 0.3)
        )
        cumulative = (
            points[-1].cumulative_m + haversine_m((points[-1].lat, points[-1].lon), (lat, lon))
            if points
            else 0.0
        )
        points.append(Point(lat, lon, ele, utc, cumulative, part_index))
        if part_index == len(plan.parts) - 1 and part_left <= 0:
            return points
        step = STEP_S * 1000 / plan.parts[part_index][1] * rng.uniform(0.96, 1.04)
        travelled += step
        part_left -= step
        if part_left <= 0 and part_index < len(plan.parts) - 1:
            part_index += 1
            part_left += plan.parts[part_index][0]
        utc += timedelta(seconds=STEP_S)


def gpx_document(plan: Plan, points: list[Point]) -> str:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<gpx creator="runstrength sample generator" version="1.1" xmlns="http://www.topografix.com/GPX/1/1">',
        f" <metadata><time>{_z(points[0].utc)}</time></metadata>",
        f" <trk>\n  <name>{plan.title}</name>\n  <type>{plan.sport_label}</type>\n  <trkseg>",
    ]
    for p in points:
        ele = f"<ele>{p.ele:.1f}</ele>" if plan.kind != "swim" else ""
        lines.append(
            f'   <trkpt lat="{p.lat:.7f}" lon="{p.lon:.7f}">{ele}<time>{_z(p.utc)}</time></trkpt>'
        )
    lines.append("  </trkseg>\n </trk>\n</gpx>\n")
    return "\n".join(lines)


def tcx_document(plan: Plan, points: list[Point]) -> str:
    sport = {"running": "Running", "Biking": "Biking"}.get(plan.sport_label, "Other")
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">',
        f' <Activities>\n  <Activity Sport="{sport}">\n   <Id>{_z(points[0].utc, True)}</Id>',
    ]
    for lap in laps(plan, points):
        lines.extend(_tcx_lap(points, lap))
    lines.append("  </Activity>\n </Activities>\n</TrainingCenterDatabase>\n")
    return "\n".join(lines)


def laps(plan: Plan, points: list[Point]) -> list[tuple[int, int]]:
    """(first, next-first) point indices: one lap per part for intervals, else every 1 km."""
    if len(plan.parts) > 1:
        keys = [p.part for p in points]
    else:
        keys = [int(p.cumulative_m // 1000) for p in points]
    starts = [0] + [i for i in range(1, len(points)) if keys[i] != keys[i - 1]]
    ends = [*starts[1:], len(points) - 1]
    return [(a, b) for a, b in zip(starts, ends, strict=True) if b > a]


def _tcx_lap(points: list[Point], lap: tuple[int, int]) -> list[str]:
    first, nxt = lap
    seconds = (points[nxt].utc - points[first].utc).total_seconds()
    metres = points[nxt].cumulative_m - points[first].cumulative_m
    out = [
        f'   <Lap StartTime="{_z(points[first].utc, True)}">',
        f"    <TotalTimeSeconds>{seconds:.1f}</TotalTimeSeconds>",
        f"    <DistanceMeters>{metres:.2f}</DistanceMeters>",
        "    <Intensity>Active</Intensity>",
        "    <TriggerMethod>Distance</TriggerMethod>",
        "    <Track>",
    ]
    last = nxt + 1 if nxt == len(points) - 1 else nxt
    for p in points[first:last]:
        out.append(
            f"     <Trackpoint><Time>{_z(p.utc, True)}</Time><Position><LatitudeDegrees>{p.lat:.7f}"
            f"</LatitudeDegrees><LongitudeDegrees>{p.lon:.7f}</LongitudeDegrees></Position>"
            f"<AltitudeMeters>{p.ele:.1f}</AltitudeMeters><DistanceMeters>{p.cumulative_m:.1f}"
            "</DistanceMeters></Trackpoint>"
        )
    out.append("    </Track>\n   </Lap>")
    return out


def _z(moment: datetime, millis: bool = False) -> str:
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.000Z" if millis else f"{text}Z"


def gz(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0) as handle:
        handle.write(data)
    return buffer.getvalue()


def file_format(rng: random.Random, plan: Plan) -> str:
    """Mixed formats: cross-training as its app would export it, runs in any of four forms."""
    if plan.kind == "ride":
        return "tcx.gz"
    if plan.kind in ("swim", "walk"):
        return "gpx"
    return rng.choices(["gpx", "gpx.gz", "tcx.gz", "tcx"], weights=[30, 30, 28, 12])[0]


def main() -> None:
    rng, format_rng = random.Random(SEED), random.Random(SEED + 1)
    OUT.mkdir(exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    records, zipped = [], []
    for week in range(1, WEEKS + 1):
        for plan in week_plans(rng, week):
            points = simulate(rng, plan)
            fmt = file_format(format_rng, plan)
            name = f"{plan.local_start:%Y-%m-%d_%H%M}_{plan.kind}.{fmt}"
            text = (
                gpx_document(plan, points) if fmt.startswith("gpx") else tcx_document(plan, points)
            )
            data = gz(text.encode()) if fmt.endswith(".gz") else text.encode()
            if week == WEEKS:
                zipped.append((f"activities/{name}", data))
                name = f"{ZIP_NAME}/activities/{name}"
            else:
                (OUT / name).write_bytes(data)
            records.append(_record(plan, points, name, week))
    _write_zip(zipped)
    summary = _summary(records)
    (HERE / "expected.json").write_text(json.dumps(summary, indent=1) + "\n")
    (HERE / "README.md").write_text(readme(summary))
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"{len(records)} activities, {total / 1e6:.2f} MB in {OUT}")


@dataclass(frozen=True)
class Record:
    """One generated activity as expected.json lists it."""

    file: str
    week: int
    kind: str
    sport_label: str
    start_utc: str
    start_local: str
    distance_m: float
    elapsed_s: float


def _record(plan: Plan, points: list[Point], name: str, week: int) -> Record:
    return Record(
        file=name,
        week=week,
        kind=plan.kind,
        sport_label=plan.sport_label,
        start_utc=_z(points[0].utc),
        start_local=plan.local_start.isoformat(timespec="seconds"),
        distance_m=round(points[-1].cumulative_m, 2),
        elapsed_s=(points[-1].utc - points[0].utc).total_seconds(),
    )


def _write_zip(entries: list[tuple[str, bytes]]) -> None:
    with zipfile.ZipFile(OUT / ZIP_NAME, "w") as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = (
                zipfile.ZIP_STORED if name.endswith(".gz") else zipfile.ZIP_DEFLATED
            )
            info.external_attr = 0o100644 << 16
            archive.writestr(info, data)


def _summary(records: list[Record]) -> dict[str, Any]:
    weeks = []
    for week in range(1, WEEKS + 1):
        runs = [r.distance_m for r in records if r.week == week and r.sport_label == "running"]
        others = [r for r in records if r.week == week and r.sport_label != "running"]
        weeks.append(
            {
                "week_start": (FIRST_MONDAY + timedelta(weeks=week - 1)).isoformat(),
                "runs": len(runs),
                "run_km": round(sum(runs) / 1000, 2),
                "long_run_km": round(max(runs) / 1000, 2),
                "other": [f"{r.kind} {r.distance_m / 1000:.2f} km" for r in others],
            }
        )
    return {
        "timezone": "Europe/Berlin",
        "first_day": "monday",
        "weeks": weeks,
        "activities": [asdict(r) for r in records],
    }


def readme(summary: dict[str, Any]) -> str:
    rows = [
        f"| {i} | {w['week_start']} | {w['runs']} | {w['run_km']:.2f} | {w['long_run_km']:.2f}"
        f" | {', '.join(w['other']) or '-'} |"
        for i, w in enumerate(summary["weeks"], 1)
    ]
    total = sum(w["run_km"] for w in summary["weeks"])
    return README_TEMPLATE.format(
        count=len(summary["activities"]), rows="\n".join(rows), total=f"{total:.2f}"
    )


README_TEMPLATE = """# Sample data: 12 weeks of one runner

A generated, realistic training block for the demo and for end-to-end tests: one Berlin runner
(time zone Europe/Berlin), 12 weeks from Monday 2026-08-31 to Sunday 2026-11-22 (the end of
summer time on 2026-10-25 falls inside). Rebuild with `python tests/data/sample/make_sample.py`
(fixed seed: the same bytes every time). Everything below comes from `expected.json`, which the
generator writes from the very points it puts in the files.

- Runs: easy runs Monday 18:30, Wednesday 07:00, Thursday 18:30; intervals Tuesday 18:30
  (2 km warm-up, 800 m repeats at ~4:10/km with 400 m jogs, 1.5 km cool-down); long run
  Sunday 09:00 growing from 14 to 24 km, every 4th week lighter. Start times vary by up to
  6 minutes. Easy pace 5:35-5:55 min/km.
- Rest from running on Friday and Saturday; lake swims on some Fridays, rides on some Saturdays
  and one walk (week 10). These are not running mileage.
- Formats: GPX with `<type>running</type>` (some gzipped), TCX (some gzipped, laps as a watch
  writes them: per interval part or every km), and the last week inside `{zip}`.
  GPS points every 5 s with about 1.5 m of noise, loops around Tiergarten, Tempelhofer Feld
  and Grunewald.
- Distances: great-circle sums with R = 6378137 m (runstrength's GPX radius); TCX laps
  carry the same sums as DistanceMeters.

{count} activities. Weekly running distance (Monday to Sunday, local time):

| week | starts | runs | run km | long run km | not running |
| --- | --- | --- | --- | --- | --- |
{rows}

Total running: {total} km.
""".replace("{zip}", ZIP_NAME)


if __name__ == "__main__":
    main()
