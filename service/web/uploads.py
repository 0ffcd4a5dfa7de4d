"""PLACEHOLDER: a helper replaces this whole module."""

from __future__ import annotations

from flask import Blueprint, abort
from flask.typing import ResponseReturnValue

bp = Blueprint("uploads", __name__)


@bp.get("/import")
def import_page() -> ResponseReturnValue:
    """Not built yet."""
    abort(501)
