"""intervals.icu OAuth: the consent page URL and the code exchange.

The consent page may untick scopes, so the token answer's comma-separated ``scope`` is what
counts; tokens carry no expiry and no refresh token, and the athlete comes with the answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests

from integrations.errors import AuthExpired, IntegrationError, RateLimited, UpstreamError
from integrations.http import post_form
from integrations.intervals_icu.client import DEFAULT_RETRY_AFTER_S, INTERVALS_ROOT

ACTIVITY_READ, ACTIVITY_WRITE = "ACTIVITY:READ", "ACTIVITY:WRITE"
CALENDAR_READ, CALENDAR_WRITE = "CALENDAR:READ", "CALENDAR:WRITE"
UPSTREAM = "intervals.icu OAuth"


def normalise_scopes(raw: str | Iterable[str]) -> frozenset[str]:
    """Scopes from a comma- (or space-) separated string or a list, upper case, no blanks."""
    parts = raw.replace(",", " ").split() if isinstance(raw, str) else raw
    return frozenset(p.strip().upper() for p in parts if p.strip())


def allows(scopes: frozenset[str], wanted: str) -> bool:
    """Whether ``scopes`` grant ``wanted``; on intervals.icu a WRITE scope implies its READ."""
    area, _, level = wanted.partition(":")
    return wanted in scopes or (level == "READ" and f"{area}:WRITE" in scopes)


@dataclass(frozen=True, slots=True)
class IntervalsGrant:
    """What a code exchange yields: the bearer token, the scopes kept, and whose it is."""

    access_token: str
    scopes: frozenset[str]
    athlete_id: str
    athlete_name: str


def authorization_url(
    api_root: str, client_id: str, *, redirect_uri: str, scope: str, state: str
) -> str:
    """Where to send the runner to approve our app (``api_root`` empty: intervals.icu)."""
    query = {"client_id": client_id, "redirect_uri": redirect_uri, "scope": scope, "state": state}
    return f"{_root(api_root)}/oauth/authorize?{urlencode(query)}"


def exchange_code(
    api_root: str, client_id: str, client_secret: str, code: str, session: requests.Session
) -> IntervalsGrant:
    """Trade the redirect's code (good for 2 minutes) for a token, its scopes and athlete."""
    form = {"client_id": client_id, "client_secret": client_secret, "code": code}
    response = post_form(session, f"{_root(api_root)}/api/oauth/token", form, UPSTREAM)
    _raise_for_status(response)
    try:
        body: Any = response.json()
    except ValueError as exc:
        raise UpstreamError(f"{UPSTREAM} sent no JSON (HTTP {response.status_code})") from exc
    return _grant(body if isinstance(body, dict) else {})


def _grant(body: dict[str, Any]) -> IntervalsGrant:
    """The grant in a token answer; UpstreamError without a bearer token in it."""
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        raise UpstreamError(f"{UPSTREAM} answered without an access token")
    kind = body.get("token_type")
    if isinstance(kind, str) and kind.lower() != "bearer":
        raise UpstreamError(f"{UPSTREAM} gave a {kind} token, not a bearer token")
    scope, athlete = body.get("scope"), body.get("athlete")
    if not isinstance(athlete, dict):
        athlete = {}
    athlete_id, name = athlete.get("id"), athlete.get("name")
    return IntervalsGrant(
        access_token=token,
        scopes=normalise_scopes(scope if isinstance(scope, str) else ""),
        athlete_id="" if athlete_id is None or isinstance(athlete_id, bool) else str(athlete_id),
        athlete_name=name.strip() if isinstance(name, str) else "",
    )


def _root(api_root: str) -> str:
    return (api_root or INTERVALS_ROOT).rstrip("/")


def _raise_for_status(response: requests.Response) -> None:
    """Our error for a failed token answer: a refused code or app means start again."""
    status = response.status_code
    if status < 300:
        return
    if status in {400, 401, 403}:
        raise AuthExpired(f"{UPSTREAM} refused the code (HTTP {status}{_detail(response)})")
    if status == 429:
        raise RateLimited(DEFAULT_RETRY_AFTER_S, f"{UPSTREAM} rate limit")
    if status >= 500:
        raise UpstreamError(f"{UPSTREAM} failed with HTTP {status}")
    raise IntegrationError(f"{UPSTREAM} refused the request (HTTP {status})")


def _detail(response: requests.Response) -> str:
    """``: <message>`` from an error body, when it has one short enough to show."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    text = body.get("message") or body.get("error_description") or body.get("error")
    return f": {text}" if isinstance(text, str) and 0 < len(text) <= 200 else ""
