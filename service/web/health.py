"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from service.app import runtime
from service.db import SchemaOutdated, check_schema
from service.web.api_schemas import STATUS_OK, STATUS_READY, STATUS_UNAVAILABLE
from service.web.openapi import operation

bp = Blueprint("health", __name__)
NO_STORE = {"Cache-Control": "no-store"}


@bp.get("/healthz")
@operation("The process is alive.", ok=STATUS_OK)
def healthz() -> ResponseReturnValue:
    """Answer without touching anything else: a failing probe here means restart the process."""
    return jsonify(status="ok"), 200, NO_STORE


@bp.get("/readyz")
@operation(
    "The service can answer requests: its database answers and has the current schema.",
    ok=STATUS_READY,
    errors={503: ("Not ready; the reason says why.", STATUS_UNAVAILABLE)},
)
def readyz() -> ResponseReturnValue:
    """Ready only when a trivial query works and the schema is the one this code needs."""
    reason = _not_ready_reason()
    if reason is not None:
        current_app.logger.warning("not ready: %s", reason)
        return jsonify(status="unavailable", reason=reason), 503, NO_STORE
    return jsonify(status="ready"), 200, NO_STORE


def _not_ready_reason() -> str | None:
    """Why the service is not ready, in one line, or None; never the connection details."""
    engine = runtime().db.engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        check_schema(engine)
    except SchemaOutdated as exc:
        return str(exc)
    except SQLAlchemyError as exc:
        return f"the database does not answer ({type(exc).__name__})"
    return None
