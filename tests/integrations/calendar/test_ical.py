"""The iCal feed renderer, checked at the byte level, by vobject and by a real Radicale server."""

# Non-ASCII look-alikes such as the en dash are the point here: they are multi-byte in UTF-8.
# ruff: noqa: RUF001

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import vobject
from hypothesis import given, settings
from hypothesis import strategies as st

from integrations.calendar import ical
from integrations.calendar.ical import render_calendar
from integrations.types import CalendarEvent
from tests.radicale import Radicale

BERLIN = ZoneInfo("Europe/Berlin")
REVISED = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
GERMAN = "Übungen – Schulterdrücken ✓"
EXERCISES = "3×10 Schulterdrücken; 3×12 Rudern, Plank 3×45 s\nC:\\Notes \\n bleibt so"


def event(uid: str = "rs-7f3a", **changes: Any) -> CalendarEvent:
    base = CalendarEvent(
        uid=uid,
        # The DST switch in Berlin: 18:00 local is 16:00 UTC that evening.
        start=datetime(2026, 3, 29, 18, 0, tzinfo=BERLIN),
        end=datetime(2026, 3, 29, 18, 45, tzinfo=BERLIN),
        summary=GERMAN,
        description=EXERCISES,
        categories=("upper_body", "Kraft, Oberkörper"),
        revised=REVISED,
        sequence=3,
        url="https://runstrength.example/s/7f3a?week=13&view=full",
    )
    return replace(base, **changes)


def week() -> list[CalendarEvent]:
    return [
        event("rs-b", start=datetime(2026, 3, 31, 7, 0, tzinfo=BERLIN),
              end=datetime(2026, 3, 31, 7, 30, tzinfo=BERLIN), summary="Core", description="",
              categories=("core",), url=None, sequence=0),
        event("rs-a"),
        event("rs-c", start=datetime(2026, 3, 31, 7, 0, tzinfo=BERLIN),
              end=datetime(2026, 3, 31, 8, 0, tzinfo=BERLIN), summary="Rad, locker",
              categories=("cross_training",)),
    ]  # fmt: skip


def render(events: list[CalendarEvent] | None = None, **options: Any) -> bytes:
    kwargs: dict[str, Any] = {"name": "Kraft – Anna", "timezone": "Europe/Berlin", **options}
    return render_calendar(week() if events is None else events, **kwargs)


def parse(feed: bytes) -> Any:
    calendar = vobject.readOne(feed.decode("utf-8"), validate=True)
    calendar.validate(raiseException=True)
    return calendar


def content_lines(feed: bytes) -> list[str]:
    """Unfold (RFC 5545 3.1) and split into logical content lines."""
    return feed.decode("utf-8").replace("\r\n ", "").replace("\r\n\t", "").split("\r\n")[:-1]


def values(feed: bytes, name: str) -> list[str]:
    return [line.split(":", 1)[1] for line in content_lines(feed) if line.split(":")[0] == name]


def vevents(feed: bytes) -> list[Any]:
    return list(parse(feed).vevent_list)


# --- structure ---------------------------------------------------------------------------------


def test_calendar_properties_appear_once_and_there_is_no_method() -> None:
    lines = content_lines(render())

    assert lines[0] == "BEGIN:VCALENDAR"
    assert lines[-1] == "END:VCALENDAR"
    for line in (
        "VERSION:2.0",
        "PRODID:-//runstrength//runstrength//EN",
        "CALSCALE:GREGORIAN",
        "NAME:Kraft – Anna",
        "X-WR-CALNAME:Kraft – Anna",
        "X-WR-TIMEZONE:Europe/Berlin",
        "REFRESH-INTERVAL;VALUE=DURATION:PT6H",
        "X-PUBLISHED-TTL:PT6H",
    ):
        assert lines.count(line) == 1, line
    assert not [line for line in lines if re.match(r"METHOD[;:]", line)]
    assert not [line for line in lines if line.startswith(("REFRESH-INTERVAL:", "TZID"))]


def test_the_feed_passes_vobject_validation() -> None:
    calendar = parse(render())

    assert calendar.version.value == "2.0"
    assert calendar.contents["refresh-interval"][0].params == {"VALUE": ["DURATION"]}
    assert len(calendar.vevent_list) == 3


