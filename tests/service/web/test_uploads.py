"""The import page: files streamed to disk, imported per file, results shown, nothing left over."""

from __future__ import annotations

import gzip
import io
from pathlib import Path
from typing import IO, Any

import pytest
from flask import Flask

from service.app import runtime
from service.usecases import uploads
from service.usecases.import_files import import_sources
from service.usecases.uploads import UPLOADS_DIR, disk_name, shown_name
from tests.service.web.conftest import Member

DATA = Path(__file__).resolve().parents[2] / "data"
RUN_FIT = DATA / "fit" / "run.fit"
WATCH_ZIP = DATA / "sample" / "activities" / "watch-export.zip"
LONG_TCX = DATA / "sample" / "activities" / "2026-11-15_0904_long.tcx"
SPOOL_IN_MEMORY = 500 * 1024  # Werkzeug keeps file parts up to this size in memory
XHR = {"X-Requested-With": "XMLHttpRequest"}


def _part(path: Path, name: str | None = None, data: bytes | None = None) -> tuple[IO[bytes], str]:
    return io.BytesIO(path.read_bytes() if data is None else data), name or path.name


def _upload(member: Member, *parts: tuple[IO[bytes], str], **fields: Any) -> Any:
    extra = {k: fields.pop(k) for k in ("headers", "environ_overrides") if k in fields}
    form = {"files": list(parts), **fields}
    return member.post("/import", form, content_type="multipart/form-data", **extra)


def _activities(member: Member) -> list[dict[str, Any]]:
    response = member.client.get("/api/v1/activities?limit=1000")
    assert response.status_code == 200
    rows: list[dict[str, Any]] = response.get_json()["activities"]
    return rows


def _upload_root(app: Flask) -> Path:
    return runtime(app).settings.data_dir / UPLOADS_DIR


def _leftovers(app: Flask) -> list[Path]:
    root = _upload_root(app)
    return sorted(root.rglob("*")) if root.exists() else []


def test_the_import_page_offers_a_file_picker_a_drop_zone_and_the_sport_option(
    member: Member,
) -> None:
    response = member.client.get("/import")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in page
    assert 'type="file"' in page
    assert "multiple" in page
    assert ".fit,.gpx,.tcx,.gz,.zip" in page
    assert "data-dropzone" in page
    assert 'name="unknown_as_run"' in page
    assert "upload.js" in page
    assert 'href="/import" aria-current="page"' in page


def test_an_uploaded_fit_file_is_imported_and_counts_in_the_mileage(member: Member) -> None:
    response = _upload(member, _part(RUN_FIT))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Imported" in page
    assert "run.fit" in page
    assert "1 run imported" in page
    [activity] = _activities(member)
    assert (activity["origin"], activity["sport"], activity["distance_m"]) == (
        "run.fit",
        "run",
        3600,
    )
    day = activity["start"][:10]
    mileage = member.client.get(f"/api/v1/mileage?today={day}&weeks=1").get_json()
    assert mileage["weeks"][0]["distance_km"] == 3.6
    dashboard = member.client.get(f"/?today={day}").get_data(as_text=True)
    assert "Import your runs" not in dashboard  # the getting-started step is done
    assert "3.6 km so far in 1 runs" in dashboard  # this week's bar in the mileage chart


def test_a_zip_is_imported_entry_by_entry_under_its_own_name(member: Member) -> None:
    page = _upload(member, _part(WATCH_ZIP)).get_data(as_text=True)
    assert "5 runs imported" in page
    assert "watch-export.zip/activities/2026-11-19_1830_easy.gpx" in page
    assert len(_activities(member)) == 5


def test_a_corrupt_file_is_rejected_by_name_while_the_good_one_is_imported(
    member: Member, app: Flask
) -> None:
    broken = _part(DATA / "fit" / "not_a_fit_file.fit", "broken.fit")
    response = _upload(member, broken, _part(RUN_FIT))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.count("outcome-rejected") == 1
    assert page.count("outcome-imported") == 1
    rejected = page.split("outcome-rejected", 1)[1].split("</li>", 1)[0]
    assert "broken.fit" in rejected
    assert 'class="reason"' in rejected
    assert "1 rejected" in page
    assert [a["origin"] for a in _activities(member)] == ["run.fit"]
    assert _leftovers(app) == []


def test_the_same_file_twice_is_a_duplicate_and_adds_no_activity(member: Member) -> None:
    _upload(member, _part(RUN_FIT))
    page = _upload(member, _part(RUN_FIT)).get_data(as_text=True)
    assert "outcome-duplicate" in page
    assert "already imported" in page
    assert "0 runs imported" in page
    assert len(_activities(member)) == 1


@pytest.mark.parametrize(("ticked", "outcome"), [(True, "imported"), (False, "not_running")])
def test_files_without_a_sport_count_as_runs_only_when_asked(
    member: Member, ticked: bool, outcome: str
) -> None:
    fields = {"unknown_as_run": "y"} if ticked else {}
    page = _upload(member, _part(DATA / "gpx" / "no_type.gpx"), **fields).get_data(as_text=True)
    assert f"outcome-{outcome}" in page
    assert [a["sport"] for a in _activities(member)] == ["run" if ticked else "unknown"]


