"""The fake Google OAuth 2.0 server: consent page, code + PKCE exchange, refresh, revoke.

Not thread-safe on its own: the FakeGoogle around it serialises every call.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.fakes.consent import scope_boxes
from tests.fakes.wire import ApiError, Call, Reply, json_reply

CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar.app.created"
CODE_LIFETIME = timedelta(minutes=10)
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]"}


@dataclass
class Grant:
    """What one consent gave one client; revoking or expiring it kills its refresh token."""

    client_id: str
    scopes: frozenset[str]
    refresh_token: str | None
    revoked: bool = False
    refresh_expired: bool = False


@dataclass
class AccessToken:
    grant: Grant
    scopes: frozenset[str]
    expires_at: datetime


@dataclass
class AuthRequest:
    """An authorization request waiting on the consent page."""

    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None
    challenge: str | None
    challenge_method: str
    offline: bool
    prompt_consent: bool
    include_granted: bool


@dataclass
class Code:
    request: AuthRequest
    scopes: frozenset[str]
    expires_at: datetime
    used: bool = False


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str | None
    expires_in: int
    scopes: frozenset[str]


class TokenError(Exception):
    """An error the token and revoke endpoints answer with: {"error", "error_description"}."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.reply = json_reply(status, {"error": error, "error_description": description})


