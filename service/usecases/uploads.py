"""Uploaded workout files: written to a private folder as they arrive, imported, then removed.

The folder lives under the data directory (not /tmp, which may be memory-backed), each part is
stored under a sanitised name, and results name each file as the runner sent it.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

from werkzeug.utils import secure_filename

from integrations.files.sources import Source, Walk
from integrations.types import Sport
from service.db import Database
from service.usecases.import_files import ImportReport, import_sources

UPLOADS_DIR = "uploads"  # under the data directory
MAX_SHOWN_NAME = 200
MAX_DISK_NAME = 80


@dataclass(frozen=True, slots=True)
class Part:
    """One uploaded file: the name the runner gave it, where it sits, and the open handle."""

    display: str
    path: Path
    handle: IO[bytes]


@dataclass(frozen=True, slots=True)
class UploadResult:
    """The import's per-file results, and how many archive entries were not activity files."""

    report: ImportReport
    skipped: int

    def totals(self) -> dict[str, int]:
        """Files read, runs and other activities stored, duplicates, rejections, skipped entries."""
        return {
            "files": len(self.report.files),
            "runs": self.report.total("runs"),
            "others": self.report.total("others"),
            "duplicates": self.report.total("duplicates"),
            "rejected": len(self.report.rejected),
            "skipped": self.skipped,
        }


class UploadFolder:
    """A fresh folder for one upload; every part is written into it, and ``close`` removes it."""

    def __init__(self, parent: Path) -> None:
        parent.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix="upload-", dir=parent))
        self.parts: list[Part] = []

    def open_part(self, client_name: str | None) -> IO[bytes]:
        """A new file on disk for the next part; the caller writes the part into it in chunks."""
        display = shown_name(client_name)
        path = self.path / disk_name(len(self.parts), display)
        handle = path.open("xb+")  # exclusive: never write over another part
        self.parts.append(Part(display, path, handle))
        return handle

    def close(self) -> None:
        """Close every part and remove the folder with all it holds."""
        for part in self.parts:
            part.handle.close()
        shutil.rmtree(self.path, ignore_errors=True)


def shown_name(client_name: str | None) -> str:
    """The file's own name as the runner knows it: no folders, no control characters."""
    base = (client_name or "").replace("\\", "/").rsplit("/", 1)[-1]
    printable = "".join(c for c in base if c.isprintable()).strip()
    if len(printable) > MAX_SHOWN_NAME:
        printable = "…" + printable[-(MAX_SHOWN_NAME - 1) :]  # keep the end: it has the type
    return printable or "unnamed file"


def disk_name(index: int, display: str) -> str:
    """A safe, unique name on disk that keeps the file's extension (``.zip`` matters)."""
    safe = secure_filename(display)[-MAX_DISK_NAME:].lstrip("._") or "file"
    if display.lower().endswith(".zip") and not safe.lower().endswith(".zip"):
        safe += ".zip"
    return f"{index:04d}-{safe}"


def import_parts(
    db: Database, runner_id: int, parts: list[Part], *, sport_override: Sport | None
) -> UploadResult:
    """Import the uploaded files for the runner; a bad file is reported and the rest go on."""
    for part in parts:
        part.handle.flush()  # the importer reads the files by path
    report, skipped = ImportReport(), 0
    for part in parts:
        with Walk([part.path]) as walk:
            sources = _renamed(walk.sources(), str(part.path), part.display)
            found = import_sources(db, runner_id, sources, sport_override=sport_override)
            report.files.extend(found.files)
            skipped += walk.skipped
    return UploadResult(report, skipped)


def _renamed(sources: Iterator[Source], disk_prefix: str, display: str) -> Iterator[Source]:
    """The sources named after the uploaded file (and the entry inside a zip), not the disk."""
    for source in sources:
        yield replace(source, name=display + source.name.removeprefix(disk_prefix))
