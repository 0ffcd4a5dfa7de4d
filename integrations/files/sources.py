"""Command-line paths (files, folders, zip archives) turned into lazily readable file sources.

A folder is walked recursively in name order, keeping files whose names announce FIT, GPX or
TCX (optionally .gz) and opening .zip files; other files are skipped and counted. Zip entries
are read on demand from archives kept open in a small pool, so listing first and reading
later (as a progress bar does) stays linear and memory stays flat. Not thread-safe.
"""

from __future__ import annotations

import errno
import itertools
import os
import re
import shutil
import tempfile
import weakref
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import IO

from integrations.errors import BadFile

from . import activity_extension

MAX_ENTRY_BYTES = 1 << 30  # refuse zip bombs: no real workout file is near 1 GiB
MAX_ZIP_DEPTH = 3  # export.zip/part.zip/more.zip is as deep as real exports go
OPEN_ARCHIVES = 8  # zip files kept open at once
_SPOOL_BYTES = 8 << 20  # nested zips up to this size stay in memory, larger ones go to disk
_PATH_PARTS = re.compile(r"[\\/]")


@dataclass(frozen=True, slots=True)
class Source:
    """One file to import: a name the runner recognises, its stored size, and a lazy reader."""

    name: str
    size: int  # bytes on disk or compressed in the archive, for progress bars
    loader: Callable[[], bytes] = field(repr=False, compare=False)

    def read(self) -> bytes:
        """The file's bytes (still gzipped if the file is); raises BadFile when unreadable."""
        return self.loader()


def iter_sources(paths: Sequence[Path]) -> Iterator[Source]:
    """Sources for the paths; raises FileNotFoundError now, before anything is yielded."""
    return Walk(paths).sources()


class Walk:
    """A walk over command-line paths; ``skipped`` counts files that announce no activity."""

    def __init__(self, paths: Sequence[Path]) -> None:
        for path in paths:
            if not path.exists():
                raise FileNotFoundError(errno.ENOENT, "no such file or folder", str(path))
        self.paths = list(paths)
        self.skipped = 0
        self._pool = _ArchivePool()

    def sources(self) -> Iterator[Source]:
        """Every source, in a deterministic order; the skipped count is final when done."""
        self.skipped = 0
        for path in self.paths:
            if path.is_dir():
                yield from self._folder(path)
            elif _is_zip(path.name):
                yield from self._disk_archive(path)
            else:
                yield _file_source(path)

    def close(self) -> None:
        """Close the archives kept open for reading (they reopen if read again)."""
        self._pool.close()

    def __enter__(self) -> Walk:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _folder(self, folder: Path) -> Iterator[Source]:
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as exc:
            yield _failing(str(folder), 0, f"cannot read the folder ({exc.strerror or exc})")
            return
        for entry in entries:
            path = folder / entry.name
            if entry.name.startswith("."):  # .DS_Store, .git and the like: not the runner's
                continue
            if entry.is_dir(follow_symlinks=False):
                yield from self._folder(path)
            elif entry.is_file() and _is_zip(entry.name):
                yield from self._disk_archive(path)
            elif entry.is_file() and activity_extension(entry.name):
                yield _file_source(path)
            else:
                self.skipped += 1

    def _disk_archive(self, path: Path) -> Iterator[Source]:
        archive = _Archive(str(path), _file_size(path), partial(_open_disk, path), self._pool)
        yield from self._archive(archive, depth=1)

    def _archive(self, archive: _Archive, depth: int) -> Iterator[Source]:
        try:
            infos = archive.infolist()
        except BadFile as exc:
            yield _failing(archive.label, archive.size, str(exc))
            return
        for info in sorted(infos, key=lambda i: i.filename):
            parts = [p for p in _PATH_PARTS.split(info.filename) if p not in ("", ".")]
            if info.is_dir() or not parts or _is_junk(parts):
                continue
            name = f"{archive.label}/{'/'.join(parts)}"
            if _is_zip(parts[-1]):
                yield from self._nested(archive, info, name, depth)
            elif activity_extension(parts[-1]):
                yield Source(name, info.compress_size, partial(archive.read, info))
            else:
                self.skipped += 1

    def _nested(
        self, parent: _Archive, info: zipfile.ZipInfo, name: str, depth: int
    ) -> Iterator[Source]:
        if depth >= MAX_ZIP_DEPTH:
            reason = f"zip archives nested more than {MAX_ZIP_DEPTH} deep"
            yield _failing(name, info.compress_size, reason)
            return
        archive = _Archive(name, info.compress_size, partial(parent.extract, info), self._pool)
        yield from self._archive(archive, depth + 1)


