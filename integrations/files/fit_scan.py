"""Fast FIT message walker: decodes only the messages mileage needs and skips the rest by size.

A FIT file is a header, a stream of definition messages (the field layout of a local message
type 0-15) and data messages, then a CRC. A one-hour run holds ~4,000 data messages; mileage
needs a handful (file_id, sport, session, lap, activity) plus the last record, so every other
message is skipped by the size its definition states. Field numbers, base types and invalid
values are from the FIT SDK profile and protocol description.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

FILE_ID, SPORT, SESSION, LAP, RECORD, ACTIVITY = 0, 12, 18, 19, 20, 34
TIMESTAMP = 253
SUMMARY = (FILE_ID, SPORT, SESSION, LAP, ACTIVITY)

# Native fields decoded per global message number; everything else is skipped.
WANTED: dict[int, frozenset[int]] = {
    FILE_ID: frozenset({0, 4}),  # type, time_created
    SPORT: frozenset({0, 1}),  # sport, sub_sport
    # start_time, sport, sub_sport, total_elapsed_time, total_timer_time, total_distance, ascent
    SESSION: frozenset({2, 5, 6, 7, 8, 9, 22}),
    # start_time, elapsed, timer, distance, total_ascent (21), sport (25), sub_sport (39)
    LAP: frozenset({2, 7, 8, 9, 21, 25, 39}),
    ACTIVITY: frozenset({5, TIMESTAMP}),  # local_timestamp, timestamp
    RECORD: frozenset({5, TIMESTAMP}),  # distance, timestamp
}

# Integer base types: identifier -> (struct code, invalid value). Other types are not decoded.
INT_TYPES: dict[int, tuple[str, int]] = {
    0x00: ("B", 0xFF),  # enum
    0x01: ("b", 0x7F),  # sint8
    0x02: ("B", 0xFF),  # uint8
    0x83: ("h", 0x7FFF),  # sint16
    0x84: ("H", 0xFFFF),  # uint16
    0x85: ("i", 0x7FFFFFFF),  # sint32
    0x86: ("I", 0xFFFFFFFF),  # uint32
    0x0A: ("B", 0),  # uint8z
    0x8B: ("H", 0),  # uint16z
    0x8C: ("I", 0),  # uint32z
    0x8E: ("q", 0x7FFFFFFFFFFFFFFF),  # sint64
    0x8F: ("Q", 0xFFFFFFFFFFFFFFFF),  # uint64
    0x90: ("Q", 0),  # uint64z
}

SKIP, RECORD_KIND, DECODE, UNSUPPORTED = 0, 1, 2, 3

# struct that unpacks the wanted fields in one call, their field numbers, their invalid values
Layout = tuple[struct.Struct, tuple[int, ...], tuple[int, ...]]
# message size including its header byte, kind, global number, wanted-field layout, timestamp
Definition = tuple[int, int, int, Layout | None, Layout | None]
Record = tuple[int | None, int | None]  # (timestamp, distance), raw FIT units


class Corrupt(Exception):
    """The bytes are not a readable FIT stream; the message says why in a runner's words."""


class Overrun(Exception):
    """A message runs past the end of the available bytes."""


class NeedFull(Exception):
    """The fast walk met something only the careful walk handles (compressed timestamps, cuts)."""


class Unsupported(Exception):
    """A wanted field is encoded in a way this scanner does not decode (arrays, floats, bytes)."""


@dataclass(slots=True)
class Scan:
    """The decoded messages of one file, values as raw FIT integers keyed by field number.

    ``records`` holds every record when ``all_records`` is true, else only the first and last.
    """

    messages: dict[int, list[dict[int, int]]] = field(
        default_factory=lambda: {num: [] for num in SUMMARY}
    )
    records: list[Record] = field(default_factory=list)
    all_records: bool = False

    def add(self, definition: Definition, buf: bytes, pos: int, timestamp: int | None) -> None:
        """Decode one summary message; a compressed-header timestamp overrides field 253."""
        if definition[1] == UNSUPPORTED or definition[3] is None:
            raise Unsupported(f"global message {definition[2]}")
        values = decode(definition[3], buf, pos)
        if timestamp is not None:
            values[TIMESTAMP] = timestamp
        if definition[2] == RECORD:
            self.records.append((values.get(TIMESTAMP), values.get(5)))
        else:
            self.messages[definition[2]].append(values)


