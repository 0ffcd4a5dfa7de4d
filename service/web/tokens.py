"""Personal API tokens: create one (shown once, right then), list them, revoke them."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from service.app import runtime
from service.usecases.api_tokens import create_token, list_tokens, revoke_token
from service.usecases.runners import InvalidValue
from service.web.auth import current_runner
from service.web.forms import ConfirmForm, NameForm
from service.web.pages import PRIVATE

bp = Blueprint("tokens", __name__)


@bp.get("/settings/tokens")
def tokens_page() -> ResponseReturnValue:
    """The runner's tokens (never their values) and a form to create one."""
    return _render(NameForm(formdata=None), new_token=None, status=200)


@bp.post("/settings/tokens")
def create() -> ResponseReturnValue:
    """Create a named token and show its value on this response only; it is never shown again."""
    form = NameForm()
    if not form.validate_on_submit():
        return _render(form, new_token=None, status=400)
    try:
        with runtime().db.session() as db:
            info, token = create_token(db, current_runner(db).id, form.name.data or "")
    except InvalidValue as exc:
        form.name.errors = [*form.name.errors, str(exc)]
        return _render(form, new_token=None, status=400)
    return _render(NameForm(formdata=None), new_token=(info.name, token), status=200)


@bp.post("/settings/tokens/<int:token_id>/revoke")
def revoke(token_id: int) -> ResponseReturnValue:
    """Delete one of the runner's tokens; programs using it get 401 from now on."""
    with runtime().db.session() as db:
        if not revoke_token(db, current_runner(db).id, token_id):
            abort(404)
    flash("Token revoked: programs using it can no longer reach your data.")
    return redirect(url_for("tokens.tokens_page"))


def _render(
    form: NameForm, *, new_token: tuple[str, str] | None, status: int
) -> ResponseReturnValue:
    with runtime().db.session() as db:
        tokens = list_tokens(db, current_runner(db).id)
    body = render_template(
        "tokens.html", form=form, tokens=tokens, new_token=new_token, revoke_form=ConfirmForm()
    )
    return body, status, PRIVATE
