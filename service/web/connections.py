"""The connections page: each outside service a runner can link, with its state."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask.typing import ResponseReturnValue

from service.app import runtime
from service.usecases.connections import State, connection_rows
from service.usecases.google_connection import REMINDER_CHOICES
from service.web.auth import current_runner
from service.web.forms import ConfirmForm
from service.web.pages import PRIVATE

bp = Blueprint("connections", __name__)

STATE_WORDS = {
    State.NOT_CONNECTED: "Not connected",
    State.CONNECTED: "Connected",
    State.NEEDS_RECONNECTION: "Needs reconnection",
}


@bp.get("/connections")
def connections() -> ResponseReturnValue:
    """One row per connection type: what it does, whether it is offered here, its state."""
    rt = runtime()
    with rt.db.session() as db:
        rows = connection_rows(db, current_runner(db), rt.settings)
    body = render_template(
        "connections.html",
        rows=rows,
        form=ConfirmForm(),
        State=State,
        state_words=STATE_WORDS,
        reminder_choices=REMINDER_CHOICES,
        has_route=lambda endpoint: bool(endpoint) and endpoint in current_app.view_functions,
    )
    return body, 200, PRIVATE
