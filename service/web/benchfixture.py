"""A constant-bytes endpoint for bench/feed_http.py; only with RUNSTRENGTH_BENCH_ENDPOINT=1."""

from __future__ import annotations

import os
from functools import lru_cache

from flask import Blueprint, Flask, Response

ENV = "RUNSTRENGTH_BENCH_ENDPOINT"
MAX_BYTES = 4 * 1024 * 1024

bp = Blueprint("benchfixture", __name__)


def register(app: Flask) -> None:
    """Add the endpoint when the benchmark asked for it; otherwise do nothing."""
    if os.environ.get(ENV) == "1":
        app.register_blueprint(bp)


@lru_cache(maxsize=8)
def _body(size: int) -> bytes:
    return b"x" * size


@bp.get("/__bench/constant/<int:size>")
def constant(size: int) -> Response:
    """``size`` bytes, the same every time: the floor a feed response is compared against."""
    return Response(_body(min(size, MAX_BYTES)), content_type="text/calendar; charset=utf-8")