def test_each_event_is_timed_in_utc_with_its_revision_as_dtstamp() -> None:
    (first, *_) = vevents(render([event()]))

    assert first.uid.value == "rs-7f3a"
    assert first.dtstart.value == datetime(2026, 3, 29, 16, 0, tzinfo=UTC)
    assert first.dtend.value == datetime(2026, 3, 29, 16, 45, tzinfo=UTC)
    assert first.dtstart.value.utcoffset() == timedelta(0)
    assert first.dtstamp.value == REVISED
    assert first.last_modified.value == REVISED
    assert first.sequence.value == "3"
    assert first.summary.value == GERMAN
    assert first.description.value == EXERCISES
    assert first.categories.value == ["upper_body", "Kraft, Oberkörper"]
    assert first.url.value == "https://runstrength.example/s/7f3a?week=13&view=full"
    assert first.status.value == "CONFIRMED"
    assert first.transp.value == "OPAQUE"
    assert "duration" not in first.contents
    feed = render([event()])
    assert values(feed, "DTSTART") == ["20260329T160000Z"]
    assert values(feed, "DTEND") == ["20260329T164500Z"]
    assert values(feed, "DTSTAMP") == values(feed, "LAST-MODIFIED") == ["20260301T093000Z"]


def test_optional_text_is_left_out_when_empty() -> None:
    feed = render([event(summary="", description="", categories=("", "\x00"), url=None)])

    assert not [line for line in content_lines(feed) if line.startswith(("SUMMARY", "DESC"))]
    assert not [line for line in content_lines(feed) if line.startswith(("CATEGORIES", "URL"))]
    parse(feed)


def test_events_are_sorted_by_start_then_uid() -> None:
    forwards = render(week())

    assert values(forwards, "UID") == ["rs-a", "rs-b", "rs-c"]
    assert render(list(reversed(week()))) == forwards


def test_an_empty_feed_is_still_a_valid_calendar() -> None:
    feed = render([])

    assert parse(feed).contents.get("vevent") is None
    assert values(feed, "X-WR-CALNAME") == ["Kraft – Anna"]


# --- determinism -------------------------------------------------------------------------------


class _LaterClock(datetime):
    """A datetime whose clock reads 2031: a renderer that asked for "now" would show it."""

    @classmethod
    def now(cls, tz: Any = None) -> Any:
        return datetime(2031, 7, 4, 12, 0, tzinfo=UTC).astimezone(tz)

    @classmethod
    def utcnow(cls) -> Any:
        return datetime(2031, 7, 4, 12, 0)


def test_rendering_at_another_wall_time_gives_identical_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = render()
    monkeypatch.setattr(ical, "datetime", _LaterClock)
    second = render()

    assert second == first
    assert set(values(second, "DTSTAMP")) == {"20260301T093000Z"}


# --- bytes: line endings, folding, escaping ----------------------------------------------------


def physical_lines(feed: bytes) -> list[bytes]:
    assert feed.endswith(b"\r\n")
    return feed[:-2].split(b"\r\n")


def long_event() -> CalendarEvent:
    return event(
        summary=(GERMAN + " ") * 6,
        description="\n".join([EXERCISES] * 12) + "🏋️‍♀️" * 40,
        categories=tuple(f"Kategorie {n}, mit Komma; und Ü" for n in range(8)),
    )


def test_every_line_ends_with_crlf_and_no_bare_cr_or_lf_remains() -> None:
    feed = render([long_event(), *week()])

    assert feed.endswith(b"\r\n")
    assert b"\n" not in feed.replace(b"\r\n", b"")
    assert b"\r" not in feed.replace(b"\r\n", b"")


@pytest.mark.parametrize("pad", range(4))
def test_lines_fold_at_75_octets_without_splitting_a_character(pad: int) -> None:
    # The padding shifts the multi-byte characters across every position of the fold.
    feed = render([replace(long_event(), summary="x" * pad + (GERMAN + "🏃") * 9)])

    for line in physical_lines(feed):
        assert len(line) <= 75, line
        line.decode("utf-8")  # strict: a split character would leave a partial sequence
    assert parse(feed).vevent.summary.value == "x" * pad + (GERMAN + "🏃") * 9
    assert any(len(line) >= 72 for line in physical_lines(feed))  # folding was really exercised


