"""PLACEHOLDER: a helper fills in this module (JSON routes under /api/v1)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api_sessions", __name__, url_prefix="/api/v1")