def decode(layout: Layout, buf: bytes, pos: int) -> dict[int, int]:
    """The valid wanted fields of the data message whose header byte is at ``pos``."""
    unpacker, nums, invalids = layout
    values = unpacker.unpack_from(buf, pos + 1)
    return {n: v for n, v, bad in zip(nums, values, invalids, strict=True) if v != bad}


def _layout(fields: bytes, endian: str, wanted: frozenset[int]) -> Layout | None:
    """One struct for the wanted fields (first occurrence of each); None if one is not an int."""
    parts: list[str] = []
    nums: list[int] = []
    invalids: list[int] = []
    offset = cursor = 0
    for i in range(0, len(fields), 3):
        num, size, base = fields[i], fields[i + 1], fields[i + 2]
        if num in wanted and num not in nums:
            code, invalid = INT_TYPES.get(base, ("", 0))
            if not code or struct.calcsize(code) != size:
                return None
            parts.append(f"{offset - cursor}x{code}")
            nums.append(num)
            invalids.append(invalid)
            cursor = offset + size
        offset += size
    return struct.Struct(endian + "".join(parts)), tuple(nums), tuple(invalids)


@lru_cache(maxsize=512)
def _definition(fields: bytes, big: bool, gmsg: int, size: int) -> Definition:
    """The precomputed view of one definition; cached because devices repeat them."""
    endian = ">" if big else "<"
    wanted = WANTED.get(gmsg)
    layout = _layout(fields, endian, wanted) if wanted else None
    kind = SKIP
    if wanted:
        kind = UNSUPPORTED if layout is None else RECORD_KIND if gmsg == RECORD else DECODE
    stamp = None
    if TIMESTAMP in fields[0::3]:
        stamp = _layout(fields, endian, frozenset({TIMESTAMP}))
    return size, kind, gmsg, layout, stamp


def parse_definition(buf: bytes, pos: int, end: int, header: int) -> tuple[Definition, int]:
    """Read the definition message at ``pos``; returns it and the position after it."""
    fields_at = pos + 6
    if fields_at > end:
        raise Overrun
    big = buf[pos + 2] != 0  # architecture byte: 0 little-endian, anything else big
    gmsg = int.from_bytes(buf[pos + 3 : pos + 5], "big" if big else "little")
    fields_end = next_pos = fields_at + 3 * buf[pos + 5]
    dev_size = 0
    if header & 0x20:  # developer fields follow: (number, size, developer index) triples
        if fields_end >= end:
            raise Overrun
        next_pos = fields_end + 1 + 3 * buf[fields_end]
        dev_size = sum(buf[fields_end + 2 : next_pos : 3])
    if next_pos > end:
        raise Overrun
    fields = buf[fields_at:fields_end]
    return _definition(fields, big, gmsg, 1 + sum(fields[1::3]) + dev_size), next_pos


def walk_fast(buf: bytes, pos: int, end: int, out: Scan) -> None:
    """Walk [pos, end) remembering only the first and last record; the hot loop of bulk import."""
    defs: list[Definition | None] = [None] * 16
    first = last = -1
    first_def = last_def = None
    while pos < end:
        head = buf[pos]
        if head < 0x40:  # normal data message
            d = defs[head & 0x0F]
            if d is None:
                raise Corrupt(f"damaged FIT file: message of an undefined type at byte {pos}")
            kind = d[1]
            if kind == RECORD_KIND:
                if first < 0:
                    first, first_def = pos, d
                last, last_def = pos, d
            elif kind:
                if pos + d[0] > end:
                    raise NeedFull
                out.add(d, buf, pos, None)
            pos += d[0]
        elif head < 0x80:
            d, pos = parse_definition(buf, pos, end, head)
            defs[head & 0x0F] = d
        else:
            raise NeedFull  # compressed timestamp header: needs the careful walk's clock
    if pos > end:
        raise NeedFull  # the last message was cut off
    if first_def is not None and last_def is not None:
        out.add(first_def, buf, first, None)
        if last != first:
            out.add(last_def, buf, last, None)


