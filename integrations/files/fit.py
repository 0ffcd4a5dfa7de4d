"""FIT reader: one ExternalActivity per session, from the session summaries the device wrote.

``read`` uses the fast scanner in fit_scan (bulk import speed); ``read_reference`` decodes the
whole file with fitdecode and must give identical results. Both feed the same raw messages to
``summarise``, which holds every rule:

- distance: session total_distance; without it, the larger of the sum of the session's laps
  (laps starting within the session) and the last record distance within the session's time
  span [start_time, start_time + total_elapsed_time];
- cut files: what precedes the cut counts (a message running past the last byte ends the
  walk); without a session message, one session is derived from its laps, records and file_id;
- utc_offset_s: activity.local_timestamp - activity.timestamp, when both are there;
- CRC: a bad CRC alone never rejects a file whose messages decode: the messages carry their own
  structure and a damaged byte almost always breaks the walk; the CRC is computed only to
  explain such a failure, because checking every file in pure Python costs more than the scan.
"""

from __future__ import annotations

import io
import logging
import math
from datetime import UTC, datetime, timedelta

import fitdecode
from fitdecode.profile import FIELD_TYPES

from integrations.errors import BadFile
from integrations.types import ExternalActivity, Sport

from .fit_scan import (
    ACTIVITY,
    FILE_ID,
    LAP,
    RECORD,
    SESSION,
    SPORT,
    TIMESTAMP,
    WANTED,
    Corrupt,
    Scan,
    crc_matches,
)
from .fit_scan import scan as scan_messages

log = logging.getLogger(__name__)

FIT_EPOCH = datetime(1989, 12, 31, tzinfo=UTC)
RELATIVE_LIMIT = 0x10000000  # date_time values below this count from the device's power-on
MAX_OFFSET_S = 14 * 3600  # UTC offsets run from -12:00 to +14:00; more is a device bug
ACTIVITY_FILE = 4  # file_id.type "activity"

SPORT_NAMES: dict[int, str] = dict(FIELD_TYPES["sport"].enum)
SUB_SPORT_NAMES: dict[int, str] = dict(FIELD_TYPES["sub_sport"].enum)
FILE_TYPE_NAMES: dict[int, str] = dict(FIELD_TYPES["file"].enum)

# FIT sport enum -> Sport (0 generic is UNKNOWN; numbers not listed are OTHER)
SPORTS: dict[int, Sport] = {
    0: Sport.UNKNOWN,  # generic
    1: Sport.RUN,  # running (sub_sport refines it below)
    2: Sport.RIDE,  # cycling
    5: Sport.SWIM,  # swimming
    11: Sport.WALK,  # walking
    17: Sport.HIKE,  # hiking
    21: Sport.RIDE,  # e_biking
}
RUN_SUB_SPORTS: dict[int, Sport] = {
    1: Sport.TREADMILL_RUN,  # treadmill
    3: Sport.TRAIL_RUN,  # trail
    45: Sport.TREADMILL_RUN,  # indoor_running
}


class NeedRecords(Exception):
    """The summary needs records beyond the first and last one the fast scan kept."""


def read(data: bytes) -> list[ExternalActivity]:
    """Read a FIT file fast; falls back to fitdecode for encodings the scanner does not handle."""
    if not data:
        raise BadFile("empty file")
    try:
        try:
            return summarise(scan_messages(data))
        except NeedRecords:
            return summarise(scan_messages(data, full=True))
    except Corrupt as exc:
        raise BadFile(explain(data, str(exc))) from None
    except BadFile:
        raise
    except Exception:
        log.debug("fast FIT scan gave up, decoding with fitdecode", exc_info=True)
        return read_reference(data)


def read_reference(data: bytes) -> list[ExternalActivity]:
    """Read a FIT file with fitdecode's full decode: slow, independent check of ``read``."""
    if not data:
        raise BadFile("empty file")
    try:
        return summarise(reference_scan(data))
    except BadFile:
        raise
    except Exception as exc:  # fitdecode raises assorted types on damaged input
        raise BadFile(explain(data, f"unreadable FIT file ({exc})")) from None


