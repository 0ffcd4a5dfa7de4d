"""GET/HEAD /feeds/<token>.ics and <token>-busy.ics: cached bytes, validators, 304s, gzip."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, request

from service.app import runtime
from service.models import utcnow
from service.usecases.feeds import find_feed
from service.usecases.publish_plan import BUSY, FULL, Rendered, cache_key, feed_for
from service.web.feedcache import feed_cache

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
    token, variant = match["token"], BUSY if match["busy"] else FULL
    now = utcnow()
    cache = feed_cache()
    state = cache.state(token, variant)
    if state is None:
        abort(404)
    today = now.astimezone(ZoneInfo(state.timezone)).date()
    key = cache_key(state.plan_changed_at, rt.settings, variant, today)
    if state.cache_key == key and state.etag and state.last_modified:
        bodies = cache.bodies.get(state.etag)
        if bodies is not None or _not_modified(state.etag, state.last_modified):
            return _respond(state.etag, state.last_modified, bodies, token, variant)
    rendered = _render(token, variant, now)
    return _respond(rendered.etag, rendered.last_modified, (rendered.body, rendered.body_gz))


def _respond(
    etag_plain: str,
    last_modified: datetime,
    bodies: tuple[bytes, bytes] | None,
    token: str | None = None,
    variant: str = FULL,
) -> Response:
    gzipped = "gzip" in request.headers.get("Accept-Encoding", "").lower()
    etag = etag_plain[:-1] + '-gz"' if gzipped else etag_plain
    # RFC 9110 15.4.5: a 304 repeats only the cache fields, no representation metadata.
    headers = {"ETag": etag, "Cache-Control": "private, max-age=900", "Vary": "Accept-Encoding"}
    if _not_modified(etag_plain, last_modified):
        return Response(status=304, headers=headers)
    if bodies is None:  # validators were fresh but this process has not seen the bytes
        rendered = _render(token or "", variant, utcnow())
        bodies = rendered.body, rendered.body_gz
    headers["Last-Modified"] = format_datetime(last_modified, usegmt=True)
    headers["Content-Disposition"] = 'inline; filename="runstrength.ics"'
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    return Response(bodies[1] if gzipped else bodies[0], headers=headers, content_type=MEDIA_TYPE)


def _not_modified(etag: str, last_modified: datetime) -> bool:
    """RFC 9110 13.1.3: If-None-Match wins; If-Modified-Since only counts without it."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        mine = {etag, etag[:-1] + '-gz"'}
        return "*" in tags or bool(tags & mine)
    since = _http_date(request.headers.get("If-Modified-Since"))
    return since is not None and last_modified <= since


def _render(token: str, variant: str, now: datetime) -> Rendered:
    """The feed from the store (rendering it if its cache is stale); its bytes are remembered."""
    rt = runtime()
    with rt.db.session() as db:
        found = find_feed(db, token)
        if found is None:
            abort(404)
        rendered = feed_for(db, *found, settings=rt.settings, variant=variant, now=now)
    feed_cache().bodies.put(rendered.etag, (rendered.body, rendered.body_gz))
    return rendered


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
