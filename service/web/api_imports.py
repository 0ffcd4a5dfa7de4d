"""JSON API for imports: upload activity files (streamed to disk) and list stored activities."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from integrations.types import Sport
from service.app import runtime
from service.history_view import activity_json
from service.usecases.activities import newest_activities
from service.usecases.import_files import Outcome
from service.usecases.uploads import UploadResult, import_parts
from service.web.auth import current_runner
from service.web.openapi import ERROR_BODY, Body, operation
from service.web.params import Param, date_param, int_param
from service.web.upload_stream import install, streamed_upload, uploaded_parts

bp = Blueprint("api_imports", __name__, url_prefix="/api/v1")
bp.record_once(install)

FILES_FIELD = "files"
SPORTS = [s.value for s in Sport if s is not Sport.UNKNOWN]
COUNT = {"type": "integer", "minimum": 0}
NULLABLE_NUMBER = {"type": ["number", "null"]}


def _closed(properties: dict[str, Any]) -> dict[str, Any]:
    """An object with exactly these properties, all required."""
    return {
        "type": "object",
        "required": list(properties),
        "properties": properties,
        "additionalProperties": False,
    }


FILE_RESULT = _closed(
    {
        "name": {"type": "string", "description": "As uploaded; zip entries as zip/path."},
        "outcome": {"enum": [o.value for o in Outcome]},
        "runs": COUNT,
        "others": COUNT,
        "duplicates": COUNT,
        "detail": {"type": "string", "description": "One line: what was stored, or why not."},
    }
)
TOTALS = _closed(
    dict.fromkeys(("files", "runs", "others", "duplicates", "rejected", "skipped"), COUNT)
)
IMPORT = Body(
    "ImportResult",
    _closed({"files": {"type": "array", "items": FILE_RESULT}, "totals": TOTALS}),
)
ACTIVITY = _closed(
    {
        "id": {"type": "integer"},
        "source": {"type": "string"},
        "sport": {"type": "string"},
        "start": {"type": "string", "format": "date-time"},
        "start_utc": {"type": "string", "format": "date-time"},
        "distance_m": {"type": "number"},
        "moving_s": NULLABLE_NUMBER,
        "elapsed_s": NULLABLE_NUMBER,
        "origin": {"type": "string"},
    }
)
ACTIVITIES = Body("Activities", _closed({"activities": {"type": "array", "items": ACTIVITY}}))


def _parse_sport(raw: str) -> Sport:
    if raw not in SPORTS:
        raise ValueError(f"expected one of {', '.join(SPORTS)}, got {raw!r}")
    return Sport(raw)


SPORT = Param(
    "sport",
    "Sport for activities whose file names none (e.g. run for GPX tracks without a type).",
    {"type": "string", "enum": SPORTS},
    _parse_sport,
    example="run",
)
SINCE = date_param("since", "Only activities from this local date on.")
LIMIT = int_param("limit", "At most this many activities.", default=100, low=1, high=1000)


@bp.post("/imports")
@streamed_upload
@operation(
    "Import FIT, GPX or TCX files (plain or .gz) or zip archives; results file by file.",
    description=(
        "Send `multipart/form-data` with one or more file parts named `files` (256 MB in all "
        "by default). Each file is imported on its own: a broken one is reported as rejected "
        "with the reason and the others are stored. Files seen before count as duplicates."
    ),
    params=(SPORT,),
    ok=IMPORT,
    files="files",
    errors={
        400: (
            "No file was sent, a parameter is malformed, or the CSRF token is missing.",
            ERROR_BODY,
        ),
        413: ("The upload is larger than the limit.", ERROR_BODY),
    },
)
def create_import(sport: Sport | None) -> ResponseReturnValue:
    """Import the uploaded files for the runner of this request."""
    parts = uploaded_parts(FILES_FIELD)
    if not parts:
        problem = (
            f"{FILES_FIELD}: send at least one file as a multipart/form-data part named 'files'"
        )
        return jsonify(error=problem), 400
    rt = runtime()
    with rt.db.session() as db:
        runner_id = current_runner(db).id
    return jsonify(upload_json(import_parts(rt.db, runner_id, parts, sport_override=sport)))


@bp.get("/activities")
@operation(
    "The runner's stored activities, newest first.",
    description="The same objects as `runstrength activities --json`, newest first.",
    params=(SINCE, LIMIT),
    ok=ACTIVITIES,
)
def activities(since: date | None, limit: int) -> ResponseReturnValue:
    """Up to ``limit`` activities of the runner of this request, from ``since`` on."""
    with runtime().db.session() as db:
        runner = current_runner(db)
        rows = [
            activity_json(a, runner)
            for a in newest_activities(db, runner, since=since, limit=limit)
        ]
    return jsonify(activities=rows)


def upload_json(result: UploadResult) -> dict[str, Any]:
    """Per-file results and totals of one upload."""
    files = [
        {
            "name": f.name,
            "outcome": f.outcome.value,
            "runs": f.runs,
            "others": f.others,
            "duplicates": f.duplicates,
            "detail": f.detail,
        }
        for f in result.report.files
    ]
    return {"files": files, "totals": result.totals()}
