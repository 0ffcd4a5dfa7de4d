"""The import page: upload activity files or zips (streamed to disk) and see each file's outcome.

With JavaScript the form goes by XHR with a progress bar and only the results come back; without
it the plain multipart form posts and the whole page comes back with the results.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge

from integrations.types import Sport
from service.app import runtime
from service.usecases.import_files import Outcome
from service.usecases.uploads import UploadResult, import_parts
from service.web.auth import current_runner
from service.web.upload_forms import ACCEPT, ImportForm
from service.web.upload_stream import (
    install,
    limit_words,
    streamed_upload,
    upload_limit,
    uploaded_parts,
)

bp = Blueprint("uploads", __name__)
bp.record_once(install)

NO_STORE = {"Cache-Control": "no-store"}
OUTCOME_WORDS = {
    Outcome.IMPORTED: "Imported",
    Outcome.DUPLICATE: "Duplicate",
    Outcome.NOT_RUNNING: "Not running",
    Outcome.REJECTED: "Rejected",
}


@bp.get("/import")
def import_page() -> ResponseReturnValue:
    """The upload form: file picker, drop zone and the sport option."""
    return _render(ImportForm(), None, 200)


@bp.post("/import")
@streamed_upload
def upload() -> ResponseReturnValue:
    """Import the uploaded files for the signed-in runner and show what came of each."""
    form = ImportForm()
    if not form.validate_on_submit():
        return _render(form, None, 400)
    parts = uploaded_parts(form.files.name)
    if not parts:  # the form saw files that never reached the upload folder
        form.files.errors = ["the files did not arrive: please choose them again"]
        return _render(form, None, 400)
    sport = Sport.RUN if form.unknown_as_run.data else None
    rt = runtime()
    with rt.db.session() as db:
        runner_id = current_runner(db).id
    result = import_parts(rt.db, runner_id, parts, sport_override=sport)
    return _render(ImportForm(formdata=None), result, 200)


@bp.app_errorhandler(RequestEntityTooLarge)
def too_large(_exc: RequestEntityTooLarge) -> ResponseReturnValue:
    """A friendly 413 wherever an upload is over the limit: JSON, the import form, or a page."""
    message = (
        f"that upload is larger than {limit_words()}: "
        "send fewer files at once, or split the archive"
    )
    if request.path.startswith("/api/"):
        return jsonify(error=f"files: {message}"), 413
    if request.endpoint == "uploads.upload":
        form = ImportForm(formdata=None)  # the body is not read again
        form.files.errors = [message]
        return _render(form, None, 413)
    page = render_template(
        "error.html", status=413, heading="Too large", detail=message.capitalize()
    )
    return page, 413, NO_STORE


def _render(form: ImportForm, result: UploadResult | None, status: int) -> ResponseReturnValue:
    """The whole page, or only the results part when the page's script asked for it."""
    partial = request.headers.get("X-Requested-With") == "XMLHttpRequest"
    page = render_template(
        "_import_results.html" if partial else "import.html",
        form=form,
        result=result,
        partial=partial,
        outcome_words=OUTCOME_WORDS,
        accept=ACCEPT,
        max_bytes=upload_limit(),
        max_words=limit_words(),
    )
    return page, status, NO_STORE