@dataclass
class OAuthFake:
    client_id: str
    client_secret: str
    clock: Callable[[], datetime]
    account: str = "runner@example.com"
    access_token_lifetime: int = 3599  # seconds, as Google gives
    redirect_uris: set[str] = field(default_factory=set)  # empty: any loopback http(s) URL
    withheld_scopes: set[str] = field(default_factory=set)  # unticked on the consent page
    _pending: dict[str, AuthRequest] = field(default_factory=dict)
    _codes: dict[str, Code] = field(default_factory=dict)
    _grants: list[Grant] = field(default_factory=list)
    _refresh: dict[str, Grant] = field(default_factory=dict)
    _access: dict[str, AccessToken] = field(default_factory=dict)
    _consented: dict[str, frozenset[str]] = field(default_factory=dict)

    # -- the consent page ------------------------------------------------------------------

    def authorize_page(self, call: Call) -> Reply:
        """GET /o/oauth2/v2/auth: validate the request and show the scopes to tick."""
        client_id = call.arg("client_id") or ""
        redirect_uri = call.arg("redirect_uri") or ""
        if client_id != self.client_id:
            return _page(401, "Error 401: invalid_client", "The OAuth client was not found.")
        if not self._redirect_allowed(redirect_uri):
            return _page(400, "Error 400: redirect_uri_mismatch", html.escape(redirect_uri))
        state = call.arg("state")
        if call.arg("response_type") != "code":
            return _redirect(redirect_uri, {"error": "unsupported_response_type", "state": state})
        scopes = tuple((call.arg("scope") or "").split())
        method = call.arg("code_challenge_method") or "plain"
        if not scopes or method not in {"S256", "plain"}:
            return _page(400, "Error 400: invalid_request", "Missing scope or bad PKCE method.")
        consent_id = secrets.token_urlsafe(12)
        self._pending[consent_id] = AuthRequest(
            client_id, redirect_uri, scopes, state, call.arg("code_challenge"), method,
            offline=call.arg("access_type") == "offline",
            prompt_consent="consent" in (call.arg("prompt") or "").split(),
            include_granted=call.flag("include_granted_scopes"),
        )  # fmt: skip
        return _consent_page(consent_id, scopes, self.withheld_scopes, self.account)

    def decide(self, call: Call) -> Reply:
        """POST /o/oauth2/v2/auth: the runner pressed Allow or Deny."""
        fields = parse_qs(call.body.decode(), keep_blank_values=True)
        request = self._pending.pop((fields.get("consent") or [""])[0], None)
        if request is None:
            return _page(400, "Error 400: invalid_request", "This consent page has expired.")
        if (fields.get("decision") or [""])[0] != "allow":
            return _redirect(
                request.redirect_uri, {"error": "access_denied", "state": request.state}
            )
        ticked = frozenset(fields.get("scope", [])) & frozenset(request.scopes)
        if request.include_granted:
            ticked |= self._consented.get(request.client_id, frozenset())
        code = "4/" + secrets.token_urlsafe(24)
        self._codes[code] = Code(request, ticked, self.clock() + CODE_LIFETIME)
        query = {"state": request.state, "code": code, "scope": " ".join(sorted(ticked))}
        return _redirect(request.redirect_uri, query | {"authuser": "0", "prompt": "consent"})

    # -- the token and revoke endpoints ----------------------------------------------------

    def token(self, call: Call) -> Reply:
        """POST /token: authorization_code and refresh_token grants."""
        fields = call.form()
        try:
            self._check_client(call, fields)
            grant_type = fields.get("grant_type")
            if grant_type == "authorization_code":
                return json_reply(200, self._exchange(fields))
            if grant_type == "refresh_token":
                return json_reply(200, self._refreshed(fields))
            raise TokenError("unsupported_grant_type", f"Invalid grant_type: {grant_type}")
        except TokenError as error:
            return error.reply

    def revoke(self, call: Call) -> Reply:
        """POST /revoke: an access or refresh token ends its whole grant."""
        token = call.form().get("token", "")
        grant = self._refresh.get(token) or getattr(self._access.get(token), "grant", None)
        if grant is None or grant.revoked:
            return TokenError("invalid_token", "Token expired or revoked").reply
        self._end(grant)
        return json_reply(200, {})

    def scopes_for(self, authorization: str | None) -> frozenset[str]:
        """The scopes of a valid bearer token, else the Calendar API's 401."""
        kind, _, token = (authorization or "").partition(" ")
        access = self._access.get(token.strip()) if kind.lower() == "bearer" else None
        if access is None or access.grant.revoked or access.expires_at <= self.clock():
            raise ApiError(401, "authError", "Invalid Credentials")
        return access.scopes

    # -- controls for tests ----------------------------------------------------------------

    def issue(self, scopes: frozenset[str], *, offline: bool = True) -> IssuedTokens:
        """A grant as if the runner had consented, without the pages."""
        refresh = "1//" + secrets.token_urlsafe(32) if offline else None
        grant = Grant(self.client_id, scopes, refresh)
        self._grants.append(grant)
        if refresh:
            self._refresh[refresh] = grant
        self._consented[self.client_id] = self._consented.get(self.client_id, frozenset()) | scopes
        return self._access_for(grant, scopes, refresh)

    def expire_access_tokens(self) -> None:
        for access in self._access.values():
            access.expires_at = min(access.expires_at, self.clock())

    def expire_refresh_tokens(self) -> None:
        """As Google does after 7 days for apps in testing: refreshing gives invalid_grant."""
        for grant in self._grants:
            grant.refresh_expired = True

    def revoke_grants(self) -> None:
        """As if the runner removed the app's access in their Google account."""
        for grant in list(self._grants):
            self._end(grant)

    # -- internals -------------------------------------------------------------------------

    def _redirect_allowed(self, uri: str) -> bool:
        if self.redirect_uris:
            return uri in self.redirect_uris
        parts = urlsplit(uri)
        return (
            parts.scheme in {"http", "https"} and parts.netloc.rsplit(":", 1)[0] in LOOPBACK_HOSTS
        )

    def _check_client(self, call: Call, fields: dict[str, str]) -> None:
        client_id, secret = fields.get("client_id"), fields.get("client_secret")
        kind, _, encoded = call.headers.get("authorization", "").partition(" ")
        if kind.lower() == "basic":
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
        if client_id != self.client_id or secret != self.client_secret:
            raise TokenError("invalid_client", "Unauthorized", 401)

    def _exchange(self, fields: dict[str, str]) -> dict[str, object]:
        code = self._codes.get(fields.get("code", ""))
        if code is None or code.used or code.expires_at <= self.clock():
            raise TokenError("invalid_grant", "Bad Request")
        request = code.request
        if fields.get("redirect_uri") != request.redirect_uri:
            raise TokenError("redirect_uri_mismatch", "Bad Request")
        if request.challenge is not None:
            verifier = fields.get("code_verifier")
            if not verifier:
                raise TokenError("invalid_grant", "Missing code verifier.")
            if _challenge(verifier, request.challenge_method) != request.challenge:
                raise TokenError("invalid_grant", "Invalid code verifier.")
        code.used = True
        first = request.client_id not in self._consented
        with_refresh = request.offline and (first or request.prompt_consent)
        refresh = "1//" + secrets.token_urlsafe(32) if with_refresh else None
        grant = Grant(request.client_id, code.scopes, refresh)
        self._grants.append(grant)
        if refresh:
            self._refresh[refresh] = grant
        self._consented[request.client_id] = (
            self._consented.get(request.client_id, frozenset()) | code.scopes
        )
        return self._payload(self._access_for(grant, code.scopes, refresh))

    def _refreshed(self, fields: dict[str, str]) -> dict[str, object]:
        grant = self._refresh.get(fields.get("refresh_token", ""))
        if grant is None or grant.revoked or grant.refresh_expired:
            raise TokenError("invalid_grant", "Token has been expired or revoked.")
        scopes = frozenset((fields.get("scope") or "").split()) or grant.scopes
        if not scopes <= grant.scopes:
            raise TokenError("invalid_scope", "Some requested scopes were not granted.")
        return self._payload(self._access_for(grant, scopes, None))

    def _access_for(
        self, grant: Grant, scopes: frozenset[str], refresh: str | None
    ) -> IssuedTokens:
        token = "ya29." + secrets.token_urlsafe(32)
        lifetime = self.access_token_lifetime
        self._access[token] = AccessToken(grant, scopes, self.clock() + timedelta(seconds=lifetime))
        return IssuedTokens(token, refresh, lifetime, scopes)

    def _payload(self, issued: IssuedTokens) -> dict[str, object]:
        payload: dict[str, object] = {
            "access_token": issued.access_token,
            "expires_in": issued.expires_in,
            "scope": " ".join(sorted(issued.scopes)),
            "token_type": "Bearer",
        }
        if issued.refresh_token:
            payload["refresh_token"] = issued.refresh_token
        if "openid" in issued.scopes:
            payload["id_token"] = _id_token(self.client_id, self.account, self.clock())
        return payload

    def _end(self, grant: Grant) -> None:
        grant.revoked = True
        self._consented.pop(grant.client_id, None)


