"""Connect and disconnect Google Calendar: the OAuth round trip and the connections page actions."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from integrations.http import new_session
from service.app import runtime
from service.crypto import NoEncryptionKeys
from service.jobs import EXTENSION as JOBS
from service.jobs import AppJobs
from service.models import utcnow
from service.usecases.google_connection import (
    disconnect,
    finish_connect,
    google_connection,
    set_reminder,
    start_connect,
)
from service.usecases.oauth_states import ConnectFailed
from service.web.auth import current_runner

bp = Blueprint("connect", __name__, url_prefix="/connect")
BACK = "connections.connections"


def _require_google() -> None:
    settings = runtime().settings
    if not (settings.google_client_id and settings.google_client_secret):
        abort(404)


@bp.post("/google")
def google_start() -> ResponseReturnValue:
    """Send the runner to Google's consent page, remembering state and PKCE verifier."""
    _require_google()
    rt = runtime()
    try:
        with rt.db.session() as db:
            runner = current_runner(db)
            consent = start_connect(db, runner.id, rt.settings, new_session(), utcnow())
    except NoEncryptionKeys:
        flash("This server cannot store connections yet: its operator must set encryption keys.")
        return redirect(url_for(BACK))
    return redirect(consent.url)


@bp.get("/google/callback")
def google_callback() -> ResponseReturnValue:
    """Google sends the runner back here with a code (or an error) and our state."""
    _require_google()
    if request.args.get("error"):
        flash("Google Calendar was not connected: you did not allow access.")
        return redirect(url_for(BACK))
    state, code = request.args.get("state", ""), request.args.get("code", "")
    if not state or not code:
        flash("That Google sign-in link was incomplete: start again.")
        return redirect(url_for(BACK))
    rt = runtime()
    try:
        with rt.db.session() as db:
            runner = current_runner(db)
            finish_connect(
                db, runner.id, rt.settings, new_session(), state=state, code=code, now=utcnow()
            )
            runner_id = runner.id
    except ConnectFailed as exc:
        flash(f"Google Calendar was not connected: {exc}.")
        return redirect(url_for(BACK))
    _publish_soon(runner_id)
    flash("Google Calendar is connected: your sessions appear in a calendar named runstrength.")
    return redirect(url_for(BACK))


@bp.post("/google/disconnect")
def google_disconnect() -> ResponseReturnValue:
    """Revoke and forget the connection; optionally remove our calendar from Google first."""
    rt = runtime()
    remove = request.form.get("remove_data") == "1"
    with rt.db.session() as db:
        runner = current_runner(db)
        connection = google_connection(db, runner.id)
        if connection is None:
            abort(404)
        disconnect(db, connection, rt.settings, new_session(), remove_calendar=remove)
    flash(
        "Google Calendar is disconnected"
        + (" and the runstrength calendar deleted." if remove else "; its calendar stays as it is.")
    )
    return redirect(url_for(BACK))


@bp.post("/google/reminder")
def google_reminder() -> ResponseReturnValue:
    """Change how long before a session Google's popup reminder comes."""
    rt = runtime()
    raw = request.form.get("minutes", "")
    with rt.db.session() as db:
        runner = current_runner(db)
        connection = google_connection(db, runner.id)
        if connection is None:
            abort(404)
        try:
            set_reminder(db, connection, int(raw) if raw.isdigit() else -1)
        except ConnectFailed as exc:
            flash(f"The reminder was not changed: {exc}.")
            return redirect(url_for(BACK))
        runner_id = runner.id
    _publish_soon(runner_id)
    flash("Reminder changed; your Google calendar events follow shortly.")
    return redirect(url_for(BACK))


def _publish_soon(runner_id: int) -> None:
    """Queue a publish for the runner on the app's job queue."""
    app_jobs: AppJobs = current_app.extensions[JOBS]
    app_jobs.get().request_publish({runner_id})
