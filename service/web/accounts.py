"""Sign up, sign in, sign out and change password (pages and plain forms)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from integrations.http import new_session
from service.app import runtime
from service.models import utcnow
from service.settings import Settings
from service.usecases.accounts import (
    Throttled,
    WrongPassword,
    change_password,
    sign_in,
    sign_up,
)
from service.usecases.google_signin import finish_sign_in, start_sign_in
from service.usecases.oauth_states import ConnectFailed
from service.usecases.runners import InvalidValue, is_zone
from service.web.auth import (
    current_runner,
    identity,
    public,
    safe_next,
    sign_in_session,
    sign_out_session,
    single_runner,
)
from service.web.forms import ConfirmForm, PasswordForm, SignInForm, SignUpForm

bp = Blueprint("accounts", __name__)
NO_STORE = {"Cache-Control": "no-store"}


@bp.route("/signup", methods=["GET", "POST"])
@public
def signup() -> ResponseReturnValue:
    """Create an account and its runner, sign in, and go on to onboarding."""
    if single_runner() or identity() is not None:
        return redirect(url_for("pages.dashboard"))
    form = SignUpForm()
    if form.validate_on_submit():
        zone = form.timezone.data if form.timezone.data and is_zone(form.timezone.data) else None
        try:
            with runtime().db.session() as db:
                signed = sign_up(db, form.email.data or "", form.password.data or "", zone)
        except InvalidValue as exc:
            form.email.errors = [*form.email.errors, str(exc)]
        else:
            sign_in_session(signed)
            return redirect(url_for("settings.onboarding"))
    status = 400 if form.errors else 200
    return render_template("signup.html", form=form, **_google()), status, NO_STORE


@bp.route("/signin", methods=["GET", "POST"])
@public
def signin() -> ResponseReturnValue:
    """Check email and password (throttled), then go where the runner was headed."""
    target = safe_next(request.values.get("next"), url_for("pages.dashboard"))
    if single_runner() or identity() is not None:
        return redirect(target)
    form = SignInForm()
    form.next.data = target
    status = 200
    if form.validate_on_submit():
        address = request.remote_addr or "unknown"
        try:
            with runtime().db.session() as db:
                signed = sign_in(
                    db, form.email.data or "", form.password.data or "", address, utcnow()
                )
        except Throttled as exc:
            form.password.errors = [str(exc)]
            return (
                render_template("signin.html", form=form),
                429,
                NO_STORE | {"Retry-After": str(exc.retry_after_s)},
            )
        if signed is not None:
            sign_in_session(signed)
            return redirect(target)
        form.password.errors = ["that email and password do not match an account"]
    if form.errors:
        status = 401 if request.method == "POST" and form.email.data else 400
    return render_template("signin.html", form=form, **_google()), status, NO_STORE


@bp.post("/signin/google")
@public
def google_signin() -> ResponseReturnValue:
    """Send the runner to Google to sign in (or sign up) with their Google account."""
    settings = runtime().settings
    if single_runner() or not google_sign_in_offered(settings):
        abort(404)
    with runtime().db.session() as db:
        consent = start_sign_in(db, settings, new_session(), utcnow())
    return redirect(consent.url)


@bp.get("/signin/google/callback")
@public
def google_signin_callback() -> ResponseReturnValue:
    """Google sends the runner back: sign in to the account of their verified email."""
    settings = runtime().settings
    if single_runner() or not google_sign_in_offered(settings):
        abort(404)
    state, code = request.args.get("state", ""), request.args.get("code", "")
    if request.args.get("error") or not state or not code:
        flash("You were not signed in with Google.")
        return redirect(url_for("accounts.signin"))
    try:
        with runtime().db.session() as db:
            signed, created = finish_sign_in(
                db, settings, new_session(), state=state, code=code, now=utcnow()
            )
    except ConnectFailed as exc:
        flash(f"You were not signed in with Google: {exc}.")
        return redirect(url_for("accounts.signin"))
    sign_in_session(signed)
    return redirect(url_for("settings.onboarding" if created else "pages.dashboard"))


def google_sign_in_offered(settings: Settings) -> bool:
    """Sign-in with Google appears when the server has a Google client."""
    return bool(settings.google_client_id and settings.google_client_secret)


@bp.post("/signout")
def signout() -> ResponseReturnValue:
    """End this browser's session."""
    sign_out_session()
    if single_runner():
        return redirect(url_for("pages.dashboard"))
    return redirect(url_for("accounts.signin"))


@bp.route("/settings/password", methods=["GET", "POST"])
def password() -> ResponseReturnValue:
    """Change the password; every other signed-in browser is signed out."""
    found = identity()
    if found is None or found.account_id is None:
        return render_template(
            "error.html",
            status=404,
            heading="No password here",
            detail="This installation runs for one runner without accounts.",
        ), 404
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            with runtime().db.session() as db:
                current_runner(db)
                signed = change_password(
                    db, found.account_id, form.current.data or "", form.new.data or ""
                )
        except WrongPassword as exc:
            form.current.errors = [str(exc)]
        except InvalidValue as exc:
            form.new.errors = [str(exc)]
        else:
            sign_in_session(signed)
            flash("Password changed. Other devices have been signed out.")
            return redirect(url_for("settings.settings"))
    status = 400 if form.errors else 200
    return render_template("password.html", form=form, signout=ConfirmForm()), status, NO_STORE


def _google() -> dict[str, object]:
    return {"google": google_sign_in_offered(runtime().settings), "google_form": ConfirmForm()}
