"""File uploads streamed to disk: marked views get each multipart file written to a private folder.

Werkzeug hands every file part to the request's stream factory and copies it in chunks; for
marked views that factory opens a file in a per-request UploadFolder instead of a spooled
buffer, so an upload is never held whole in memory, even when the CSRF check parses the form
before the view runs. The folder is removed when the request ends, whatever happened.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, TypeVar

from flask import Flask, Request, current_app, request
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue

from service.app import runtime
from service.usecases.uploads import UPLOADS_DIR, Part, UploadFolder

MAX_UPLOAD_BYTES = 256 * 1024 * 1024  # one request, all files together
_STREAMED_MARK = "_runstrength_streamed_upload"
_INSTALLED = "runstrength.upload_stream"
F = TypeVar("F", bound=Callable[..., ResponseReturnValue])


def streamed_upload(view: F) -> F:
    """Mark a view whose multipart files are written straight to an UploadFolder."""
    setattr(view, _STREAMED_MARK, True)
    return view


class UploadRequest(Request):
    """Flask's request, with file parts of marked views written to the request's folder."""

    upload_folder: UploadFolder | None = None

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        view = current_app.view_functions.get(self.endpoint or "")
        if not getattr(view, _STREAMED_MARK, False):
            return super()._get_file_stream(
                total_content_length, content_type, filename, content_length
            )
        if self.upload_folder is None:
            self.upload_folder = UploadFolder(runtime().settings.data_dir / UPLOADS_DIR)
        return self.upload_folder.open_part(filename)


def install(state: BlueprintSetupState) -> None:
    """Once per app: the size limit, the request class, and removing folders after requests."""
    app = state.app
    assert isinstance(app, Flask)
    if app.extensions.get(_INSTALLED):
        return
    app.extensions[_INSTALLED] = True
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = MAX_UPLOAD_BYTES
    _use_upload_request(app)
    app.teardown_request(_remove_folder)


def _use_upload_request(app: Flask) -> None:
    if not issubclass(app.request_class, UploadRequest):
        if app.request_class is not Request:  # someone else customised it: do not drop theirs
            raise RuntimeError("streamed uploads need the app's request class to be Flask's own")
        app.request_class = UploadRequest


def upload_limit() -> int:
    """The most bytes one upload request may carry."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    return int(limit) if limit else MAX_UPLOAD_BYTES


def limit_words() -> str:
    """The upload limit as a runner reads it: 256 MB, or KB for small limits (tests)."""
    limit = upload_limit()
    if limit >= 1024 * 1024:
        return f"{limit / (1024 * 1024):.4g} MB"
    return f"{max(limit // 1024, 1)} KB"


def uploaded_parts(field: str) -> list[Part]:
    """The files sent under ``field`` that have a name, in the order sent."""
    chosen = [f.stream for f in request.files.getlist(field) if f.filename]
    folder = getattr(request, "upload_folder", None)
    if folder is None:
        return []
    return [part for part in folder.parts if any(part.handle is s for s in chosen)]


def _remove_folder(_exc: BaseException | None) -> None:
    folder = getattr(request, "upload_folder", None)
    if folder is not None:
        folder.close()
