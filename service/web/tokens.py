"""PLACEHOLDER: a helper replaces this whole module."""

from __future__ import annotations

from flask import Blueprint, abort
from flask.typing import ResponseReturnValue

bp = Blueprint("tokens", __name__)


@bp.get("/settings/tokens")
def tokens_page() -> ResponseReturnValue:
    """Not built yet."""
    abort(501)
