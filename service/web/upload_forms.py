"""The import form: activity files (or zips) and whether files without a sport count as runs."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileRequired, MultipleFileField
from wtforms import BooleanField

ACCEPT = ".fit,.gpx,.tcx,.gz,.zip,application/zip,application/gzip"


class ImportForm(FlaskForm):
    """One or more FIT, GPX or TCX files (plain or .gz) or zip archives."""

    files = MultipleFileField(
        "Activity files",
        validators=[FileRequired("choose at least one FIT, GPX or TCX file, or a zip")],
    )
    unknown_as_run = BooleanField("Count files that name no sport as runs")
