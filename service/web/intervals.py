"""Connect intervals.icu with a personal API key or, when this server has an app registered
there, with OAuth; send sessions to its calendar; disconnect."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from integrations.errors import IntegrationError
from integrations.http import new_session
from service.app import runtime
from service.crypto import NoEncryptionKeys
from service.models import Connection, utcnow
from service.usecases.intervals_connection import (
    connect,
    disconnect,
    forget_pushed,
    intervals_client,
    intervals_connection,
    push_enabled,
    push_refusal,
    pushed_uids,
    set_push,
    uses_oauth,
)
from service.usecases.intervals_oauth import finish_connect, oauth_offered, start_connect
from service.usecases.intervals_sync import (
    SYNCED,
    IntervalsReport,
    push_intervals,
    stubs_seen,
    sync_intervals,
)
from service.usecases.oauth_states import ConnectFailed
from service.web.auth import current_runner

bp = Blueprint("intervals", __name__, url_prefix="/connect/intervals")
BACK = "connections.connections"


@dataclass(frozen=True, slots=True)
class IntervalsView:
    """What the connections page shows beyond the common row: the push choice (or why it is
    not offered), Strava stubs."""

    push: bool
    stubs: int
    strava_connected: bool
    push_refused: str | None = None


@bp.app_context_processor
def _view() -> dict[str, object]:
    """``intervals_view()`` and ``intervals_oauth()`` for the connections page; they read only
    when the page calls them."""
    return {"intervals_view": intervals_view, "intervals_oauth": intervals_oauth}


def intervals_oauth() -> bool:
    """Whether the page offers connecting through intervals.icu's consent page."""
    return oauth_offered(runtime().settings)


def intervals_view() -> IntervalsView | None:
    """The signed-in runner's intervals.icu extras, or None when not connected."""
    with runtime().db.session() as db:
        runner = current_runner(db)
        connection = intervals_connection(db, runner.id)
        if connection is None:
            return None
        strava = db.scalar(
            select(Connection.id).where(
                Connection.runner_id == runner.id, Connection.provider == "strava"
            )
        )
        return IntervalsView(
            push_enabled(connection),
            stubs_seen(connection),
            strava is not None,
            push_refusal(connection),
        )


@bp.post("")
def connect_key() -> ResponseReturnValue:
    """Check the API key with one call, keep it sealed, then read runs and planned runs."""
    rt = runtime()
    try:
        with rt.db.session() as db:
            runner = current_runner(db)
            connect(
                db,
                runner,
                rt.settings,
                new_session(),
                api_key=request.form.get("api_key", ""),
                now=utcnow(),
            )
            runner_id = runner.id
    except (NoEncryptionKeys, ConnectFailed) as exc:
        return _not_connected(exc)
    flash("intervals.icu is connected. " + _sync_now(runner_id))
    return redirect(url_for(BACK))


@bp.get("/oauth")
def connect_oauth() -> ResponseReturnValue:
    """Send the runner to intervals.icu's consent page with a fresh state."""
    rt = runtime()
    if not oauth_offered(rt.settings):
        abort(404)
    try:
        with rt.db.session() as db:
            url = start_connect(db, current_runner(db).id, rt.settings, utcnow())
    except NoEncryptionKeys as exc:
        return _not_connected(exc)
    return redirect(url)


@bp.get("/callback")
def callback() -> ResponseReturnValue:
    """intervals.icu sends the runner back with a code and our state, or with an error."""
    rt = runtime()
    if not oauth_offered(rt.settings):
        abort(404)
    if request.args.get("error"):
        flash("intervals.icu was not connected: you did not allow access.")
        return redirect(url_for(BACK))
    state, code = request.args.get("state", ""), request.args.get("code", "")
    if not state or not code:
        flash("That intervals.icu sign-in link was incomplete: start again.")
        return redirect(url_for(BACK))
    with rt.db.session() as db:
        runner_id = current_runner(db).id
    try:
        with new_session() as session:
            connected = finish_connect(
                rt.db, runner_id, rt.settings, session, state=state, code=code, now=utcnow()
            )
    except (NoEncryptionKeys, ConnectFailed) as exc:
        return _not_connected(exc)
    who = f" as {connected.account}" if connected.account else ""
    flash(f"intervals.icu is connected{who}. " + _sync_now(runner_id))
    if connected.missing:
        flash(f"{connected.missing}.")
    return redirect(url_for(BACK))


