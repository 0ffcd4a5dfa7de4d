"""PLACEHOLDER: a helper replaces this whole module."""

from __future__ import annotations

from flask import Blueprint, abort
from flask.typing import ResponseReturnValue

bp = Blueprint("settings", __name__)


@bp.get("/settings")
def settings() -> ResponseReturnValue:
    """Not built yet."""
    abort(501)


@bp.get("/onboarding")
def onboarding() -> ResponseReturnValue:
    """Not built yet."""
    abort(501)
