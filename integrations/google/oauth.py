"""Google OAuth 2.0 for web servers: consent URL with PKCE, code exchange, refresh, revoke."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import requests

from integrations.errors import AuthExpired, IntegrationError, RateLimited, UpstreamError
from integrations.http import post_form
from integrations.types import TokenSet

CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar.app.created"
SIGN_IN_SCOPES = ("openid", "email")
DEFAULT_RETRY_AFTER_S = 60.0


@dataclass(frozen=True, slots=True)
class OAuthEndpoints:
    """Where the consent page, the token endpoint and the revocation endpoint live."""

    authorize: str
    token: str
    revoke: str

    @classmethod
    def for_root(cls, root: str) -> OAuthEndpoints:
        """Google's own hosts for an empty root, else the same paths under ``root``."""
        if not root:
            return cls(
                authorize="https://accounts.google.com/o/oauth2/v2/auth",
                token="https://oauth2.googleapis.com/token",
                revoke="https://oauth2.googleapis.com/revoke",
            )
        root = root.rstrip("/")
        return cls(root + "/o/oauth2/v2/auth", root + "/token", root + "/revoke")


@dataclass(frozen=True, slots=True)
class Pkce:
    """A PKCE pair: the verifier stays with us across the redirect, the challenge goes to Google."""

    verifier: str
    challenge: str


def new_pkce() -> Pkce:
    """A fresh random verifier (86 characters, RFC 7636 allows 43-128) and its S256 challenge."""
    verifier = secrets.token_urlsafe(64)
    return Pkce(verifier, s256(verifier))


def s256(verifier: str) -> str:
    """The S256 code challenge: unpadded base64url of the verifier's SHA-256."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class GoogleOAuth:
    """The authorization-code flow against one OAuth client; tokens come back as TokenSets."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        endpoints: OAuthEndpoints,
        session: requests.Session,
    ) -> None:
        self.client_id = client_id
        self._client_secret = client_secret
        self.endpoints = endpoints
        self._session = session

    def authorization_url(
        self,
        *,
        redirect_uri: str,
        state: str,
        code_challenge: str,
        scopes: Iterable[str] = (CALENDAR_SCOPE,),
        offline: bool = True,
    ) -> str:
        """The consent page URL; ``offline`` asks for forced consent and a refresh token."""
        query = {
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": " ".join(scopes),
            "state": state,
            "include_granted_scopes": "true",
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        if offline:
            query |= {"access_type": "offline", "prompt": "consent"}
        return f"{self.endpoints.authorize}?{urlencode(query)}"

    def exchange(
        self, *, code: str, redirect_uri: str, code_verifier: str, now: datetime
    ) -> TokenSet:
        """Trade the code from the redirect (and our PKCE verifier) for a grant."""
        form = _code_form(code, redirect_uri, code_verifier)
        return _token_set(self._post_token(form), now, refresh_token=None)

    def identify(
        self, *, code: str, redirect_uri: str, code_verifier: str, now: datetime
    ) -> GoogleIdentity:
        """Trade a sign-in code for who the runner is at Google (from the ID token)."""
        body = self._post_token(_code_form(code, redirect_uri, code_verifier))
        return identity_from_id_token(body.get("id_token"), self.client_id, now)

    def refresh(self, refresh_token: str, now: datetime) -> TokenSet:
        """A new access token; Google usually keeps the refresh token, so we keep the old one."""
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return _token_set(self._post_token(form), now, refresh_token=refresh_token)

    def revoke(self, token: str) -> None:
        """Revoke a grant at Google; a token Google no longer knows counts as revoked."""
        response = self._post(self.endpoints.revoke, {"token": token})
        if response.status_code == 400 and _error_code(response) in {
            "invalid_token",
            "invalid_grant",
        }:
            return
        _raise_for_status(response)

    def _post_token(self, form: dict[str, str]) -> dict[str, Any]:
        form = {**form, "client_id": self.client_id, "client_secret": self._client_secret}
        response = self._post(self.endpoints.token, form)
        _raise_for_status(response)
        body = _json(response)
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise UpstreamError("token endpoint answered without an access token")
        return body

    def _post(self, url: str, form: Mapping[str, str]) -> requests.Response:
        return post_form(self._session, url, form, "Google OAuth")


def _code_form(code: str, redirect_uri: str, code_verifier: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": code_verifier,
    }


@dataclass(frozen=True, slots=True)
class GoogleIdentity:
    """Who signed in: Google's stable subject id and their verified email."""

    subject: str
    email: str


def identity_from_id_token(token: object, client_id: str, now: datetime) -> GoogleIdentity:
    """The claims of an ID token received straight from the token endpoint.

    Its signature is not checked: OpenID Connect Core 3.1.3.7 lets a client rely on the TLS
    connection to the token endpoint instead. Issuer, audience, expiry and email are checked.
    """
    if not isinstance(token, str) or token.count(".") != 2:
        raise IntegrationError("Google sent no ID token: sign-in needs the openid email scopes")
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, UnicodeDecodeError) as exc:
        raise IntegrationError("Google sent an unreadable ID token") from exc
    if not isinstance(claims, dict):
        raise IntegrationError("Google sent an unreadable ID token")
    expires = claims.get("exp")
    checks = {
        "issuer": claims.get("iss") in {"accounts.google.com", "https://accounts.google.com"},
        "audience": claims.get("aud") == client_id,
        "expiry": isinstance(expires, int | float) and expires >= now.timestamp(),
        "verified email": claims.get("email_verified") is True,
        "email": isinstance(claims.get("email"), str),
        "subject": isinstance(claims.get("sub"), str),
    }
    wrong = [name for name, passed in checks.items() if not passed]
    if wrong:
        raise IntegrationError(f"Google's ID token failed its checks: {', '.join(wrong)}")
    return GoogleIdentity(subject=claims["sub"], email=claims["email"])


def _token_set(body: dict[str, Any], now: datetime, *, refresh_token: str | None) -> TokenSet:
    expires_in = body.get("expires_in")
    try:
        expires_at = (
            now.astimezone(UTC) + timedelta(seconds=float(expires_in))
            if expires_in is not None
            else None
        )
    except (TypeError, ValueError) as exc:
        raise UpstreamError(f"token endpoint sent expires_in={expires_in!r}") from exc
    new_refresh = body.get("refresh_token")
    return TokenSet(
        access_token=body["access_token"],
        refresh_token=new_refresh if isinstance(new_refresh, str) else refresh_token,
        expires_at=expires_at,
        scopes=frozenset(str(body.get("scope") or "").split()),
        token_type=str(body.get("token_type") or "Bearer"),
    )


def _raise_for_status(response: requests.Response) -> None:
    status = response.status_code
    if status < 300:
        return
    code = _error_code(response)
    if code == "invalid_grant":
        raise AuthExpired(f"Google refused the grant: {_description(response)}")
    if status == 429:
        raise RateLimited(_retry_after(response), "Google OAuth rate limit")
    if status >= 500:
        raise UpstreamError(f"Google OAuth failed with HTTP {status}")
    raise IntegrationError(f"Google OAuth refused the request: {code or status}")


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise UpstreamError(f"Google OAuth sent no JSON (HTTP {response.status_code})") from exc


def _error_code(response: requests.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("error") if isinstance(body, dict) else None
    return code if isinstance(code, str) else None


def _description(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return "invalid_grant"
    return str(body.get("error_description") or body.get("error")) if isinstance(body, dict) else ""


def _retry_after(response: requests.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return DEFAULT_RETRY_AFTER_S