def test_without_a_file_the_form_says_so_next_to_the_field(member: Member) -> None:
    response = member.post("/import", {}, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="files-error"' in page
    assert "choose at least one" in page
    assert 'aria-invalid="true"' in page
    empty_picker = _upload(member, (io.BytesIO(b""), ""))
    assert empty_picker.status_code == 400


def test_a_too_large_upload_gets_a_friendly_413_and_stores_nothing(
    member: Member, app: Flask
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 20_000
    response = _upload(member, _part(LONG_TCX))
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "larger than 19 KB" in page
    assert "send fewer files at once" in page
    assert 'id="files-error"' in page
    xhr = _upload(member, _part(LONG_TCX), headers=XHR)
    assert xhr.status_code == 413
    assert "Nothing was imported" in xhr.get_data(as_text=True)
    app.config["MAX_CONTENT_LENGTH"] = None
    assert _activities(member) == []
    assert _leftovers(app) == []


def test_a_stream_without_a_length_is_cut_off_at_the_limit_and_its_part_file_removed(
    member: Member, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 100_000
    opened: list[Path] = []
    real_open = uploads.UploadFolder.open_part

    def open_spy(folder: uploads.UploadFolder, name: str | None) -> IO[bytes]:
        handle = real_open(folder, name)
        opened.append(folder.parts[-1].path)
        return handle

    monkeypatch.setattr(uploads.UploadFolder, "open_part", open_spy)
    chunked = {"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True}
    response = _upload(member, _part(LONG_TCX), environ_overrides=chunked)
    assert response.status_code == 413
    assert len(opened) == 1  # writing had begun when the limit cut the stream off
    assert not opened[0].exists()
    assert _leftovers(app) == []


def test_the_upload_folder_is_removed_after_the_import(
    member: Member, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Path] = []
    real = uploads.import_parts

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.extend(p.path for p in args[2])
        assert all(p.exists() for p in seen)
        return real(*args, **kwargs)

    monkeypatch.setattr("service.web.uploads.import_parts", spy)
    _upload(member, _part(RUN_FIT), _part(WATCH_ZIP))
    assert len(seen) == 2
    assert all(_upload_root(app) in p.parents for p in seen)
    assert not any(p.exists() for p in seen)
    assert _upload_root(app).is_dir()
    assert _leftovers(app) == []


def test_a_large_file_streams_to_disk_and_never_through_werkzeug_s_memory_spool(
    member: Member, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = LONG_TCX.read_bytes() + b"\n<!--" + b"x" * SPOOL_IN_MEMORY + b"-->\n"
    assert len(big) > SPOOL_IN_MEMORY

    def no_spool(*_args: Any, **_kwargs: Any) -> IO[bytes]:
        raise AssertionError("the upload went through Werkzeug's in-memory spool")

    monkeypatch.setattr("werkzeug.wrappers.request.default_stream_factory", no_spool)
    on_disk: list[int] = []
    real_import = import_sources

    def import_spy(*args: Any, **kwargs: Any) -> Any:
        folders = [p for p in _upload_root(app).iterdir() if p.is_dir()]
        on_disk.extend(f.stat().st_size for folder in folders for f in folder.iterdir())
        return real_import(*args, **kwargs)

    monkeypatch.setattr("service.usecases.uploads.import_sources", import_spy)
    response = _upload(member, _part(LONG_TCX, "long.tcx", big))
    assert response.status_code == 200
    assert "outcome-imported" in response.get_data(as_text=True)
    assert on_disk == [len(big)]  # the whole file was a file on disk when the import read it
    assert _leftovers(app) == []


def test_file_names_are_shown_as_sent_but_never_used_as_paths(member: Member, app: Flask) -> None:
    gz = gzip.compress(RUN_FIT.read_bytes())
    response = _upload(member, _part(RUN_FIT, "../../escape/läufe.fit.gz", gz))
    page = response.get_data(as_text=True)
    assert "outcome-imported" in page
    assert "läufe.fit.gz" in page
    assert "../" not in page.split("import-results", 1)[1]
    assert not (runtime(app).settings.data_dir / "escape").exists()
    assert not (runtime(app).settings.data_dir.parent / "escape").exists()


def test_names_are_sanitised_on_disk_and_keep_what_the_importer_needs() -> None:
    assert shown_name("C:\\fakepath\\run.fit") == "run.fit"
    assert shown_name("a/b/\x00bad\nname.gpx") == "badname.gpx"
    assert shown_name("") == "unnamed file"
    assert disk_name(3, "../../etc/passwd") == "0003-etc_passwd"
    assert disk_name(0, "日本.zip").endswith(".zip")
    assert "/" not in disk_name(1, shown_name("../../x.zip"))


def test_with_javascript_only_the_results_come_back(member: Member) -> None:
    response = _upload(member, _part(RUN_FIT), headers=XHR)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in body
    assert "outcome-imported" in body


def test_a_post_without_the_csrf_token_is_refused_and_imports_nothing(member: Member) -> None:
    form = {"files": [_part(RUN_FIT)]}
    response = member.client.post("/import", data=form, content_type="multipart/form-data")
    assert response.status_code == 400
    assert _activities(member) == []


def test_runner_b_never_sees_runner_a_s_uploads(member: Member, other: Member) -> None:
    _upload(member, _part(RUN_FIT))
    day = _activities(member)[0]["start"][:10]
    assert _activities(other) == []
    assert "0.0 km so far in 0 runs" in other.client.get(f"/?today={day}").get_data(as_text=True)
    page = _upload(other, _part(RUN_FIT)).get_data(as_text=True)
    assert "outcome-imported" in page  # A's copy does not make B's a duplicate
    assert len(_activities(member)) == 1


def test_signed_out_visitors_are_sent_to_sign_in(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/import").status_code == 302
