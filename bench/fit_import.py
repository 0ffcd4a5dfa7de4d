"""FIT import benchmark: generate N one-hour runs, time the fast reader, fitdecode and the CLI.

Usage: ``.venv/bin/python bench/fit_import.py [--files 1000] [--reference 50] [--keep DIR]``.
The files are written by a minimal struct-based FIT encoder below (1 s records with the fields
a running watch writes), so generation takes seconds and needs no FIT library.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from array import array
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from integrations.files import fit_scan
from integrations.files.fit import read, read_reference
from integrations.types import ExternalActivity

START = 1_009_843_200  # 2021-12-31T00:00:00Z in FIT seconds; run n starts n days later, 06:00
RECORDS = 3600  # one hour at 1 s

# (field number, size, base type) per message; values are packed little-endian in this order
FILE_ID = [(0, 1, 0x00), (1, 2, 0x84), (2, 2, 0x84), (3, 4, 0x8C), (4, 4, 0x86)]
EVENT = [(253, 4, 0x86), (3, 4, 0x86), (0, 1, 0x00), (1, 1, 0x00), (4, 1, 0x02)]
# timestamp, lat, long, distance, enhanced_speed, enhanced_altitude, accumulated_power, altitude,
# speed, power, vertical_oscillation, stance_time, step_length, vertical_ratio,
# stance_time_balance, heart_rate, cadence, fractional_cadence, temperature
RECORD = [
    (253, 4, 0x86), (0, 4, 0x85), (1, 4, 0x85), (5, 4, 0x86), (73, 4, 0x86), (78, 4, 0x86),
    (29, 4, 0x86), (2, 2, 0x84), (6, 2, 0x84), (7, 2, 0x84), (39, 2, 0x84), (41, 2, 0x84),
    (85, 2, 0x84), (83, 2, 0x84), (84, 2, 0x84), (3, 1, 0x02), (4, 1, 0x02), (53, 1, 0x02),
    (13, 1, 0x01),
]  # fmt: skip
# timestamp, start_time, total_elapsed_time, total_timer_time, total_distance, total_ascent,
# sport, sub_sport, plus session-only fields (first_lap_index, num_laps) or lap-only (event)
LAP = [(253, 4, 0x86), (2, 4, 0x86), (7, 4, 0x86), (8, 4, 0x86), (9, 4, 0x86), (21, 2, 0x84),
       (25, 1, 0x00), (39, 1, 0x00), (0, 1, 0x00)]  # fmt: skip
SESSION = [(253, 4, 0x86), (2, 4, 0x86), (7, 4, 0x86), (8, 4, 0x86), (9, 4, 0x86),
           (22, 2, 0x84), (5, 1, 0x00), (6, 1, 0x00), (25, 2, 0x84), (26, 2, 0x84)]  # fmt: skip
ACTIVITY = [(253, 4, 0x86), (0, 4, 0x86), (5, 4, 0x86), (1, 2, 0x84), (2, 1, 0x00)]
FORMATS = {0x00: "B", 0x01: "b", 0x02: "B", 0x84: "H", 0x85: "i", 0x86: "I", 0x8C: "I"}
LOCAL = {0: (0, FILE_ID), 1: (21, EVENT), 2: (20, RECORD), 3: (19, LAP), 4: (18, SESSION),
         5: (34, ACTIVITY)}  # fmt: skip


def _struct(fields: list[tuple[int, int, int]]) -> str:
    return "<" + "".join(FORMATS[base] for _, _, base in fields)


def _offsets(fields: list[tuple[int, int, int]]) -> dict[int, int]:
    """Byte offset of each field inside a data message (after its header byte)."""
    offsets, at = {}, 1
    for num, size, _ in fields:
        offsets[num] = at
        at += size
    return offsets


def _definition(local: int) -> bytes:
    """A definition message for one local type (little-endian)."""
    gmsg, fields = LOCAL[local]
    head = bytes([0x40 | local, 0, 0]) + gmsg.to_bytes(2, "little") + bytes([len(fields)])
    return head + b"".join(bytes(f) for f in fields)


def _message(local: int, *values: int) -> bytes:
    """A data message for one local type."""
    return bytes([local]) + struct.pack(_struct(LOCAL[local][1]), *values)


def _crc_table2() -> list[int]:
    """CRC-16/ARC advanced by two bytes at once: crc = table[crc ^ word] (see fit_scan.crc16)."""
    one = fit_scan.CRC_TABLE
    step = [(v >> 8) ^ one[v & 0xFF] for v in range(65536)]
    return [step[step[v]] for v in range(65536)]


class Writer:
    """Builds one-hour runs from a record template; per run only times and distances change."""

    def __init__(self) -> None:
        self.record_size = 1 + struct.calcsize(_struct(RECORD))
        self.offsets = _offsets(RECORD)
        template = bytearray()
        for i in range(RECORDS):
            lat = 625_000_000 + i * 1_000  # semicircles
            altitude = 2_500 + (i % 600)  # (metres + 500) * 5
            running = (250, 870, 245, 980, 820, 5010, 140 + i % 30, 85, 64, 18)
            template += _message(
                2, 0, lat, 160_000_000, 0, 0, altitude, i * 250, altitude, 0, *running
            )
        self.template = bytes(template)
        self.crc_table = _crc_table2()

    def build(self, n: int) -> bytes:
        """Run number n: 06:00 UTC on day n, pace between 4:30 and 6:00 per km."""
        start = START + n * 86_400 + 6 * 3600
        cm_per_s = 1000 * 100 // (270 + (n * 37) % 90)  # 270-360 s per km
        records = bytearray(self.template)
        self._stride(records, 253, array("I", range(start, start + RECORDS)))
        self._stride(records, 5, array("I", range(0, RECORDS * cm_per_s, cm_per_s)))
        self._stride(records, 73, array("I", [cm_per_s * 10] * RECORDS))  # enhanced_speed, mm/s
        self._stride(records, 6, array("H", [cm_per_s * 10] * RECORDS))  # speed, mm/s
        body = self._head(start) + bytes(records) + self._summary(start, cm_per_s)
        header = bytearray(b"\x0e\x20\x54\x08" + len(body).to_bytes(4, "little") + b".FIT")
        header += self.crc(bytes(header)).to_bytes(2, "little")
        data = bytes(header) + body
        return data + self.crc(data).to_bytes(2, "little")

    def _stride(self, records: bytearray, field_num: int, values: array[int]) -> None:
        """Write one field into every record without a Python-level loop."""
        raw, width = _le_bytes(values), values.itemsize
        at = self.offsets[field_num]
        for k in range(width):
            records[at + k :: self.record_size] = raw[k::width]

    def _head(self, start: int) -> bytes:
        defs = b"".join(_definition(local) for local in range(6))
        return (
            defs
            + _message(0, 4, 255, 1, 0x12345678, start)
            + _message(1, start, 0, 0, 0, 0)  # timer start
        )

    def _summary(self, start: int, cm_per_s: int) -> bytes:
        """Laps every 1,000 m (the last partial), the session and the activity."""
        laps, total = [], RECORDS * cm_per_s - cm_per_s
        lap_start, done = start, 0
        while done < total:
            lap_cm = min(100_000, total - done)
            seconds = lap_cm // cm_per_s
            laps.append(_message(3, lap_start + seconds, lap_start, seconds * 1000, seconds * 1000,
                                 lap_cm, 5, 1, 0, 9))  # fmt: skip
            lap_start, done = lap_start + seconds, done + lap_cm
        end = start + RECORDS - 1
        elapsed = (RECORDS - 1) * 1000
        session = _message(4, end, start, elapsed, elapsed, total, 60, 1, 0, 0, len(laps))
        activity = _message(5, end, elapsed, end + 3600, 1, 0)
        stop = _message(1, end, 0, 0, 4, 0)
        return stop + b"".join(laps) + session + activity

    def crc(self, data: bytes) -> int:
        """FIT CRC, two bytes per table lookup (fast enough for 180 MB of test files)."""
        crc, table = 0, self.crc_table
        words = array("H", data[: len(data) & ~1])
        if sys.byteorder != "little":
            words.byteswap()  # the words must read as little-endian
        for word in words:
            crc = table[crc ^ word]
        return _odd_tail(crc, data[-1]) if len(data) & 1 else crc


def _odd_tail(crc: int, byte: int) -> int:
    """Finish the CRC over one last byte (bitwise; runs at most once per file)."""
    crc ^= byte
    for _ in range(8):
        crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def _le_bytes(values: array[int]) -> bytes:
    """Little-endian bytes of an integer array on any machine."""
    if sys.byteorder != "little":
        values = array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


def generate(folder: Path, count: int) -> tuple[list[Path], float]:
    """Write ``count`` runs into ``folder``; returns the paths and the seconds it took."""
    began = time.perf_counter()
    writer = Writer()
    paths = []
    for n in range(count):
        path = folder / f"run_{n:05d}.fit"
        path.write_bytes(writer.build(n))
        paths.append(path)
    return paths, time.perf_counter() - began


def time_reader(
    reader: Callable[[bytes], list[ExternalActivity]], paths: Sequence[Path]
) -> dict[str, float]:
    """Files/s and MB/s of one reader, timing the parse only (files are read first, one by one)."""
    parse_s, size, km = 0.0, 0, 0.0
    for path in paths:
        data = path.read_bytes()
        began = time.perf_counter()
        activities = reader(data)
        parse_s += time.perf_counter() - began
        size += len(data)
        km += sum(a.distance_m for a in activities) / 1000
    return {
        "files": len(paths),
        "mb": size / 1e6,
        "seconds": parse_s,
        "files_per_s": len(paths) / parse_s,
        "mb_per_s": size / 1e6 / parse_s,
        "km": km,
    }


# Runs one command and reports its wall time and peak RSS, isolated from earlier children.
_MEASURE = """
import json, resource, subprocess, sys, time
began = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(json.dumps({"rc": done.returncode, "wall_s": time.perf_counter() - began,
    "maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    "out": done.stdout[-2000:], "err": done.stderr[-2000:]}))
"""


def measure(command: Sequence[str], env: dict[str, str]) -> dict[str, object]:
    """Wall seconds and peak RSS (KiB, from RUSAGE_CHILDREN) of one CLI run."""
    wrapper = [sys.executable, "-c", _MEASURE, *command]
    done = subprocess.run(wrapper, capture_output=True, text=True, env=env, check=True)
    result: dict[str, object] = json.loads(done.stdout)
    return result


def cli_command() -> list[str] | None:
    """The runstrength command: the installed script, else its entry point through Python."""
    script = Path(sys.executable).with_name("runstrength")
    if script.exists():
        return [str(script)]
    entry = "import sys; from service.cli import main; sys.exit(main())"
    return [sys.executable, "-c", entry]


def end_to_end(paths: Sequence[Path], work: Path, counts: Sequence[int]) -> list[dict[str, object]]:
    """``runstrength db upgrade`` then ``import <dir>`` per count, each in a fresh data dir."""
    command = cli_command()
    results = []
    for count in counts:
        folder = work / f"import_{count}"
        folder.mkdir()
        for path in paths[:count]:
            os.link(path, folder / path.name)
        env = {**os.environ, "RUNSTRENGTH_DATA_DIR": str(work / f"data_{count}")}
        env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
        upgrade = measure([*command, "db", "upgrade"], env)
        if upgrade["rc"] != 0:
            print(f"end-to-end skipped: 'runstrength db upgrade' failed: {upgrade['err']}")
            return results
        run = measure([*command, "import", str(folder)], env)
        if run["rc"] != 0:
            print(f"end-to-end skipped: 'runstrength import' failed: {run['err']}")
            return results
        results.append({"files": count, "wall_s": run["wall_s"], "maxrss_kb": run["maxrss_kb"],
                        "tail": str(run["out"]).strip().splitlines()[-3:]})  # fmt: skip
    return results


def report(title: str, numbers: dict[str, float]) -> None:
    """Print one reader's throughput."""
    files, mb, seconds = numbers["files"], numbers["mb"], numbers["seconds"]
    print(
        f"{title}: {files:.0f} files, {mb:.1f} MB in {seconds:.2f} s"
        f" = {numbers['files_per_s']:.0f} files/s, {numbers['mb_per_s']:.1f} MB/s"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Generate, measure (a) read, (b) read_reference, (c) the CLI end to end, and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--reference", type=int, default=50, help="files for the fitdecode run")
    parser.add_argument("--e2e", default="250,1000", help="file counts for the CLI runs, or ''")
    parser.add_argument("--keep", type=Path, help="generate into this (empty) folder and keep it")
    args = parser.parse_args(argv)
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores")
    work = Path(tempfile.mkdtemp(prefix="fitbench_"))
    try:
        runs = args.keep or work / "runs"
        runs.mkdir(parents=True, exist_ok=True)
        paths, seconds = generate(runs, args.files)
        size = sum(p.stat().st_size for p in paths) / 1e6
        print(f"generated {len(paths)} files, {size:.1f} MB in {seconds:.1f} s")
        fast = time_reader(read, paths)
        report("(a) read (fast scanner)", fast)
        slow = time_reader(read_reference, paths[: args.reference])
        report("(b) read_reference (fitdecode)", slow)
        print(f"    speed-up {fast['mb_per_s'] / slow['mb_per_s']:.0f}x;"
              f" mileage {fast['km']:.1f} km over all files")  # fmt: skip
        counts = [int(c) for c in args.e2e.split(",") if c and int(c) <= len(paths)]
        for row in end_to_end(paths, work, counts):
            rss_mib = int(str(row["maxrss_kb"])) / 1024
            print(f"(c) CLI import of {row['files']} files: {row['wall_s']:.1f} s wall,"
                  f" peak RSS {rss_mib:.0f} MiB; {row['tail']}")  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
