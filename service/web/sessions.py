"""PLACEHOLDER: a helper replaces this whole module."""

from __future__ import annotations

from flask import Blueprint, abort
from flask.typing import ResponseReturnValue

bp = Blueprint("sessions", __name__)


@bp.get("/sessions/<uid>")
def session_page(uid: str) -> ResponseReturnValue:
    """Not built yet."""
    abort(501)