@bp.post("/push")
def push() -> ResponseReturnValue:
    """Turn sending our sessions to the intervals.icu calendar on (and send) or off (and remove)."""
    rt = runtime()
    on = request.form.get("push") == "1"
    with rt.db.session() as db:
        runner = current_runner(db)
        connection = intervals_connection(db, runner.id)
        if connection is None:
            abort(404)
        refused = push_refusal(connection)
        if on and refused:
            flash(f"Sessions were not sent to intervals.icu: {refused}.")
            return redirect(url_for(BACK))
        if not on:
            try:
                uids = pushed_uids(db, connection)
                intervals_client(connection, rt.settings, new_session()).delete_events(uids)
            except (IntegrationError, ValueError) as exc:
                flash(f"Your sessions could not be removed from intervals.icu ({exc}): try again.")
                return redirect(url_for(BACK))
            forget_pushed(db, connection)
        set_push(db, connection, on)
        runner_id = runner.id
    if not on:
        flash("Sessions are no longer sent to intervals.icu, and those sent were removed.")
        return redirect(url_for(BACK))
    try:
        report = push_intervals(rt.db, rt.settings, runner_id, now=utcnow(), session=new_session())
    except IntegrationError as exc:
        flash(f"Sessions will go to intervals.icu, but sending failed for now ({exc}).")
        return redirect(url_for(BACK))
    if report.state != SYNCED:
        flash(f"Sessions were not sent to intervals.icu: {report.detail}.")
    else:
        flash(f"{report.upserted} sessions sent to your intervals.icu calendar.")
    return redirect(url_for(BACK))


@bp.post("/disconnect")
def disconnect_key() -> ResponseReturnValue:
    """Forget the key and the planned runs; optionally remove the sessions we sent first."""
    rt = runtime()
    remove = request.form.get("remove_data") == "1"
    with rt.db.session() as db:
        runner = current_runner(db)
        connection = intervals_connection(db, runner.id)
        if connection is None:
            abort(404)
        secret = "access token" if uses_oauth(connection) else "API key"
        disconnect(db, connection, rt.settings, new_session(), remove_sessions=remove)
    flash(
        f"intervals.icu is disconnected and its {secret} deleted"
        + ("; the sessions we sent were removed." if remove else ".")
    )
    return redirect(url_for(BACK))


def _sync_now(runner_id: int) -> str:
    """Read runs and planned runs right away (two calls), and say what came of it."""
    rt = runtime()
    try:
        report = sync_intervals(rt.db, rt.settings, runner_id, now=utcnow(), session=new_session())
    except IntegrationError as exc:
        return f"Reading your runs failed for now ({exc}); it is tried again later."
    return describe(report)


def _not_connected(exc: NoEncryptionKeys | ConnectFailed) -> ResponseReturnValue:
    """Back to the connections page, saying why nothing was connected."""
    if isinstance(exc, NoEncryptionKeys):
        flash("This server cannot store connections yet: its operator must set encryption keys.")
    else:
        flash(f"intervals.icu was not connected: {exc}.")
    return redirect(url_for(BACK))


def describe(report: IntervalsReport) -> str:
    """A sync report in words for the runner."""
    if report.state != SYNCED:
        return f"Nothing was read: {report.detail}."
    text = (
        f"{report.stored} new activities, {report.linked} already known, "
        f"{report.planned} planned runs in the coming weeks."
    )
    if report.stubs_skipped:
        n = report.stubs_skipped
        came = "activity came" if n == 1 else "activities came"
        text += f" {n} {came} from Strava and {'was' if n == 1 else 'were'} skipped."
    return text
