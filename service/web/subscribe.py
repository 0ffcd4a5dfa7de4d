"""PLACEHOLDER: a helper replaces this whole module."""

from __future__ import annotations

from flask import Blueprint, abort
from flask.typing import ResponseReturnValue

bp = Blueprint("subscribe", __name__)


@bp.get("/subscribe")
def subscribe() -> ResponseReturnValue:
    """Not built yet."""
    abort(501)