def explain(data: bytes, reason: str) -> str:
    """The failure reason, with the CRC verdict when the file is complete and the CRC is wrong."""
    if crc_matches(data) is False:
        return f"{reason}; the CRC does not match, the file is damaged"
    return reason


def reference_scan(data: bytes) -> Scan:
    """The messages ``summarise`` needs, from fitdecode (truncation ends the file quietly)."""
    out = Scan(all_records=True)
    complete = 0
    reader = fitdecode.FitReader(
        io.BytesIO(data),
        check_crc=fitdecode.CrcCheck.DISABLED,
        error_handling=fitdecode.ErrorHandling.IGNORE,
    )
    try:
        for frame in reader:
            if isinstance(frame, fitdecode.FitCRC):
                complete += 1
            elif isinstance(frame, fitdecode.FitDataMessage):
                _collect(out, frame)
    except fitdecode.FitEOFError:
        pass  # cut file: keep what was read, like the scanner
    except fitdecode.FitHeaderError:
        if not complete:
            raise  # not FIT at all; after a complete file it is just trailing bytes
    finally:
        reader.close()
    return out


def _collect(out: Scan, frame: fitdecode.FitDataMessage) -> None:
    """Keep the raw native values of one wanted message (developer fields are ignored)."""
    gmsg = frame.global_mesg_num
    wanted = WANTED.get(gmsg)
    if wanted is None:
        return
    values: dict[int, object] = {}
    for item in frame.fields:
        fdef = item.field_def
        if fdef is not None and not fdef.is_dev and fdef.def_num in wanted:
            values.setdefault(fdef.def_num, item.raw_value)
        elif fdef is None and item.field is fitdecode.profile.FIELD_TYPE_TIMESTAMP:
            values[TIMESTAMP] = item.raw_value  # from a compressed-timestamp header
    ints = {num: v for num, v in values.items() if type(v) is int}
    if gmsg == RECORD:
        out.records.append((ints.get(TIMESTAMP), ints.get(5)))
    else:
        out.messages[gmsg].append(ints)


def summarise(scan: Scan) -> list[ExternalActivity]:
    """One activity per session; a file without sessions gets one derived from laps/records."""
    _check_file_type(scan)
    offset = _utc_offset(scan.messages[ACTIVITY])
    sessions = [(s, _span_end(s)) for s in scan.messages[SESSION]]
    if not sessions:
        sessions = [(_derived_session(scan), math.inf)]
    return [
        _activity(scan, session, end, str(index), offset)
        for index, (session, end) in enumerate(sessions)
    ]


def _check_file_type(scan: Scan) -> None:
    """Refuse FIT files that are not activities (monitoring, settings, courses...)."""
    for file_id in scan.messages[FILE_ID][:1]:
        kind = file_id.get(0)
        if kind is not None and kind != ACTIVITY_FILE:
            name = FILE_TYPE_NAMES.get(kind, str(kind))
            raise BadFile(f"not an activity: this FIT file holds {name} data")


def _utc_offset(activities: list[dict[int, int]]) -> int | None:
    """Local offset in seconds from the last activity message with both timestamps."""
    for message in reversed(activities):
        local, utc = message.get(5), message.get(TIMESTAMP)
        if local is not None and utc is not None and min(local, utc) >= RELATIVE_LIMIT:
            offset = local - utc
            return offset if abs(offset) <= MAX_OFFSET_S else None
    return None


def _span_end(session: dict[int, int]) -> float:
    """End of a session's time span in FIT seconds: start + total_elapsed_time (ms)."""
    start, elapsed = session.get(2), session.get(7)
    if start is None or elapsed is None:
        return math.inf
    return start + elapsed / 1000