def test_folding_never_separates_an_escape_from_its_backslash() -> None:
    for pad in range(4):
        feed = render([event(description="y" * pad + "\\,;\n" * 60)])

        for line in physical_lines(feed):
            trailing = len(line) - len(line.rstrip(b"\\"))
            assert trailing % 2 == 0, line


def test_text_is_escaped_per_rfc5545() -> None:
    feed = render([event(summary="a, b; c\\ d\ne", description="C:\\Notes\\new")])

    assert values(feed, "SUMMARY") == ["a\\, b\\; c\\\\ d\\ne"]
    # icalendar 7.3 would turn this backslash-N into a line break: ours keeps it.
    assert values(feed, "DESCRIPTION") == ["C:\\\\Notes\\\\new"]
    assert values(feed, "CATEGORIES") == ["upper_body,Kraft\\, Oberkörper"]
    assert parse(feed).vevent.description.value == "C:\\Notes\\new"


def test_line_breaks_are_normalised_and_control_characters_dropped() -> None:
    feed = render([event(summary="eins\r\nzwei\rdrei\x00\x07\x1b\x7f\tvier")])

    assert values(feed, "SUMMARY") == ["eins\\nzwei\\ndrei\tvier"]
    assert parse(feed).vevent.summary.value == "eins\nzwei\ndrei\tvier"


# --- busy feed ---------------------------------------------------------------------------------


def test_the_busy_feed_carries_no_exercise_text() -> None:
    full, busy = render(), render(busy=True)

    def event_text(feed: bytes) -> str:
        lines = content_lines(feed)
        return "\n".join(lines[lines.index("BEGIN:VEVENT") :])

    for secret in ("Schulterdrücken", "Kraft", "Oberkörper", "upper_body", "Core", "Rad",
                   "runstrength.example", "Notes"):  # fmt: skip
        assert secret in event_text(full)
        assert secret not in event_text(busy)
    assert set(values(busy, "SUMMARY")) == {"Busy"}
    for name in ("DESCRIPTION", "CATEGORIES", "URL"):
        assert values(busy, name) == []
    parse(busy)


def test_the_busy_feed_keeps_uids_times_and_revisions() -> None:
    full, busy = render(), render(busy=True)

    for name in ("UID", "DTSTART", "DTEND", "DTSTAMP", "LAST-MODIFIED", "SEQUENCE", "TRANSP"):
        assert values(busy, name) == values(full, name), name


# --- refresh interval --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "written"),
    [
        (timedelta(hours=6), "PT6H"),
        (timedelta(minutes=90), "PT1H30M"),
        (timedelta(hours=1, seconds=5), "PT1H0M5S"),
        (timedelta(minutes=2, seconds=30), "PT2M30S"),
        (timedelta(seconds=45), "PT45S"),
        (timedelta(days=1), "P1D"),
        (timedelta(days=1, hours=2), "P1DT2H"),
    ],
)
def test_the_refresh_interval_is_a_duration_value(interval: timedelta, written: str) -> None:
    feed = render(refresh=interval)

    assert values(feed, "REFRESH-INTERVAL;VALUE=DURATION") == [written]
    assert values(feed, "X-PUBLISHED-TTL") == [written]
    assert vobject.icalendar.stringToDurations(written) == [interval]


