"""PLACEHOLDER: a helper fills in this module (JSON routes under /api/v1)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api_imports", __name__, url_prefix="/api/v1")
