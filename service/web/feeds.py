"""GET/HEAD /feeds/<token>.ics and <token>-busy.ics: cached bytes, validators, 304s, gzip."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from flask import Blueprint, Response, abort, request
from werkzeug.datastructures import Headers

from service.app import runtime
from service.models import utcnow
from service.usecases.feeds import find_feed
from service.usecases.publish_plan import BUSY, FULL, Rendered, feed_for
from service.web.feedcache import Validators, feed_cache

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

bp = Blueprint("feeds", __name__)
FEED_NAME = re.compile(r"^(?P<token>[a-z2-7]{32})(?P<busy>-busy)?\.ics$")
MEDIA_TYPE = "text/calendar; charset=utf-8"


@bp.get("/feeds/<name>")
def feed(name: str) -> Response:
    """Serve a runner's feed; unknown tokens get the same 404 whether or not they ever existed."""
    match = FEED_NAME.match(name)
    if match is None:
        abort(404)
    token, variant = match["token"], BUSY if match["busy"] else FULL
    now = utcnow()
    cache = feed_cache()
    found = cache.lookup(token, variant, now)
    if found is None:
        abort(404)
    _state, validators = found
    bodies: tuple[bytes, bytes] | None = None
    if validators is None:  # no stored render for today: render (or fetch) it now
        rendered = _render(token, variant, now)
        validators = Validators.of(rendered.etag, rendered.last_modified)
        bodies = rendered.bodies
    if _not_modified(validators):
        return _answer(validators, None)
    bodies = bodies or cache.bodies.get(validators.etag) or _render(token, variant, now).bodies
    return _answer(validators, bodies)


class NotModified(Response):
    """A 304 carrying only the cache fields it is built with (nothing for werkzeug to strip)."""

    default_mimetype = None

    def get_wsgi_headers(self, environ: WSGIEnvironment) -> Headers:
        return Headers(self.headers)


def _answer(validators: Validators, bodies: tuple[bytes, bytes] | None) -> Response:
    """200 with the bytes (gzipped when accepted), or 304 when ``bodies`` is None."""
    gzipped = "gzip" in request.environ.get("HTTP_ACCEPT_ENCODING", "").lower()
    headers = [
        ("ETag", validators.etag_gz if gzipped else validators.etag),
        ("Cache-Control", "private, max-age=900"),
        ("Vary", "Accept-Encoding"),
    ]
    if bodies is None:  # RFC 9110 15.4.5: a 304 repeats only these, no representation metadata
        return NotModified(status=304, headers=headers)
    headers += [
        ("Last-Modified", validators.last_modified_http),
        ("Content-Disposition", 'inline; filename="runstrength.ics"'),
    ]
    if gzipped:
        headers.append(("Content-Encoding", "gzip"))
    return Response(bodies[1] if gzipped else bodies[0], headers=headers, content_type=MEDIA_TYPE)


def _not_modified(validators: Validators) -> bool:
    """RFC 9110 13.1.3: If-None-Match wins; If-Modified-Since only counts without it."""
    if_none_match = request.environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in tags or validators.etag in tags or validators.etag_gz in tags
    since = _http_date(request.environ.get("HTTP_IF_MODIFIED_SINCE"))
    return since is not None and validators.last_modified <= since


def _render(token: str, variant: str, now: datetime) -> Rendered:
    """The feed from the store (rendering it if its cache is stale); its bytes are remembered."""
    rt = runtime()
    with rt.db.session() as db:
        found = find_feed(db, token)
        if found is None:
            abort(404)
        rendered = feed_for(db, *found, settings=rt.settings, variant=variant, now=now)
    feed_cache().bodies.put(rendered.etag, rendered.bodies)
    return rendered


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
