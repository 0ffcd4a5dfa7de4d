"""JSON API for the feed's subscribe links and rotation, and for personal API tokens."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from service.app import runtime
from service.usecases.api_tokens import MAX_NAME, TokenInfo, create_token, list_tokens, revoke_token
from service.usecases.feeds import feed_links, rotate_feed
from service.usecases.runners import InvalidValue
from service.web.auth import current_runner, identity
from service.web.openapi import ERROR_BODY, Body, operation

bp = Blueprint("api_feed", __name__, url_prefix="/api/v1")

_URL = {"type": "string", "format": "uri"}
# Unsafe calls with the session cookie are refused without the X-CSRFToken header.
CSRF_MISSING = {400: ("The session's X-CSRFToken header is missing or wrong.", ERROR_BODY)}
_TIME = {"type": "string", "format": "date-time"}


def _closed(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": list(properties),
        "properties": properties,
        "additionalProperties": False,
    }


FEED_LINKS = Body(
    "FeedLinks",
    _closed(
        {
            "https": {**_URL, "description": "The private feed; keep it secret."},
            "webcal": {**_URL, "description": "The same feed for calendar apps (webcal://)."},
            "google": {**_URL, "description": "Google Calendar's add-by-URL page for the feed."},
            "busy_https": {**_URL, "description": "The busy-only feed: every slot says Busy."},
            "busy_webcal": _URL,
        }
    ),
)
_TOKEN_PROPERTIES = {
    "id": {"type": "integer"},
    "name": {"type": "string"},
    "created_at": _TIME,
    "last_used_at": {"type": ["string", "null"], "format": "date-time"},
}
TOKEN_LIST = Body(
    "ApiTokens", _closed({"tokens": {"type": "array", "items": _closed(_TOKEN_PROPERTIES)}})
)
NEW_TOKEN = Body(
    "NewApiToken",
    _closed({**_TOKEN_PROPERTIES, "token": {"type": "string", "description": "Shown only here."}}),
)
TOKEN_NAME = Body(
    "ApiTokenName",
    _closed({"name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME}}),
)
REVOKED = Body("RevokedApiToken", _closed({"id": {"type": "integer"}, "revoked": {"const": True}}))


@bp.get("/feed")
@operation("The private feed's subscribe links.", ok=FEED_LINKS)
def feed() -> ResponseReturnValue:
    """The https, webcal and Google links of the full and the busy-only feed."""
    rt = runtime()
    with rt.db.session() as db:
        links = feed_links(db, current_runner(db), rt.settings, rt.secret)
    return jsonify(asdict(links)), 200, {"Cache-Control": "no-store"}


@bp.post("/feed/rotate")
@operation(
    "Give the feed a new address; the old one stops working at once.",
    description="Calendars subscribed to the old address must subscribe to the new one.",
    ok=FEED_LINKS,
    errors=CSRF_MISSING,
)
def rotate() -> ResponseReturnValue:
    """Rotate the feed token and return the new links."""
    rt = runtime()
    with rt.db.session() as db:
        runner = current_runner(db)
        rotate_feed(db, runner, rt.secret)
        links = feed_links(db, runner, rt.settings, rt.secret)
    return jsonify(asdict(links)), 200, {"Cache-Control": "no-store"}


@bp.get("/tokens")
@operation("The runner's personal API tokens (never their values), newest first.", ok=TOKEN_LIST)
def tokens() -> ResponseReturnValue:
    """Names and dates of the runner's tokens."""
    with runtime().db.session() as db:
        found = list_tokens(db, current_runner(db).id)
    return jsonify(tokens=[_token_json(t) for t in found])


@bp.post("/tokens")
@operation(
    "Create a personal API token; its value is in this response and nowhere else.",
    description="Only a signed-in browser session may create tokens, not another token.",
    body=TOKEN_NAME,
    ok=NEW_TOKEN,
    errors={403: ("Called with an API token instead of a session.", ERROR_BODY)},
)
def create(body: dict[str, Any]) -> ResponseReturnValue:
    """A new named token, so that a leaked token cannot mint others that outlive its revocation."""
    found = identity()
    if found is not None and found.via == "token":
        return jsonify(error="forbidden: create tokens from a signed-in session"), 403
    name = body.get("name")
    if not isinstance(name, str):
        return jsonify(error="name: expected a string"), 400
    try:
        with runtime().db.session() as db:
            info, token = create_token(db, current_runner(db).id, name)
    except InvalidValue as exc:
        return jsonify(error=f"name: {exc}"), 400
    return jsonify(_token_json(info) | {"token": token}), 200, {"Cache-Control": "no-store"}


@bp.delete("/tokens/<int:token_id>")
@operation(
    "Revoke one of the runner's tokens; programs using it get 401 from then on.",
    ok=REVOKED,
    errors=CSRF_MISSING | {404: ("The runner has no token with this id.", ERROR_BODY)},
)
def revoke(token_id: int) -> ResponseReturnValue:
    """Delete the token; another runner's token id is simply not found."""
    with runtime().db.session() as db:
        gone = revoke_token(db, current_runner(db).id, token_id)
    if not gone:
        return jsonify(error="not found: you have no token with that id"), 404
    return jsonify(id=token_id, revoked=True)


def _token_json(info: TokenInfo) -> dict[str, Any]:
    last = info.last_used_at
    return {
        "id": info.id,
        "name": info.name,
        "created_at": info.created_at.isoformat(),
        "last_used_at": None if last is None else last.isoformat(),
    }
