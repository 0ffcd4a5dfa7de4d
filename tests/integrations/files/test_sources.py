"""The walker that turns command-line paths (files, folders, zips) into readable sources."""

from __future__ import annotations

import gzip
import io
import shutil
import struct
import zipfile
from pathlib import Path

import pytest

from integrations.errors import BadFile
from integrations.files import sources
from integrations.files.sources import Source, Walk, iter_sources


def make_zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def names(walk: Walk) -> list[str]:
    return [source.name for source in walk.sources()]


def test_a_file_given_directly_is_always_yielded_whatever_its_name(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not an activity")
    (source,) = iter_sources([notes])
    assert (source.name, source.size, source.read()) == (str(notes), 15, b"not an activity")


def test_a_missing_path_is_refused_before_anything_is_yielded(tmp_path: Path) -> None:
    present = tmp_path / "run.gpx"
    present.write_text("<gpx/>")
    with pytest.raises(FileNotFoundError, match="nope"):
        iter_sources([present, tmp_path / "nope"])
    with pytest.raises(FileNotFoundError):
        Walk([tmp_path / "nope"])


def test_a_folder_is_walked_recursively_in_name_order_keeping_activity_files(
    tmp_path: Path,
) -> None:
    for relative in ["b/z.FIT", "b/a.tcx.gz", "a.gpx", "c/d/e.GPX.GZ", "c/notes.txt", "photo.jpg"]:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_bytes(b"x")
    walk = Walk([tmp_path])
    assert names(walk) == [
        str(tmp_path / "a.gpx"),
        str(tmp_path / "b" / "a.tcx.gz"),
        str(tmp_path / "b" / "z.FIT"),
        str(tmp_path / "c" / "d" / "e.GPX.GZ"),
    ]
    assert walk.skipped == 2


def test_the_walk_is_deterministic_whatever_order_files_were_created_in(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    files = [f"{i:02d}.gpx" for i in range(20)]
    for folder, order in ((first, files), (second, list(reversed(files)))):
        folder.mkdir()
        for name in order:
            (folder / name).write_text(name)
    listed_first = [Path(n).name for n in names(Walk([first]))]
    assert listed_first == [Path(n).name for n in names(Walk([second]))] == sorted(files)
    assert names(Walk([first])) == names(Walk([first]))


def test_hidden_files_and_folders_are_ignored_without_counting(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "run.gpx").write_text("x")
    (tmp_path / ".DS_Store").write_text("x")
    (tmp_path / "run.gpx").write_text("x")
    walk = Walk([tmp_path])
    assert names(walk) == [str(tmp_path / "run.gpx")]
    assert walk.skipped == 0


def test_an_export_zip_is_read_entry_by_entry_including_a_nested_zip(data_dir: Path) -> None:
    archive = data_dir / "archives" / "mixed_export.zip"
    walk = Walk([archive])
    found = {source.name: source for source in walk.sources()}
    assert sorted(found) == [
        f"{archive}/activities/dup_morning_run.gpx",
        f"{archive}/activities/two_activities.tcx.gz",
        f"{archive}/garmin/uploaded_part1.zip/offset_times.tcx",
        f"{archive}/garmin/uploaded_part1.zip/type_strava_code.gpx",
    ]
    # README.txt and the photo are skipped and counted; __MACOSX and dot-files are ignored
    assert walk.skipped == 2
    gpx_bytes = (data_dir / "gpx" / "dup_morning_run.gpx").read_bytes()
    assert found[f"{archive}/activities/dup_morning_run.gpx"].read() == gpx_bytes
    nested = found[f"{archive}/garmin/uploaded_part1.zip/offset_times.tcx"]
    assert nested.read() == (data_dir / "tcx" / "offset_times.tcx").read_bytes()
    gzipped = found[f"{archive}/activities/two_activities.tcx.gz"].read()
    assert gzip.decompress(gzipped) == (data_dir / "tcx" / "two_activities.tcx").read_bytes()


def test_zip_entry_sizes_are_their_compressed_sizes(data_dir: Path) -> None:
    archive = data_dir / "archives" / "mixed_export.zip"
    with zipfile.ZipFile(archive) as opened:
        expected = opened.getinfo("activities/dup_morning_run.gpx").compress_size
    sizes = {s.name: s.size for s in iter_sources([archive])}
    assert sizes[f"{archive}/activities/dup_morning_run.gpx"] == expected


def test_a_zip_inside_a_folder_is_opened_and_named_by_its_path(tmp_path: Path) -> None:
    make_zip(tmp_path / "export.zip", {"activities/123.fit.gz": b"x", "activities.csv": b"a"})
    walk = Walk([tmp_path])
    (source,) = walk.sources()
    assert source.name == f"{tmp_path / 'export.zip'}/activities/123.fit.gz"
    assert walk.skipped == 1


def test_a_corrupt_zip_yields_one_source_that_says_why(data_dir: Path) -> None:
    archive = data_dir / "archives" / "bad_corrupt.zip"
    (source,) = iter_sources([archive])
    assert (source.name, source.size) == (str(archive), archive.stat().st_size)
    with pytest.raises(BadFile, match="not a readable zip archive: "):
        source.read()


def test_a_corrupt_zip_inside_a_zip_yields_one_failing_source(tmp_path: Path) -> None:
    make_zip(tmp_path / "outer.zip", {"inner.zip": b"PK\x03\x04 broken", "run.gpx": b"<gpx/>"})
    found = list(iter_sources([tmp_path / "outer.zip"]))
    assert [s.name for s in found] == [
        f"{tmp_path}/outer.zip/inner.zip",
        f"{tmp_path}/outer.zip/run.gpx",
    ]
    with pytest.raises(BadFile, match="not a readable zip archive"):
        found[0].read()
    assert found[1].read() == b"<gpx/>"


def test_a_zip_entry_that_fails_its_crc_check_is_a_bad_file(data_dir: Path) -> None:
    (source,) = iter_sources([data_dir / "archives" / "bad_crc.zip"])
    with pytest.raises(BadFile, match="damaged zip entry"):
        source.read()


def test_an_encrypted_zip_entry_is_a_bad_file(tmp_path: Path) -> None:
    data = bytearray(zip_bytes({"run.gpx": b"<gpx/>"}))
    # set bit 0 (encrypted) of the general purpose flags in the local and central headers
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.index(signature) + offset
        flags = struct.unpack_from("<H", data, at)[0] | 1
        struct.pack_into("<H", data, at, flags)
    (tmp_path / "locked.zip").write_bytes(bytes(data))
    (source,) = iter_sources([tmp_path / "locked.zip"])
    with pytest.raises(BadFile, match="encrypted"):
        source.read()


def test_zip_entries_that_would_unpack_beyond_the_limit_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources, "MAX_ENTRY_BYTES", 1000)
    make_zip(tmp_path / "bomb.zip", {"big.gpx": b"0" * 5000, "small.gpx": b"<gpx/>"})
    big, small = iter_sources([tmp_path / "bomb.zip"])
    with pytest.raises(BadFile, match="more than 1 GiB"):
        big.read()
    assert small.read() == b"<gpx/>"


def test_zips_nested_too_deep_are_reported_not_followed(tmp_path: Path) -> None:
    data = zip_bytes({"run.gpx": b"<gpx/>"})
    for level in range(sources.MAX_ZIP_DEPTH + 1):
        data = zip_bytes({f"level{level}.zip": data})
    (tmp_path / "deep.zip").write_bytes(data)
    (source,) = iter_sources([tmp_path / "deep.zip"])
    assert source.name.count(".zip") == sources.MAX_ZIP_DEPTH + 1
    with pytest.raises(BadFile, match="nested more than"):
        source.read()


def test_directories_macos_forks_and_dot_files_in_zips_are_ignored(tmp_path: Path) -> None:
    make_zip(
        tmp_path / "a.zip",
        {
            "runs/": b"",
            "./runs/ok.gpx": b"1",
            "__MACOSX/runs/._ok.gpx": b"2",
            "runs/.secret.gpx": b"3",
            ".hidden/run.gpx": b"4",
            "runs\\windows.tcx": b"5",
        },
    )
    walk = Walk([tmp_path / "a.zip"])
    assert names(walk) == [f"{tmp_path}/a.zip/runs/ok.gpx", f"{tmp_path}/a.zip/runs/windows.tcx"]
    assert walk.skipped == 0


def test_nothing_is_read_until_read_is_called(tmp_path: Path) -> None:
    run = tmp_path / "run.gpx"
    run.write_text("<gpx/>")
    (source,) = iter_sources([run])
    run.unlink()
    with pytest.raises(BadFile, match="cannot read the file"):
        source.read()


def test_many_archives_listed_first_and_read_later_in_any_order(tmp_path: Path) -> None:
    count = sources.OPEN_ARCHIVES * 2 + 3
    for i in range(count):
        make_zip(tmp_path / f"{i:02d}.zip", {f"{i}-{j}.gpx": f"{i}-{j}".encode() for j in range(3)})
    walk = Walk([tmp_path])
    listed = list(walk.sources())
    assert len(listed) == count * 3
    for source in reversed(listed):
        assert source.read() == Path(source.name).name.removesuffix(".gpx").encode()
    walk.close()
    assert listed[0].read() == b"0-0"  # reopens after close


def test_sources_stay_readable_after_the_walk_object_is_gone(data_dir: Path) -> None:
    listed = list(iter_sources([data_dir / "archives" / "mixed_export.zip"]))
    assert all(source.read() for source in listed)


def test_a_source_can_be_made_by_hand_for_tests_and_other_callers() -> None:
    source = Source("memory.gpx", 3, lambda: b"abc")
    assert (source.read(), source.size) == (b"abc", 3)
    assert "loader" not in repr(source)


def test_skipped_is_recounted_on_every_walk(tmp_path: Path) -> None:
    shutil.copy(Path(__file__), tmp_path / "notes.py")
    walk = Walk([tmp_path])
    assert names(walk) == names(walk) == []
    assert walk.skipped == 1
