"""The fake intervals.icu OAuth server: a consent page with scope boxes, Approve and Decline,
codes good for 2 minutes on its own clock and once only, the token endpoint, and the scope
check the API applies to the bearer tokens it issued.

Not thread-safe on its own: the FakeIntervals around it serialises every call.
"""

from __future__ import annotations

import html
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests

from tests.fakes.consent import press, scope_boxes
from tests.fakes.strava_wire import Clock
from tests.fakes.wire import Call, Reply, json_reply

SCOPES = tuple(f"{area}:{level}" for area in ("ACTIVITY", "WELLNESS", "CALENDAR", "SETTINGS",
               "LIBRARY") for level in ("READ", "WRITE"))  # fmt: skip
CODE_LIFETIME = timedelta(minutes=2)
AUTHORIZE, TOKEN = "/oauth/authorize", "/api/oauth/token"
AREAS = {"/activities": "ACTIVITY", "/events": "CALENDAR"}  # API paths under athlete/<id>


class OAuthError(Exception):
    """An OAuth error answer: JSON with ``error`` and ``error_description``."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{status} {error}: {description}")
        self.status, self.error, self.description = status, error, description

    def reply(self) -> Reply:
        body = {"error": self.error, "error_description": self.description}
        return json_reply(self.status, body)


@dataclass
class _Pending:
    athlete_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str


@dataclass
class _Code:
    athlete_id: str
    scopes: tuple[str, ...]
    expires_at: datetime
    used: bool = False


@dataclass
class IntervalsOAuthServer:
    """OAuth for one registered app; ``issue`` makes an API bearer token for an athlete id."""

    issue: Callable[[str], str]
    name_of: Callable[[str], str]
    signed_in: str  # the athlete using the consent page
    client_id: str = "7413"
    client_secret: str = "fake-intervals-client-secret"
    clock: Clock = field(default_factory=Clock)
    redirect_hosts: set[str] = field(default_factory=lambda: {"127.0.0.1", "localhost"})
    withheld_scopes: set[str] = field(default_factory=set)  # shown unticked on the consent page
    issued: dict[str, frozenset[str]] = field(default_factory=dict)  # token -> scopes granted
    _pending: dict[str, _Pending] = field(default_factory=dict)
    _codes: dict[str, _Code] = field(default_factory=dict)

    def handles(self, path: str) -> bool:
        return path in {AUTHORIZE, TOKEN}

    def route(self, call: Call) -> Reply:
        try:
            if (call.method, call.path) == ("GET", AUTHORIZE):
                return self._authorize_page(call)
            if (call.method, call.path) == ("POST", AUTHORIZE):
                return self._decide(call)
            if (call.method, call.path) == ("POST", TOKEN):
                return json_reply(200, self._token(call.form()))
            raise OAuthError(405, "invalid_request", "method not allowed")
        except OAuthError as error:
            return error.reply()

    def permits(self, token: str | None, method: str, rest: str) -> bool:
        """Whether an API call under ``athlete/<id>`` is within the token's scopes; API keys
        and tokens made with ``issue_bearer_token`` may do everything."""
        granted = self.issued.get(token or "")
        area = next((a for prefix, a in AREAS.items() if rest.startswith(prefix)), None)
        if granted is None or area is None:
            return True
        wanted = f"{area}:{'READ' if method == 'GET' else 'WRITE'}"
        return wanted in granted or (wanted.endswith(":READ") and f"{area}:WRITE" in granted)

    # -- pages and endpoints ---------------------------------------------------------------

    def _authorize_page(self, call: Call) -> Reply:
        if call.arg("client_id") != self.client_id:
            raise OAuthError(400, "invalid_client", "unknown client_id")
        redirect_uri = call.arg("redirect_uri") or ""
        if (urlsplit(redirect_uri).hostname or "") not in self.redirect_hosts:
            raise OAuthError(400, "invalid_request", "redirect_uri is not registered")
        asked = tuple(dict.fromkeys(s for s in (call.arg("scope") or "").split(",") if s))
        if not asked or any(s not in SCOPES for s in asked):
            raise OAuthError(400, "invalid_scope", f"unknown scope in {call.arg('scope')!r}")
        consent = secrets.token_urlsafe(12)
        self._pending[consent] = _Pending(
            self.signed_in, redirect_uri, asked, call.arg("state") or ""
        )
        who = self.name_of(self.signed_in)
        return _consent_page(consent, asked, self.withheld_scopes, who)

    def _decide(self, call: Call) -> Reply:
        """The athlete pressed Approve (with the boxes they left ticked) or Decline."""
        fields = call.form()
        pending = self._pending.pop(fields.get("consent", ""), None)
        if pending is None:
            raise OAuthError(400, "invalid_request", "this consent page has expired")
        if fields.get("decision") != "approve":
            return _redirect(pending.redirect_uri, {"error": "access_denied"})
        ticked = set(parse_qs(call.body.decode("utf-8", "replace")).get("scope", []))
        code = secrets.token_urlsafe(18)
        scopes = tuple(s for s in pending.scopes if s in ticked)
        expires = self.clock.now() + CODE_LIFETIME
        self._codes[code] = _Code(pending.athlete_id, scopes, expires)
        return _redirect(pending.redirect_uri, {"code": code, "state": pending.state})

    def _token(self, fields: dict[str, str]) -> dict[str, object]:
        if (fields.get("client_id"), fields.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            raise OAuthError(401, "invalid_client", "bad client_id or client_secret")
        code = self._codes.get(fields.get("code", ""))
        if code is None or code.used or code.expires_at <= self.clock.now():
            raise OAuthError(400, "invalid_grant", "unknown, used or expired code")
        code.used = True
        token = self.issue(code.athlete_id)
        self.issued[token] = frozenset(code.scopes)
        return {
            "token_type": "Bearer",
            "access_token": token,
            "scope": ",".join(code.scopes),
            "athlete": {"id": code.athlete_id, "name": self.name_of(code.athlete_id)},
        }


def consent(authorization_url: str, *, approve: bool = True, untick: Iterable[str] = ()) -> str:
    """Open the consent page, untick ``untick``, press Approve (or Decline); the redirect."""
    with requests.Session() as http:
        page = http.get(authorization_url, timeout=10, allow_redirects=False)
        decision = "approve" if approve else "decline"
        return press(http, page, urljoin(authorization_url, AUTHORIZE), decision, untick)


def _redirect(uri: str, query: dict[str, str]) -> Reply:
    joiner = "&" if "?" in uri else "?"
    return Reply(302, b"", {"Location": uri + joiner + urlencode(query)})


def _consent_page(consent: str, scopes: tuple[str, ...], withheld: set[str], who: str) -> Reply:
    boxes = scope_boxes(scopes, withheld)
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Authorize | intervals.icu (fake)</title></head>
<body><main><h1>Allow runstrength to access your intervals.icu account</h1>
<p>Signed in as {html.escape(who)}</p>
<form method="post" action="{AUTHORIZE}">
<input type="hidden" name="consent" value="{consent}">
<fieldset><legend>runstrength asks to:</legend><ul>{boxes}</ul></fieldset>
<button type="submit" name="decision" value="decline">Decline</button>
<button type="submit" name="decision" value="approve">Approve</button>
</form></main></body></html>"""
    return Reply(200, body.encode(), {"Content-Type": "text/html; charset=utf-8"})
