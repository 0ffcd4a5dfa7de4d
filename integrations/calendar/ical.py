"""Render CalendarEvents as a subscribable iCalendar feed (RFC 5545 with RFC 7986 properties).

The serializer is written here rather than with icalendar: icalendar 7.3's TEXT escaping turns
a literal backslash-N into a line break, so text like ``C:\\Notes`` would not survive.

Decisions:
- No METHOD: the feed is a snapshot, and METHOD:PUBLISH would require ORGANIZER (RFC 5546 3.2.1).
- Timed events only, in UTC (``...Z``), so no VTIMEZONE is needed (RFC 5545 3.3.5, form #2).
- DTSTAMP and LAST-MODIFIED are ``revised``: without METHOD, DTSTAMP is the last revision in the
  store, never "now" (RFC 5545 3.8.7.2), which also keeps the bytes identical between renders.
- The busy feed keeps every UID: it is served at its own URL and subscribed to as a calendar of
  its own, and UIDs need only be unique within a calendar collection (RFC 4791 5.3.2).
- Text is cleaned, not rejected: CR LF and lone CR become LF, other control characters (which
  TEXT forbids, RFC 5545 3.3.11) are dropped and lone surrogates become U+FFFD. UIDs and URLs are
  identifiers, so bad ones raise ValueError instead.
- A feed with no events is still rendered with no components; RFC 5545 3.6 asks for at least one,
  but clients accept an empty subscribed calendar and that is the truthful answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from integrations.types import CalendarEvent

PRODID = "-//runstrength//runstrength//EN"
BUSY_SUMMARY = "Busy"
MAX_LINE_OCTETS = 75  # RFC 5545 3.1, excluding the CRLF
MAX_INTEGER = 2**31 - 1  # RFC 5545 3.3.8

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # every CONTROL except HTAB and LF
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_BAD_UID = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_BAD_URL = re.compile(r"[\x00-\x20\x7f\ud800-\udfff]")
# An escape pair counts as one unit so folding never separates it from its backslash: RFC 5545
# allows that split, but icalendar avoids it too, for clients that mishandle it (its issue #1501).
_FOLD_UNIT = re.compile(r"\\.|.", re.DOTALL)


def render_calendar(
    events: Sequence[CalendarEvent],
    *,
    name: str,
    timezone: str,
    refresh: timedelta = timedelta(hours=6),
    busy: bool = False,
) -> bytes:
    """Return the UTF-8 bytes of one VCALENDAR holding ``events``; same input, same bytes.

    ``busy=True`` renders every event as "Busy" with no description, categories or URL.
    """
    calendar_name = _clean(name)
    if not calendar_name:
        raise ValueError("calendar name is empty")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"not an IANA time zone: {timezone!r}") from exc
    interval = _duration(refresh)

    ordered = sorted(events, key=lambda event: (_utc(event.start), event.uid))
    seen: set[str] = set()
    for event in ordered:
        if event.uid in seen:
            raise ValueError(f"duplicate UID {event.uid!r}")
        seen.add(event.uid)

    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{_escape(PRODID)}",
        "CALSCALE:GREGORIAN",
        f"NAME:{_escape(calendar_name)}",
        f"X-WR-CALNAME:{_escape(calendar_name)}",
        f"X-WR-TIMEZONE:{_escape(timezone)}",
        # RFC 7986 5.7 makes VALUE=DURATION mandatory on REFRESH-INTERVAL.
        f"REFRESH-INTERVAL;VALUE=DURATION:{interval}",
        f"X-PUBLISHED-TTL:{interval}",
    ]
    for event in ordered:
        lines.extend(_event_lines(event, busy=busy))
    lines.append("END:VCALENDAR")
    return b"".join(_fold(line) for line in lines)


def _event_lines(event: CalendarEvent, *, busy: bool) -> list[str]:
    if not event.uid or event.uid != event.uid.strip() or _BAD_UID.search(event.uid):
        raise ValueError(f"unusable UID {event.uid!r}")
    start, end = _utc(event.start), _utc(event.end)
    if end <= start:
        raise ValueError(f"event {event.uid!r} ends before it starts")
    if not 0 <= event.sequence <= MAX_INTEGER:
        raise ValueError(f"event {event.uid!r} has SEQUENCE {event.sequence} out of range")
    if event.url is not None and (not event.url or _BAD_URL.search(event.url)):
        raise ValueError(f"event {event.uid!r} has an unusable URL {event.url!r}")
    revised = _stamp(_utc(event.revised))
    lines = [
        "BEGIN:VEVENT",
        f"UID:{_escape(event.uid)}",
        f"DTSTAMP:{revised}",
        f"LAST-MODIFIED:{revised}",
        f"SEQUENCE:{event.sequence}",
        f"DTSTART:{_stamp(start)}",
        f"DTEND:{_stamp(end)}",
    ]
    if busy:
        lines.append(f"SUMMARY:{BUSY_SUMMARY}")
    else:
        lines.extend(_details(event))
    lines.extend(["STATUS:CONFIRMED", "TRANSP:OPAQUE", "END:VEVENT"])
    return lines


def _details(event: CalendarEvent) -> Iterable[str]:
    if summary := _clean(event.summary):
        yield f"SUMMARY:{_escape(summary)}"
    if description := _clean(event.description):
        yield f"DESCRIPTION:{_escape(description)}"
    # One CATEGORIES line, values split by unescaped commas (RFC 5545 3.8.1.2).
    if categories := [_escape(c) for c in map(_clean, event.categories) if c]:
        yield f"CATEGORIES:{','.join(categories)}"
    if event.url is not None:
        yield f"URL:{event.url}"  # a URI value: no TEXT escaping (RFC 5545 3.3.13)


def _clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _SURROGATE.sub("\ufffd", _CONTROL.sub("", text))


def _escape(text: str) -> str:
    """TEXT escaping (RFC 5545 3.3.11); the backslash goes first so nothing is escaped twice."""
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: floating times shift in clients")
    return moment.astimezone(UTC).replace(microsecond=0)


def _stamp(moment: datetime) -> str:
    """A UTC DATE-TIME (RFC 5545 3.3.5 form #2); years are zero-padded to four digits."""
    return (
        f"{moment.year:04d}{moment.month:02d}{moment.day:02d}"
        f"T{moment.hour:02d}{moment.minute:02d}{moment.second:02d}Z"
    )


def _duration(span: timedelta) -> str:
    """A positive whole-second DURATION (RFC 5545 3.3.6), e.g. PT6H, P1DT2H, PT1H0M5S."""
    if span <= timedelta(0) or span.microseconds:
        raise ValueError(f"refresh interval must be a positive whole number of seconds: {span}")
    days, seconds = span.days, span.seconds
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    # The grammar chains H -> M -> S: after hours, seconds need the minutes written out.
    time = ""
    if hours:
        time = f"{hours}H"
        if minutes or seconds:
            time += f"{minutes}M"
    elif minutes:
        time = f"{minutes}M"
    if seconds:
        time += f"{seconds}S"
    return "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "")


def _fold(line: str) -> bytes:
    """Encode one content line, folded at 75 octets without splitting a character (RFC 5545 3.1)."""
    out = bytearray()
    width = 0
    for unit in _FOLD_UNIT.findall(line):
        data = unit.encode("utf-8")
        if width + len(data) > MAX_LINE_OCTETS:
            out += b"\r\n "
            width = 1
        out += data
        width += len(data)
    out += b"\r\n"
    return bytes(out)
