"""Rebuild the derived fixtures in this folder from ../gpx and ../tcx (byte for byte stable).

Run from anywhere: python tests/data/archives/make_archives.py
"""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent
STAMP = (2026, 6, 1, 12, 0, 0)  # fixed entry dates keep the archives identical across rebuilds


def gz(data: bytes) -> bytes:
    """Gzip with no name and mtime 0, so the output depends on the input only."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0) as handle:
        handle.write(data)
    return buffer.getvalue()


def build_zip(entries: list[tuple[str, bytes]], stored: bool = False) -> bytes:
    """A zip of the entries in the given order; names ending in / are folders."""
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=STAMP)
            info.compress_type = method
            info.external_attr = (0o40755 if name.endswith("/") else 0o100644) << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def main() -> None:
    gpx_run = (DATA / "gpx" / "dup_morning_run.gpx").read_bytes()
    two_activities = (DATA / "tcx" / "two_activities.tcx").read_bytes()
    nested = build_zip(
        [
            ("offset_times.tcx", (DATA / "tcx" / "offset_times.tcx").read_bytes()),
            ("type_strava_code.gpx", (DATA / "gpx" / "type_strava_code.gpx").read_bytes()),
        ]
    )
    outputs = {
        # gzipped single files, named as Strava's export names them
        "dup_morning_run.gpx.gz": gz(gpx_run),
        "two_activities.tcx.gz": gz(two_activities),
        # an export mixing formats, a nested zip, junk a walker must skip or ignore
        "mixed_export.zip": build_zip(
            [
                ("README.txt", b"Your activity export. Activities are in activities/.\n"),
                ("activities/", b""),
                ("activities/dup_morning_run.gpx", gpx_run),
                ("activities/two_activities.tcx.gz", gz(two_activities)),
                ("activities/.hidden_run.gpx", gpx_run),
                ("__MACOSX/activities/._dup_morning_run.gpx", b"\x00\x05\x16\x07"),
                ("garmin/uploaded_part1.zip", nested),
                ("photos/finish.jpg", b"\xff\xd8\xff\xe0 not really a photo"),
            ]
        ),
        # the first half of a valid zip: no central directory, not a readable archive
        "bad_corrupt.zip": build_zip([("run.gpx", gpx_run)])[:400],
        "bad_crc.zip": _with_flipped_byte(build_zip([("run.gpx", gpx_run)], stored=True)),
    }
    for name, data in outputs.items():
        (HERE / name).write_bytes(data)
        print(f"wrote {name} ({len(data)} bytes)")


def _with_flipped_byte(archive: bytes) -> bytes:
    """A stored entry with one byte of its content changed: the CRC check must fail."""
    position = archive.index(b"<trkseg>")
    return archive[:position] + b"X" + archive[position + 1 :]


if __name__ == "__main__":
    main()
