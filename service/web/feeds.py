"""GET/HEAD /feeds/<token>.ics and <token>-busy.ics: cached bytes, validators, 304s, gzip."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from flask import Blueprint, Response, abort, request

from service.app import runtime
from service.models import utcnow
from service.usecases.feeds import find_feed
from service.usecases.publish_plan import BUSY, FULL, Rendered, feed_for

bp = Blueprint("feeds", __name__)
FEED_NAME = re.compile(r"^(?P<token>[a-z2-7]{32})(?P<busy>-busy)?\.ics$")
MEDIA_TYPE = "text/calendar; charset=utf-8"


@bp.get("/feeds/<name>")
def feed(name: str) -> Response:
    """Serve a runner's feed; unknown tokens get the same 404 whether or not they ever existed."""
    match = FEED_NAME.match(name)
    if match is None:
        abort(404)
    rt = runtime()
    with rt.db.session() as db:
        found = find_feed(db, match["token"])
        if found is None:
            abort(404)
        variant = BUSY if match["busy"] else FULL
        feed_row, runner = found
        rendered = feed_for(
            db, feed_row, runner, settings=rt.settings, variant=variant, now=utcnow()
        )
    return _respond(rendered)


def _respond(rendered: Rendered) -> Response:
    gzipped = "gzip" in request.headers.get("Accept-Encoding", "").lower()
    etag = rendered.etag[:-1] + '-gz"' if gzipped else rendered.etag
    headers = {
        "ETag": etag,
        "Last-Modified": format_datetime(rendered.last_modified, usegmt=True),
        "Cache-Control": "private, max-age=900",
        "Vary": "Accept-Encoding",
        "Content-Disposition": 'inline; filename="runstrength.ics"',
    }
    if _not_modified(rendered):
        return Response(status=304, headers=headers)
    body = rendered.body_gz if gzipped else rendered.body
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    return Response(body, status=200, headers=headers, content_type=MEDIA_TYPE)


def _not_modified(rendered: Rendered) -> bool:
    """RFC 9110 13.1.3: If-None-Match wins; If-Modified-Since only counts without it."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        mine = {rendered.etag, rendered.etag[:-1] + '-gz"'}
        return "*" in tags or bool(tags & mine)
    since = _http_date(request.headers.get("If-Modified-Since"))
    return since is not None and rendered.last_modified <= since


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