class _Archive:
    """One zip archive: on disk, or an entry of another archive copied out when first needed."""

    def __init__(
        self, label: str, size: int, opener: Callable[[], IO[bytes]], pool: _ArchivePool
    ) -> None:
        self.label, self.size = label, size
        self.opener, self.pool = opener, pool
        self.serial = pool.serial()

    def infolist(self) -> list[zipfile.ZipInfo]:
        return self.pool.zip_of(self).infolist()

    def read(self, info: zipfile.ZipInfo) -> bytes:
        """One entry's bytes; BadFile for bombs, damage, encryption or odd compression."""
        _check_entry_size(info)
        with _entry_errors(), self.pool.zip_of(self).open(info) as handle:
            return handle.read()

    def extract(self, info: zipfile.ZipInfo) -> IO[bytes]:
        """One entry copied into a spooled temporary file (for nested zips)."""
        _check_entry_size(info)
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 - the pool closes it
        try:
            with _entry_errors(), self.pool.zip_of(self).open(info) as handle:
                shutil.copyfileobj(handle, spool)
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return spool


class _ArchivePool:
    """Keeps the most recently used archives open; closes the rest, and all on close()."""

    def __init__(self) -> None:
        self._serials = itertools.count()
        # Keyed by serial, holding no archive, so the finalizer's argument never keeps us alive.
        self._open: OrderedDict[int, _Opened] = OrderedDict()
        weakref.finalize(self, _close_all, self._open)

    def serial(self) -> int:
        return next(self._serials)

    def zip_of(self, archive: _Archive) -> zipfile.ZipFile:
        if archive.serial in self._open:
            self._open.move_to_end(archive.serial)
            return self._open[archive.serial][0]
        opened = _open_zip(archive.opener)
        self._open[archive.serial] = opened
        while len(self._open) > OPEN_ARCHIVES:
            _close_one(self._open.popitem(last=False)[1])
        return opened[0]

    def close(self) -> None:
        _close_all(self._open)


_Opened = tuple[zipfile.ZipFile, IO[bytes]]


def _open_zip(opener: Callable[[], IO[bytes]]) -> _Opened:
    try:
        handle = opener()
    except OSError as exc:
        raise BadFile(f"cannot read the zip archive ({exc.strerror or exc})") from None
    try:
        return zipfile.ZipFile(handle), handle
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        handle.close()
        raise BadFile(f"not a readable zip archive: {exc}") from None


def _close_one(opened: _Opened) -> None:
    opened[0].close()
    opened[1].close()


def _close_all(opened: OrderedDict[int, _Opened]) -> None:
    while opened:
        _close_one(opened.popitem()[1])


@contextmanager
def _entry_errors() -> Iterator[None]:
    """Turn the ways a zip entry can fail into BadFile with a one-line reason."""
    try:
        yield
    except BadFile:
        raise
    except NotImplementedError:
        raise BadFile("zip entry uses an unsupported compression method") from None
    except RuntimeError:  # zipfile's way of saying "password required"
        raise BadFile("zip entry is encrypted") from None
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, ValueError) as exc:
        raise BadFile(f"damaged zip entry ({exc})") from None


def _check_entry_size(info: zipfile.ZipInfo) -> None:
    if info.file_size > MAX_ENTRY_BYTES:
        raise BadFile("zip entry unpacks to more than 1 GiB")


def _is_zip(name: str) -> bool:
    return name.lower().endswith(".zip")


def _is_junk(parts: list[str]) -> bool:
    """macOS resource forks and dot-files inside archives."""
    return parts[0] == "__MACOSX" or any(part.startswith(".") for part in parts)


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _file_source(path: Path) -> Source:
    return Source(str(path), _file_size(path), partial(_read_path, path))


def _open_disk(path: Path) -> IO[bytes]:
    return path.open("rb")


def _read_path(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_ENTRY_BYTES:
            raise BadFile("file is larger than 1 GiB")
        return path.read_bytes()
    except OSError as exc:
        raise BadFile(f"cannot read the file ({exc.strerror or exc})") from None


def _failing(name: str, size: int, reason: str) -> Source:
    """A source that exists only to report why it cannot be read."""
    return Source(name, size, partial(_raise_bad_file, reason))


def _raise_bad_file(reason: str) -> bytes:
    raise BadFile(reason)
