"""Onboarding and settings: the preferences form, export of all data, deletion of the account."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from service.app import runtime
from service.models import utcnow
from service.usecases.history import today_for
from service.usecases.runner_data import (
    SINGLE_RUNNER_WORD,
    BadPreferences,
    confirmation_for,
    delete_runner,
    export_runner,
    preference_problems,
    preferences_draft,
    update_preferences,
)
from service.usecases.runners import InvalidValue
from service.web.auth import current_runner, sign_out_session, single_runner
from service.web.params import BadParameter, date_param
from service.web.settings_forms import (
    DeleteForm,
    PreferencesForm,
    initial_data,
    preference_changes,
    show_problems,
)

bp = Blueprint("settings", __name__)
TODAY = date_param("today", "Suggest from the runs as if today were this date (demos and tests).")
NO_STORE = {"Cache-Control": "no-store"}


@bp.route("/onboarding", methods=["GET", "POST"])
def onboarding() -> ResponseReturnValue:
    """The first questions after sign-up, suggested from the runs where there are any."""
    return _preferences_page("onboarding.html", onboarding=True)


@bp.route("/settings", methods=["GET", "POST"])
def settings() -> ResponseReturnValue:
    """The stored preferences to change (the plan and feed follow at once), and account links."""
    return _preferences_page("settings.html", onboarding=False)


def _preferences_page(template: str, *, onboarding: bool) -> ResponseReturnValue:
    """Show the form; on a valid POST store it and move on, else show each error by its field."""
    try:
        today = TODAY.read(request.args.get(TODAY.name))
    except BadParameter as exc:
        abort(400, str(exc))
    form, context = _form_context(today, onboarding=onboarding)
    general: list[str] = []
    if form.is_submitted():  # the CSRF token was checked before the view
        general = _save(form, context["zone"])
        if not form.errors and not general:
            if onboarding:
                flash("All set: your sessions now fit around your week.")
                return redirect(url_for("pages.dashboard"))
            flash("Saved. Your plan and calendar feed follow the new settings now.")
            return redirect(url_for("settings.settings"))
    status = 400 if form.errors or general else 200
    body = render_template(template, form=form, general=general, **context)
    return body, status, NO_STORE


def _save(form: PreferencesForm, zone: str) -> list[str]:
    """Store a valid form; else put every problem by its field (the form's and the values')."""
    valid = form.validate()
    changes = preference_changes(form, zone)
    try:
        with runtime().db.session() as db:
            runner = current_runner(db)
            if not valid:
                return show_problems(form, preference_problems(runner, changes))
            update_preferences(db, runner, changes)
    except BadPreferences as exc:
        return show_problems(form, exc.problems)
    return []


def _form_context(
    today: date | None, *, onboarding: bool, submitted: bool = True
) -> tuple[PreferencesForm, dict[str, Any]]:
    """The preferences form (with what was posted, if ``submitted``) and the page around it."""
    with runtime().db.session() as db:
        runner = current_runner(db)
        draft = preferences_draft(db, runner, today or today_for(runner))
        by_email = confirmation_for(db, runner) != SINGLE_RUNNER_WORD
        zone = runner.timezone
    context: dict[str, Any] = {
        "zone": zone,
        "suggested_long_run_day": draft.long_run_day,
        "suggested_hard_days": draft.hard_days,
        "by_email": by_email,
        "word": SINGLE_RUNNER_WORD,
        "delete_form": DeleteForm(formdata=None),
    }
    initial = initial_data(draft, suggest=onboarding)
    if submitted:
        return PreferencesForm(data=initial), context
    return PreferencesForm(formdata=None, data=initial), context


@bp.get("/settings/export.json")
def export() -> ResponseReturnValue:
    """Everything stored about the runner as one JSON download."""
    now = utcnow()
    with runtime().db.session() as db:
        data = export_runner(db, current_runner(db), now)
    body = json.dumps(data, indent=2, ensure_ascii=False)
    name = f"runstrength-export-{now.date().isoformat()}.json"
    headers = NO_STORE | {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, mimetype="application/json", headers=headers)


@bp.post("/settings/delete")
def delete() -> ResponseReturnValue:
    """Delete the runner and all their data once they typed their email (DELETE: single mode)."""
    delete_form = DeleteForm()
    if delete_form.validate_on_submit():
        single = single_runner()
        try:
            with runtime().db.session() as db:
                runner = current_runner(db)
                delete_runner(db, runner, delete_form.confirm.data or "", replace_with_new=single)
        except InvalidValue as exc:
            delete_form.confirm.errors = [str(exc)]
        else:
            sign_out_session()
            flash("Your account and all its data are deleted.")
            return redirect(url_for("settings.onboarding" if single else "accounts.signup"))
    form, context = _form_context(None, onboarding=False, submitted=False)
    context["delete_form"] = delete_form
    body = render_template("settings.html", form=form, general=[], **context)
    return body, 400, NO_STORE