# --- rejected input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("events", "options", "message"),
    [
        ([event(start=datetime(2026, 3, 29, 18, 0))], {}, "naive"),
        ([event(revised=datetime(2026, 3, 1))], {}, "naive"),
        ([event(end=datetime(2026, 3, 29, 18, 0, tzinfo=BERLIN))], {}, "ends before"),
        ([event(), event()], {}, "duplicate UID"),
        ([event(uid="")], {}, "UID"),
        ([event(uid=" rs-1")], {}, "UID"),
        ([event(uid="rs\n1")], {}, "UID"),
        ([event(url="https://x.example/a b")], {}, "URL"),
        ([event(url="")], {}, "URL"),
        ([event(sequence=-1)], {}, "SEQUENCE"),
        ([event(sequence=2**31)], {}, "SEQUENCE"),
        ([event(url="https://x.example/a b")], {"busy": True}, "URL"),
        ([event()], {"timezone": "Mars/Olympus_Mons"}, "time zone"),
        ([event()], {"timezone": "../../etc/passwd"}, "time zone"),
        ([event()], {"name": "\x00"}, "name"),
        ([event()], {"refresh": timedelta(0)}, "refresh"),
        ([event()], {"refresh": timedelta(seconds=1.5)}, "refresh"),
    ],
)
def test_unusable_input_is_rejected(
    events: list[CalendarEvent], options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        render(events, **options)


# --- properties --------------------------------------------------------------------------------

CONTROL = [chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F)]
# Bounded: vobject re-copies every folded line while parsing, so huge texts only cost time.
clean_text = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters=CONTROL), max_size=400
)


@settings(max_examples=300, deadline=None)
@given(summary=clean_text, description=clean_text, category=clean_text)
def test_arbitrary_unicode_text_round_trips_through_vobject(
    summary: str, description: str, category: str
) -> None:
    feed = render([event(summary=summary, description=description, categories=(category,))])

    for line in physical_lines(feed):
        assert len(line) <= 75
        line.decode("utf-8")
    parsed = parse(feed).vevent
    assert (parsed.summary.value if summary else None) == (summary or None)
    if description:
        assert parsed.description.value == description
    else:
        assert "description" not in parsed.contents
    if category:
        assert parsed.categories.value == [category]


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=400))
def test_any_text_yields_a_valid_feed_with_line_breaks_normalised(text: str) -> None:
    feed = render([event(summary="s", description=text)])

    parsed = parse(feed).vevent
    expected = re.sub(
        r"[\x00-\x08\x0b-\x1f\x7f]", "", text.replace("\r\n", "\n").replace("\r", "\n")
    )
    expected = re.sub(r"[\ud800-\udfff]", "\ufffd", expected)
    assert (parsed.description.value if "description" in parsed.contents else "") == expected


# --- a real CalDAV server (fixture: tests/conftest.py) --------------------------------------


def test_radicale_stores_the_feed_with_the_same_uids_and_utc_times(radicale: Radicale) -> None:
    feed = render()

    path, status = radicale.put_feed(feed)
    assert 200 <= status < 300
    status, stored = radicale.request("GET", path)
    assert status == 200
    events = {e.uid.value: e for e in vevents(stored)}
    assert sorted(events) == ["rs-a", "rs-b", "rs-c"]
    assert events["rs-a"].dtstart.value == datetime(2026, 3, 29, 16, 0, tzinfo=UTC)
    assert events["rs-b"].dtend.value == datetime(2026, 3, 31, 5, 30, tzinfo=UTC)
    assert events["rs-a"].summary.value == GERMAN
    assert events["rs-a"].description.value == EXERCISES


def test_radicale_finds_events_by_their_utc_time_range(radicale: Radicale) -> None:
    path, status = radicale.put_feed(render())
    assert 200 <= status < 300
    query = b"""<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><C:calendar-data/></D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">
    <C:time-range start="20260329T155900Z" end="20260329T160100Z"/>
  </C:comp-filter></C:comp-filter></C:filter>
</C:calendar-query>"""

    status, answer = radicale.request(
        "REPORT", path, query, {"Depth": "1", "Content-Type": "application/xml"}
    )

    assert status == 207
    assert re.findall(rb"UID:(\S+)", answer) == [b"rs-a"]


def test_radicale_accepts_the_busy_feed_a_long_feed_and_an_empty_one(radicale: Radicale) -> None:
    for feed in (render(busy=True), render([long_event(), *week()[:1]]), render([])):
        _, status = radicale.put_feed(feed)
        assert 200 <= status < 300


@pytest.mark.parametrize(
    "broken",
    [
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VCALENDAR\r\n",
        render([event()]).replace(b"DTSTART:20260329T160000Z", b"DTSTART:2026-03-29 18:00"),
    ],
)
def test_radicale_rejects_a_broken_calendar(radicale: Radicale, broken: bytes) -> None:
    _, status = radicale.put_feed(broken)

    assert status == 400