def walk_full(buf: bytes, pos: int, end: int, out: Scan) -> None:
    """Walk [pos, end) keeping every record and the timestamp clock.

    A message running past the last byte ends the walk like a cut file (fitdecode does the
    same); one running past the declared data size with bytes still after it is damage.
    """
    defs: list[Definition | None] = [None] * 16
    clock = 0  # last full timestamp, base of compressed-timestamp headers
    while pos < end:
        head = buf[pos]
        if head & 0x40 and not head & 0x80:
            try:
                d, after = parse_definition(buf, pos, len(buf), head)
            except Overrun:
                return
            defs[head & 0x0F] = d
        else:
            compressed = head & 0x80
            found = defs[(head >> 5) & 0x03] if compressed else defs[head & 0x0F]
            if found is None:
                raise Corrupt(f"damaged FIT file: message of an undefined type at byte {pos}")
            after = pos + found[0]
            if after > len(buf):
                return
            clock = _tick(found, buf, pos, clock, head & 0x1F if compressed else -1)
            if found[1] and after <= end:  # (beyond end: damage, reported below)
                out.add(found, buf, pos, clock if compressed else None)
        if after > end:
            raise Corrupt(f"damaged FIT file: message at byte {pos} overruns the data")
        pos = after


def _tick(d: Definition, buf: bytes, pos: int, clock: int, offset: int) -> int:
    """Advance the timestamp clock past one data message (field 253, then a compressed offset)."""
    if d[4] is not None:
        clock = decode(d[4], buf, pos).get(TIMESTAMP, clock)
    if offset >= 0:  # 5 low bits of the time, rolled over against the last full timestamp
        rolled = (clock & ~0x1F) + offset
        clock = rolled + 0x20 if offset < (clock & 0x1F) else rolled
    return clock


Walker = Callable[[bytes, int, int, Scan], None]


def header(buf: bytes, start: int) -> tuple[int, int]:
    """Where the data of the FIT file starting at ``start`` begins and (by its header) ends."""
    if len(buf) - start < 12:
        raise Corrupt("truncated FIT header")
    if buf[start + 8 : start + 12] != b".FIT":
        raise Corrupt("not a FIT file (no .FIT signature in the header)")
    size = buf[start]
    if size < 12 or size == 13 or start + size > len(buf):
        raise Corrupt(f"unsupported FIT header (size {size})")
    data_size = int.from_bytes(buf[start + 4 : start + 8], "little")
    return start + size, start + size + data_size


def _scan(buf: bytes, walk: Walker) -> Scan:
    """Walk every FIT file in ``buf`` (chained files follow each other's CRC)."""
    out = Scan(all_records=walk is walk_full)
    start = 0
    while True:
        data_at, data_end = header(buf, start)
        walk(buf, data_at, min(data_end, len(buf)), out)
        start = data_end + 2
        if len(buf) - start < 12 or buf[start + 8 : start + 12] != b".FIT":
            return out


def scan(buf: bytes, full: bool = False) -> Scan:
    """Decode what mileage needs; the careful walk runs when asked or when the fast one can't."""
    if not full:
        try:
            return _scan(buf, walk_fast)
        except (NeedFull, Overrun):
            pass
    return _scan(buf, walk_full)


def _crc_table() -> tuple[int, ...]:
    """Byte table of CRC-16/ARC (reflected polynomial 0xA001), the CRC the FIT SDK uses."""
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


CRC_TABLE = _crc_table()


def crc16(data: bytes) -> int:
    """FIT CRC of ``data``; pure Python (~10 ms per 100 KB), so only used to explain failures."""
    crc = 0
    for byte in data:
        crc = (crc >> 8) ^ CRC_TABLE[(crc ^ byte) & 0xFF]
    return crc


def crc_matches(buf: bytes) -> bool | None:
    """Whether the first FIT file's CRC is right; None when the file is cut before its CRC."""
    try:
        _, data_end = header(buf, 0)
    except Corrupt:
        return None
    if data_end + 2 > len(buf):
        return None
    return crc16(buf[:data_end]) == int.from_bytes(buf[data_end : data_end + 2], "little")
