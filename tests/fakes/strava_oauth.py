"""The fake Strava OAuth server: consent page with scope boxes, code exchange, rotating refresh
tokens, deauthorization, and bearer-token checks for the API.

Not thread-safe on its own: the FakeStrava around it serialises every call.
"""

from __future__ import annotations

import html
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.fakes.consent import scope_boxes
from tests.fakes.strava_wire import Clock, StravaError, bearer
from tests.fakes.wire import Call, Reply, json_reply

SCOPES = ("read", "read_all", "profile:read_all", "profile:write", "activity:read",
          "activity:read_all", "activity:write")  # fmt: skip
ACCESS_LIFETIME_S = 6 * 3600
REUSE_IF_LEFT = timedelta(hours=1)  # a refresh hands back the same access token if it lives longer
CODE_LIFETIME = timedelta(minutes=10)


@dataclass
class Grant:
    """One athlete's authorization of the app; only the newest refresh token works."""

    athlete_id: int
    scopes: frozenset[str]
    refresh_token: str
    revoked: bool = False
    newest: AccessToken | None = None  # the access token issued last


@dataclass
class AccessToken:
    token: str
    grant: Grant
    expires_at: datetime


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_at: int  # epoch seconds, as Strava gives
    scopes: frozenset[str]
    athlete_id: int


@dataclass
class _Pending:
    athlete_id: int
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str


@dataclass
class _Code:
    athlete_id: int
    scopes: frozenset[str]
    expires_at: datetime
    used: bool = False


def _token() -> str:
    return secrets.token_hex(20)  # Strava's tokens are 40 hex digits


@dataclass
class StravaOAuthServer:
    client_id: int
    client_secret: str
    clock: Clock
    athlete_json: Callable[[int], dict[str, Any]]
    signed_in: int = 0  # the athlete using the consent page
    callback_domains: set[str] = field(default_factory=lambda: {"127.0.0.1", "localhost"})
    withheld_scopes: set[str] = field(default_factory=set)  # unticked on the consent page
    rotate_refresh_tokens: bool = True
    _pending: dict[str, _Pending] = field(default_factory=dict)
    _codes: dict[str, _Code] = field(default_factory=dict)
    _grants: dict[int, Grant] = field(default_factory=dict)
    _refresh: dict[str, Grant] = field(default_factory=dict)
    _access: dict[str, AccessToken] = field(default_factory=dict)

    # -- the consent page ------------------------------------------------------------------

    def authorize_page(self, call: Call) -> Reply:
        """GET /oauth/authorize: check the request, then show the consent page (or, with
        approval_prompt=auto and the scopes already granted, redirect straight back)."""
        if call.arg("client_id") != str(self.client_id):
            raise StravaError(400, "Bad Request", "Application", "client_id", "invalid")
        redirect_uri = call.arg("redirect_uri") or ""
        host = urlsplit(redirect_uri).hostname or ""
        if not any(host == d or host.endswith("." + d) for d in self.callback_domains):
            raise StravaError(400, "Bad Request", "Application", "redirect_uri", "invalid")
        if call.arg("response_type") != "code":
            raise StravaError(400, "Bad Request", "Application", "response_type", "invalid")
        asked = [s for s in (call.arg("scope") or "read").split(",") if s]
        if not asked or any(s not in SCOPES for s in asked):
            raise StravaError(400, "Bad Request", "Authorize", "scope", "invalid")
        scopes = tuple(dict.fromkeys(["read", *asked]))  # read is always granted, first
        pending = _Pending(self.signed_in, redirect_uri, scopes, call.arg("state") or "")
        grant = self._grants.get(self.signed_in)
        prompt = call.arg("approval_prompt", "auto") == "force"
        if not prompt and grant and not grant.revoked and set(scopes) <= grant.scopes:
            return self._approved(pending, frozenset(scopes))
        consent = secrets.token_urlsafe(12)
        self._pending[consent] = pending
        return _consent_page(
            consent, scopes, self.withheld_scopes, self.athlete_json(pending.athlete_id)
        )

    def accept(self, call: Call) -> Reply:
        """POST /oauth/accept_application: the athlete pressed Authorize or Cancel."""
        fields = call.form()
        pending = self._pending.pop(fields.get("consent", ""), None)
        if pending is None:
            raise StravaError(400, "Bad Request", "Authorize", "consent", "expired")
        if fields.get("decision") != "authorize":
            return _redirect(
                pending.redirect_uri, {"state": pending.state, "error": "access_denied"}
            )
        ticked = set(_all(call.body, "scope")) & set(pending.scopes)
        return self._approved(pending, frozenset({"read"} | ticked))

    def _approved(self, pending: _Pending, scopes: frozenset[str]) -> Reply:
        code = _token()
        self._codes[code] = _Code(pending.athlete_id, scopes, self.clock.now() + CODE_LIFETIME)
        granted = ",".join(s for s in pending.scopes if s in scopes)
        return _redirect(
            pending.redirect_uri, {"state": pending.state, "code": code, "scope": granted}
        )

    # -- token, deauthorize, and bearer checks ---------------------------------------------

    def token(self, call: Call) -> Reply:
        """POST /oauth/token: authorization_code and refresh_token grants."""
        fields = _fields(call)
        if fields.get("client_id") != str(self.client_id) or (
            fields.get("client_secret") != self.client_secret
        ):
            raise StravaError(401, "Authorization Error", "Application", "client_id", "invalid")
        grant_type = fields.get("grant_type")
        if grant_type == "authorization_code":
            return json_reply(200, self._exchange(fields.get("code", "")))
        if grant_type == "refresh_token":
            return json_reply(200, self._refreshed(fields.get("refresh_token", "")))
        raise StravaError(400, "Bad Request", "Application", "grant_type", "invalid")

    def deauthorize(self, call: Call) -> tuple[Reply, int]:
        """POST /oauth/deauthorize: the access token's whole grant ends; returns the athlete."""
        token = _fields(call).get("access_token") or bearer(call)
        access = self._access.get(token or "")
        if access is None or access.grant.revoked:
            raise StravaError(401, "Authorization Error", "Athlete", "access_token", "invalid")
        self.revoke(access.grant.athlete_id)
        return json_reply(200, {"access_token": token}), access.grant.athlete_id

    def authorised(self, call: Call) -> AccessToken:
        """The live access token the call carries, else Strava's 401."""
        access = self._access.get(bearer(call) or "")
        if access is None or access.grant.revoked or access.expires_at <= self.clock.now():
            raise StravaError(401, "Authorization Error", "Athlete", "access_token", "invalid")
        return access

    # -- controls for tests ----------------------------------------------------------------

    def issue(self, athlete_id: int, scopes: frozenset[str]) -> IssuedTokens:
        grant = self._grant(athlete_id, frozenset({"read"} | scopes))
        access = self._new_access(grant)
        expires = int(access.expires_at.timestamp())
        return IssuedTokens(access.token, grant.refresh_token, expires, grant.scopes, athlete_id)

    def revoke(self, athlete_id: int) -> bool:
        grant = self._grants.pop(athlete_id, None)
        if grant is None:
            return False
        grant.revoked = True
        self._refresh.pop(grant.refresh_token, None)
        return True

    def expire_access_tokens(self) -> None:
        now = self.clock.now()
        for access in self._access.values():
            access.expires_at = min(access.expires_at, now)

    def grant_of(self, athlete_id: int) -> Grant | None:
        return self._grants.get(athlete_id)

    # -- internals -------------------------------------------------------------------------

    def _exchange(self, code_value: str) -> dict[str, Any]:
        code = self._codes.get(code_value)
        if code is None or code.used or code.expires_at <= self.clock.now():
            raise StravaError(400, "Bad Request", "AuthorizationCode", "code", "invalid")
        code.used = True
        grant = self._grant(code.athlete_id, code.scopes)
        payload = self._payload(self._new_access(grant), grant)
        return payload | {"athlete": self.athlete_json(code.athlete_id)}

    def _refreshed(self, refresh_token: str) -> dict[str, Any]:
        grant = self._refresh.get(refresh_token)
        if grant is None or grant.revoked:
            raise StravaError(400, "Bad Request", "RefreshToken", "refresh_token", "invalid")
        if self.rotate_refresh_tokens:
            del self._refresh[refresh_token]
            grant.refresh_token = _token()
            self._refresh[grant.refresh_token] = grant
        newest = grant.newest
        if newest is None or newest.expires_at - self.clock.now() <= REUSE_IF_LEFT:
            newest = self._new_access(grant)
        return self._payload(newest, grant)

    def _grant(self, athlete_id: int, scopes: frozenset[str]) -> Grant:
        """A new grant for the athlete (a re-authorization replaces the old refresh token)."""
        self.revoke(athlete_id)
        grant = Grant(athlete_id, scopes, _token())
        self._grants[athlete_id] = grant
        self._refresh[grant.refresh_token] = grant
        return grant

    def _new_access(self, grant: Grant) -> AccessToken:
        expires = self.clock.now().replace(microsecond=0) + timedelta(seconds=ACCESS_LIFETIME_S)
        access = AccessToken(_token(), grant, expires)
        self._access[access.token] = grant.newest = access
        return access

    def _payload(self, access: AccessToken, grant: Grant) -> dict[str, Any]:
        expires_at = int(access.expires_at.timestamp())
        return {"token_type": "Bearer", "expires_at": expires_at,
                "expires_in": max(0, expires_at - self.clock.epoch()),
                "refresh_token": grant.refresh_token, "access_token": access.token}  # fmt: skip