def _challenge(verifier: str, method: str) -> str:
    if method == "plain":
        return verifier
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _id_token(client_id: str, email: str, now: datetime) -> str:
    """An unsigned ID token (alg none): enough for code that reads the email without verifying."""
    issued = int(now.timestamp())
    claims = {"iss": "https://accounts.google.com", "aud": client_id, "sub": "1001", "email": email,
              "email_verified": True, "iat": issued, "exp": issued + 3600}  # fmt: skip
    parts = [{"alg": "none", "typ": "JWT"}, claims]
    encoded = [base64.urlsafe_b64encode(json.dumps(p).encode()).rstrip(b"=") for p in parts]
    return b".".join([*encoded, b""]).decode()


def _redirect(uri: str, query: dict[str, str | None]) -> Reply:
    present = {name: value for name, value in query.items() if value is not None}
    joiner = "&" if "?" in uri else "?"
    return Reply(302, b"", {"Location": uri + joiner + urlencode(present)})


def _page(status: int, title: str, detail: str) -> Reply:
    body = f"<!doctype html><title>{title}</title><h1>{title}</h1><p>{detail}</p>"
    return Reply(status, body.encode(), {"Content-Type": "text/html; charset=utf-8"})


def _consent_page(
    consent_id: str, scopes: tuple[str, ...], withheld: set[str], account: str
) -> Reply:
    boxes = scope_boxes(scopes, withheld)
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in - Google Accounts (fake)</title></head>
<body><main><h1>Allow access to your Google Account</h1><p>{html.escape(account)}</p>
<form method="post" action="/o/oauth2/v2/auth">
<input type="hidden" name="consent" value="{consent_id}">
<fieldset><legend>This app wants to:</legend><ul>{boxes}</ul></fieldset>
<button type="submit" name="decision" value="deny">Deny</button>
<button type="submit" name="decision" value="allow">Allow</button>
</form></main></body></html>"""
    return Reply(200, body.encode(), {"Content-Type": "text/html; charset=utf-8"})
