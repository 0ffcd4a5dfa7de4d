"""Who a request acts for: a signed session cookie, a personal API token, or single-runner mode.

Every route needs a runner unless its blueprint or view is marked public, so a new route is
private by default. Forms and cookie-authenticated JSON calls must carry a CSRF token.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar
from urllib.parse import urlsplit

from flask import Flask, current_app, g, jsonify, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import Session as DbSession
from werkzeug.exceptions import BadRequest, Unauthorized

from service.app import runtime
from service.models import Runner, utcnow
from service.usecases.accounts import SignedIn, still_valid
from service.usecases.api_tokens import runner_for_token
from service.usecases.runners import default_runner

COOKIE_KEY = "signed_in"
PUBLIC_BLUEPRINTS = frozenset({"health", "feeds"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_DAYS = 30
_PUBLIC_MARK = "_runstrength_public"
_NO_CSRF_MARK = "_runstrength_no_csrf"
F = TypeVar("F", bound=Callable[..., ResponseReturnValue])


@dataclass(frozen=True, slots=True)
class Identity:
    """The runner a request acts for; ``runner_id`` is None in single-runner mode."""

    runner_id: int | None
    account_id: int | None
    via: str  # cookie | token | single


def public(view: F) -> F:
    """Mark a view as open to anyone (sign-in, sign-up, the API document)."""
    setattr(view, _PUBLIC_MARK, True)
    return view


def no_csrf(view: F) -> F:
    """Mark a view that takes unsafe methods without a CSRF token (signed webhooks)."""
    setattr(view, _NO_CSRF_MARK, True)
    return view


def is_public(endpoint: str, view: object) -> bool:
    """True for views anyone may call: public blueprints and views marked ``@public``."""
    blueprint = endpoint.rpartition(".")[0]
    return blueprint in PUBLIC_BLUEPRINTS or bool(getattr(view, _PUBLIC_MARK, False))


def install(app: Flask) -> None:
    """Cookie settings, CSRF protection and the identity check before every request."""
    secure = urlsplit(runtime(app).settings.base_url).scheme == "https"
    app.config.update(
        SESSION_COOKIE_NAME="runstrength_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        PERMANENT_SESSION_LIFETIME=timedelta(days=SESSION_DAYS),
        WTF_CSRF_CHECK_DEFAULT=False,  # checked below, so that API tokens can skip it
        WTF_CSRF_TIME_LIMIT=None,  # valid for the life of the session cookie
    )
    app.extensions["runstrength.csrf"] = CSRFProtect(app)
    app.before_request(_guard)
    app.context_processor(lambda: {"identity": identity()})


def sign_in_session(signed: SignedIn) -> None:
    """Start a fresh cookie session for an account (a new cookie, nothing kept from before)."""
    session.clear()
    session.permanent = True
    session[COOKIE_KEY] = [signed.account_id, signed.runner_id, signed.epoch]


def sign_out_session() -> None:
    """Forget who was signed in on this browser."""
    session.clear()


def identity() -> Identity | None:
    """Who this request acts for, worked out once per request; None for nobody."""
    if "rs_identity" not in g:
        g.rs_identity = _resolve()
    found: Identity | None = g.rs_identity
    return found


def single_runner() -> bool:
    """True when the installation serves one runner without accounts."""
    return runtime().settings.single_runner


def current_runner(db: DbSession) -> Runner:
    """The runner of this request, loaded in the caller's transaction; 401 if there is none."""
    found = identity()
    if found is None:
        raise Unauthorized()
    if found.runner_id is None:
        return default_runner(db)
    runner = db.get(Runner, found.runner_id)
    if runner is None:  # deleted between the check and now
        raise Unauthorized()
    return runner


def safe_next(target: str | None, fallback: str) -> str:
    """A local path to go back to after signing in; anything pointing elsewhere is refused."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    return target


def _guard() -> ResponseReturnValue | None:
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or request.endpoint == "static":
        return None
    if request.blueprint in PUBLIC_BLUEPRINTS:  # the feed path stays free of any extra work
        return None
    bearer = _bearer_token()
    unsafe = request.method not in SAFE_METHODS
    if bearer is None and unsafe and not getattr(view, _NO_CSRF_MARK, False):
        if any(not isinstance(key, str) for key in request.form):  # a multipart part without a name
            raise BadRequest("malformed form data: every part needs a name")
        csrf: CSRFProtect = current_app.extensions["runstrength.csrf"]
        csrf.protect()
    if getattr(view, _PUBLIC_MARK, False) or identity() is not None:
        return None
    if request.path.startswith("/api/"):
        body = jsonify(error="unauthorized: sign in, or send Authorization: Bearer <api token>")
        return body, 401, {"WWW-Authenticate": 'Bearer realm="runstrength"'}
    return redirect(url_for("accounts.signin", next=request.full_path.rstrip("?")))


def _resolve() -> Identity | None:
    bearer = _bearer_token()
    if bearer is not None:
        if not request.path.startswith("/api/"):
            return None
        with runtime().db.session() as db:
            runner_id = runner_for_token(db, bearer, utcnow())
        return None if runner_id is None else Identity(runner_id, None, "token")
    if single_runner():
        return Identity(None, None, "single")
    stored = session.get(COOKIE_KEY)
    if not (isinstance(stored, list) and len(stored) == 3 and all(type(v) is int for v in stored)):
        return None
    signed = SignedIn(*stored)
    with runtime().db.session() as db:
        valid = still_valid(db, signed)
    if not valid:
        session.clear()
        return None
    return Identity(signed.runner_id, signed.account_id, "cookie")


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()