def _activity(
    scan: Scan, session: dict[int, int], end: float, source_id: str, offset: int | None
) -> ExternalActivity:
    """Convert one (possibly derived) session from raw FIT units."""
    start = session.get(2)
    if start is None:
        raise BadFile("a session in the FIT file has no start time")
    if start < RELATIVE_LIMIT:
        raise BadFile("the FIT file has only device-relative timestamps (no real start date)")
    if start > 0xFFFFFFFF:
        raise BadFile("a session start time in the FIT file is out of range")
    distance = session.get(9)
    if distance is None:
        distance = _fallback_distance(scan, start, end)
    sport, source_sport = sport_of(session.get(5), session.get(6))
    return ExternalActivity(
        source="fit",
        source_id=source_id,
        sport=sport,
        start_utc=FIT_EPOCH + timedelta(seconds=start),
        distance_m=distance / 100,  # cm -> m
        utc_offset_s=offset,
        moving_s=_scaled(session.get(8), 1000),  # ms -> s
        elapsed_s=_scaled(session.get(7), 1000),
        elevation_gain_m=_scaled(session.get(22), 1),
        source_sport=source_sport,
    )


def _scaled(raw: int | None, scale: int) -> float | None:
    """A raw FIT integer divided by its profile scale, or None when absent."""
    return None if raw is None else raw / scale


def sport_of(sport: int | None, sub_sport: int | None) -> tuple[Sport, str | None]:
    """Map FIT sport/sub_sport enums onto Sport, with the FIT name ("running/trail")."""
    if sport is None:
        return Sport.UNKNOWN, None
    mapped = RUN_SUB_SPORTS.get(sub_sport or 0, Sport.RUN) if sport == 1 else SPORTS.get(sport)
    name = SPORT_NAMES.get(sport, f"sport_{sport}")
    if sub_sport:  # 0 is generic: nothing to add
        name += "/" + SUB_SPORT_NAMES.get(sub_sport, f"sub_sport_{sub_sport}")
    return mapped or Sport.OTHER, name


def _fallback_distance(scan: Scan, start: int, end: float) -> int:
    """Without total_distance: the larger of the laps' sum and the last record distance (cm)."""
    laps = [lap[9] for lap in scan.messages[LAP] if 9 in lap and 2 in lap and start <= lap[2] < end]
    candidates = [sum(laps)] if laps else []
    last = _record_distance(scan, start, end)
    if last is not None:
        candidates.append(last)
    return max(candidates, default=0)


def _record_distance(scan: Scan, start: int, end: float) -> int | None:
    """Distance of the last record within [start, end] that has one."""
    if not scan.records:
        return None
    if not scan.all_records:
        stamp, distance = scan.records[-1]
        if stamp is not None and distance is not None and start <= stamp <= end:
            return distance
        raise NeedRecords
    for stamp, distance in reversed(scan.records):
        if stamp is not None and distance is not None and start <= stamp <= end:
            return distance
    return None


def _record_stamp(scan: Scan, index: int) -> int | None:
    """Timestamp of the first (index 0) or last (-1) record that has one."""
    records = scan.records if index == 0 else scan.records[::-1]
    if records and not scan.all_records and records[0][0] is None:
        raise NeedRecords
    return next((stamp for stamp, _ in records if stamp is not None), None)


def _derived_session(scan: Scan) -> dict[int, int]:
    """A session for a file that has none: start, sport and totals from laps and records."""
    laps = scan.messages[LAP]
    if not laps and not scan.records:
        raise BadFile("no session, lap or record in the FIT file")
    first = _record_stamp(scan, 0)
    starts = [lap[2] for lap in laps if 2 in lap] + ([first] if first is not None else [])
    created = [f[4] for f in scan.messages[FILE_ID] if 4 in f]
    if not starts and not created:
        raise BadFile("no start time in the FIT file")
    session = {2: min(starts) if starts else created[0]}
    sport = [{5: lap[25], 6: lap.get(39, 0)} for lap in laps if 25 in lap]
    sport += [{5: s[0], 6: s.get(1, 0)} for s in scan.messages[SPORT] if 0 in s]
    session.update(sport[0] if sport else {})
    for lap_field, session_field in ((7, 7), (8, 8), (21, 22)):
        values = [lap[lap_field] for lap in laps if lap_field in lap]
        if values:
            session[session_field] = sum(values)
    last = _record_stamp(scan, -1)
    if 7 not in session and last is not None and last >= session[2]:
        session[7] = (last - session[2]) * 1000  # s -> ms
    return session
