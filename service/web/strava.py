"""Connect and disconnect Strava, and Strava's webhook: the subscription check and the events.

Webhook events are unsigned and carry no activity data: the subscription id is checked, the
event is queued, and the answer goes back at once (Strava wants it within 2 seconds).
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue

from integrations.errors import IntegrationError
from integrations.http import new_session
from integrations.strava.webhooks import StravaSubscriptions, WebhookEvent, answer_challenge
from service.app import runtime
from service.crypto import NoEncryptionKeys
from service.jobs import EXTENSION as JOBS
from service.jobs import AppJobs, Jobs
from service.models import utcnow
from service.queue_store import QueueStore
from service.usecases.oauth_states import ConnectFailed
from service.usecases.strava_connection import (
    disconnect,
    endpoints,
    finish_connect,
    start_connect,
    strava_connection,
)
from service.web.auth import current_runner, no_csrf, public

bp = Blueprint("strava", __name__)
BACK = "connections.connections"


def _require_strava() -> None:
    settings = runtime().settings
    if not (settings.strava_client_id and settings.strava_client_secret):
        abort(404)


def _jobs() -> Jobs:
    app_jobs: AppJobs = current_app.extensions[JOBS]
    return app_jobs.get()


@bp.post("/connect/strava")
def connect() -> ResponseReturnValue:
    """Send the runner to Strava's consent page with a fresh state."""
    _require_strava()
    rt = runtime()
    try:
        with rt.db.session() as db, new_session() as session:
            consent = start_connect(db, current_runner(db).id, rt.settings, session, utcnow())
    except NoEncryptionKeys:
        flash("This server cannot store connections yet: its operator must set encryption keys.")
        return redirect(url_for(BACK))
    return redirect(consent.url)


@bp.get("/connect/strava/callback")
def callback() -> ResponseReturnValue:
    """Strava sends the runner back with a code, the scopes they kept, and our state."""
    _require_strava()
    if request.args.get("error"):
        flash("Strava was not connected: you did not allow access.")
        return redirect(url_for(BACK))
    state, code = request.args.get("state", ""), request.args.get("code", "")
    if not state or not code:
        flash("That Strava sign-in link was incomplete: start again.")
        return redirect(url_for(BACK))
    rt = runtime()
    try:
        with rt.db.session() as db, new_session() as session:
            runner_id = current_runner(db).id
            connected = finish_connect(
                db, runner_id, rt.settings, session,
                state=state, code=code, scope=request.args.get("scope", ""), now=utcnow(),
            )  # fmt: skip
    except ConnectFailed as exc:
        flash(f"Strava was not connected: {exc}.")
        return redirect(url_for(BACK))
    _jobs().strava_backfill(runner_id)
    flash("Strava is connected: your activities of the last 16 weeks arrive in a few minutes.")
    if connected.missing:
        flash(f"{connected.missing}.")
    return redirect(url_for(BACK))


@bp.post("/connect/strava/disconnect")
def disconnect_strava() -> ResponseReturnValue:
    """Deauthorize at Strava and delete the grant and every activity only Strava gave."""
    rt = runtime()
    with rt.db.session() as db, new_session() as session:
        runner = current_runner(db)
        connection = strava_connection(db, runner.id)
        if connection is None:
            abort(404)
        deleted = disconnect(db, runner, connection, rt.settings, session, now=utcnow())
    flash(
        f"Strava is disconnected; {deleted} activities that came only from Strava were deleted, "
        "as Strava's terms require."
    )
    return redirect(url_for(BACK))


@bp.get("/webhooks/strava")
@public
@no_csrf
def challenge() -> ResponseReturnValue:
    """Strava's subscription check: echo the challenge when the verify token is ours."""
    answer = answer_challenge(request.args, runtime().settings.strava_webhook_verify_token)
    if answer is None:
        abort(403)
    return jsonify(answer)


@bp.post("/webhooks/strava")
@public
@no_csrf
def event() -> ResponseReturnValue:
    """Queue one event from our subscription; the work happens in a job."""
    _require_strava()
    payload = request.get_json(silent=True)
    try:
        parsed = WebhookEvent.parse(payload if isinstance(payload, dict) else {})
    except ValueError:
        abort(400)
    jobs = _jobs()
    if parsed.subscription_id != _subscription_id(QueueStore(jobs.huey)):
        abort(403)
    jobs.strava_event(payload)
    return "", 200


def _subscription_id(store: QueueStore) -> int | None:
    """Our subscription's id: remembered by `runstrength strava subscribe`, else asked of
    Strava once (it allows one per application) and remembered."""
    known = store.subscription()
    if known is not None:
        return known
    settings = runtime().settings
    try:
        with new_session(retries=0) as session:
            ids = StravaSubscriptions(
                settings.strava_client_id, settings.strava_client_secret,
                endpoints(settings), session,
            ).list()  # fmt: skip
    except IntegrationError:
        abort(503)  # Strava retries the event later
    store.set_subscription(ids[0] if ids else None)
    return ids[0] if ids else None