def _fields(call: Call) -> dict[str, str]:
    """Form body over query string, or a JSON body: Strava's token endpoint takes all three."""
    if call.headers.get("content-type", "").startswith("application/json"):
        try:
            payload = json.loads(call.body or b"{}")
        except ValueError:
            raise StravaError(400, "Bad Request", "Application", "body", "invalid") from None
        return {k: str(v) for k, v in payload.items()} if isinstance(payload, dict) else {}
    return call.form()


def _all(body: bytes, name: str) -> list[str]:
    return parse_qs(body.decode("utf-8", "replace")).get(name, [])


def _redirect(uri: str, query: dict[str, str]) -> Reply:
    joiner = "&" if "?" in uri else "?"
    return Reply(302, b"", {"Location": uri + joiner + urlencode(query)})


def _consent_page(
    consent: str, scopes: tuple[str, ...], withheld: set[str], athlete: dict[str, Any]
) -> Reply:
    boxes = scope_boxes((s for s in scopes if s != "read"), withheld)
    who = html.escape(f"{athlete['firstname']} {athlete['lastname']}")
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Authorize | Strava (fake)</title></head>
<body><main><h1>Authorize runstrength to connect to Strava</h1><p>Signed in as {who}</p>
<form method="post" action="/oauth/accept_application">
<input type="hidden" name="consent" value="{consent}">
<fieldset><legend>runstrength would like to:</legend><ul>
<li>View data about your public profile (required)</li>{boxes}</ul></fieldset>
<button type="submit" name="decision" value="cancel">Cancel</button>
<button type="submit" name="decision" value="authorize">Authorize</button>
</form></main></body></html>"""
    return Reply(200, body.encode(), {"Content-Type": "text/html; charset=utf-8"})
