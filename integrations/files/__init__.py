"""Workout files in, ExternalActivity out: one reader per format, chosen by content, not by name."""

from __future__ import annotations

import gzip
import hashlib
import io
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace

from integrations.errors import BadFile
from integrations.types import ExternalActivity

from . import fit, gpx, tcx

Reader = Callable[[bytes], list[ExternalActivity]]

READERS: dict[str, Reader] = {"fit": fit.read, "gpx": gpx.read, "tcx": tcx.read}
EXTENSIONS = frozenset(READERS)
MAX_UNCOMPRESSED = 1 << 30  # refuse gzip bombs: no real workout file is near 1 GiB


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """The activities of one file, with the hash of its (decompressed) content."""

    sha256: str
    format: str
    activities: list[ExternalActivity]


def activity_extension(name: str) -> str | None:
    """The workout format a file name announces (``run.fit.gz`` -> ``fit``), or None."""
    lower = name.lower()
    if lower.endswith(".gz"):
        lower = lower[:-3]
    ext = lower.rsplit(".", 1)[-1] if "." in lower else ""
    return ext if ext in EXTENSIONS else None


def decompress(data: bytes) -> bytes:
    """Undo gzip when the content is gzipped, whatever the name says."""
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as handle:
            out = handle.read(MAX_UNCOMPRESSED + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise BadFile(f"broken gzip data ({exc})") from None
    if len(out) > MAX_UNCOMPRESSED:
        raise BadFile("decompresses to more than 1 GiB")
    return out


def detect_format(data: bytes, name: str) -> str:
    """Pick the reader from the content; the extension only breaks ties for unknown content."""
    if len(data) >= 12 and data[8:12] == b".FIT":
        return "fit"
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<"):
        if b"<gpx" in head:
            return "gpx"
        if b"<trainingcenterdatabase" in head:
            return "tcx"
    if not data.strip():
        raise BadFile("empty file")
    ext = activity_extension(name)
    if ext == "fit":
        raise BadFile("not a FIT file (no .FIT signature in the header)")
    if ext is not None:
        raise BadFile(f"not a {ext.upper()} file (unexpected root element)")
    raise BadFile("unsupported file type (expected FIT, GPX or TCX, optionally gzipped)")


def read_file(data: bytes, name: str) -> ParsedFile:
    """Read every activity in one file; raises BadFile with a one-line reason."""
    content = decompress(data)
    fmt = detect_format(content, name)
    digest = hashlib.sha256(content).hexdigest()
    activities = READERS[fmt](content)
    if not activities:
        raise BadFile("no activity in the file")
    keyed = [
        replace(a, source=fmt, source_id=f"{digest[:32]}#{i}") for i, a in enumerate(activities)
    ]
    return ParsedFile(sha256=digest, format=fmt, activities=keyed)
