"""Strava OAuth: consent URL, code exchange (with the athlete), refresh, deauthorize.

Strava's token answer carries ``expires_at`` (epoch seconds) and may rotate the refresh token;
the scopes the runner granted arrive only on the redirect, as a comma-separated ``scope``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import requests

from integrations.errors import AuthExpired, IntegrationError, RateLimited, UpstreamError
from integrations.http import post_form
from integrations.strava.limits import seconds_to_next_quarter
from integrations.types import TokenSet

STRAVA_ROOT = "https://www.strava.com"
READ_ALL = "activity:read_all"
READ = "activity:read"


@dataclass(frozen=True, slots=True)
class StravaEndpoints:
    """Where Strava's OAuth pages and API live; ``root`` swaps them for a fake or a proxy."""

    root: str
    authorize: str
    token: str
    deauthorize: str
    api: str

    @classmethod
    def for_root(cls, root: str) -> StravaEndpoints:
        """Strava's own host for an empty root, else the same paths under ``root``."""
        root = (root or STRAVA_ROOT).rstrip("/")
        return cls(
            root=root,
            authorize=f"{root}/oauth/authorize",
            token=f"{root}/oauth/token",
            deauthorize=f"{root}/oauth/deauthorize",
            api=f"{root}/api/v3",
        )


@dataclass(frozen=True, slots=True)
class StravaGrant:
    """What a code exchange yields: the tokens and whose they are."""

    tokens: TokenSet
    athlete_id: int
    athlete_name: str


class StravaOAuth:
    """The authorization-code flow for one Strava API application."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        endpoints: StravaEndpoints,
        session: requests.Session,
    ) -> None:
        self.client_id = client_id
        self._client_secret = client_secret
        self.endpoints = endpoints
        self._session = session

    def authorization_url(self, *, redirect_uri: str, state: str, scope: str = READ_ALL) -> str:
        """The consent page URL; ``approval_prompt=auto`` skips it for a known grant."""
        query = {
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "approval_prompt": "auto",
            "scope": scope,
            "state": state,
        }
        return f"{self.endpoints.authorize}?{urlencode(query)}"

    @staticmethod
    def granted_scopes(scope_param: str) -> frozenset[str]:
        """The scopes the runner left ticked, from the redirect's ``scope`` parameter."""
        return frozenset(s.strip() for s in scope_param.replace(" ", ",").split(",") if s.strip())

    def exchange(
        self, code: str, now: datetime, *, scopes: frozenset[str] = frozenset()
    ) -> StravaGrant:
        """Trade the redirect's code for tokens and the athlete (pass the granted scopes on)."""
        body = self._post_token({"grant_type": "authorization_code", "code": code}, now)
        athlete = body.get("athlete")
        if not isinstance(athlete, dict):
            athlete = {}
        athlete_id = athlete.get("id")
        if not isinstance(athlete_id, int) or isinstance(athlete_id, bool):
            raise UpstreamError("Strava's token answer names no athlete")
        name = " ".join(str(athlete[key]) for key in ("firstname", "lastname") if athlete.get(key))
        return StravaGrant(token_set(body, now, scopes), athlete_id, name)

    def refresh(
        self, refresh_token: str, now: datetime, *, scopes: frozenset[str] = frozenset()
    ) -> TokenSet:
        """New tokens; Strava may rotate the refresh token, so store the one this returns."""
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        tokens = token_set(self._post_token(form, now), now, scopes)
        if tokens.refresh_token is None:
            # Strava always sends one; keep the old one rather than lose the grant.
            return replace(tokens, refresh_token=refresh_token)
        return tokens

    def deauthorize(self, access_token: str) -> None:
        """Revoke the runner's grant; a token Strava no longer accepts counts as revoked."""
        response = self._post(self.endpoints.deauthorize, {"access_token": access_token})
        if response.status_code == 401:
            return
        raise_for_status(response, "Strava OAuth")

    def _post_token(self, form: dict[str, str], now: datetime) -> dict[str, Any]:
        form = {**form, "client_id": self.client_id, "client_secret": self._client_secret}
        response = self._post(self.endpoints.token, form)
        raise_for_status(response, "Strava OAuth", grant=True, now=now)
        body = json_of(response, "Strava OAuth")
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise UpstreamError("Strava's token endpoint answered without an access token")
        return body

    def _post(self, url: str, form: Mapping[str, str]) -> requests.Response:
        return post_form(self._session, url, form, "Strava")


def token_set(body: Mapping[str, Any], now: datetime, scopes: frozenset[str]) -> TokenSet:
    """A TokenSet from a token answer; ``expires_at`` wins over ``expires_in``."""
    expires_at: datetime | None = None
    try:
        if isinstance(body.get("expires_at"), int | float):
            expires_at = datetime.fromtimestamp(float(body["expires_at"]), UTC)
        elif body.get("expires_in") is not None:
            expires_at = now.astimezone(UTC) + timedelta(seconds=float(body["expires_in"]))
    except (TypeError, ValueError, OverflowError, OSError) as exc:
        raise UpstreamError("Strava's token answer has an unreadable expiry") from exc
    refresh = body.get("refresh_token")
    return TokenSet(
        access_token=str(body["access_token"]),
        refresh_token=refresh if isinstance(refresh, str) else None,
        expires_at=expires_at,
        scopes=scopes,
        token_type=str(body.get("token_type") or "Bearer"),
    )


def raise_for_status(
    response: requests.Response, what: str, *, grant: bool = False, now: datetime | None = None
) -> None:
    """Raise our error for a failed answer: 401 (and, for grants, 400) mean reconnect unless
    Strava blames the application; a 429 waits for the next 15-minute window after ``now``."""
    status = response.status_code
    if status < 300:
        return
    detail = _detail(response)
    if grant and status in {400, 401} and "Application" in detail:
        raise IntegrationError(f"{what} refused our client credentials: {detail}")
    if status == 401 or (grant and status == 400):
        raise AuthExpired(f"{what} refused the grant: {detail}")
    if status == 429:
        wait = seconds_to_next_quarter(now or datetime.now(UTC))
        raise RateLimited(wait, f"{what} rate limit")
    if status >= 500:
        raise UpstreamError(f"{what} failed with HTTP {status}")
    raise IntegrationError(f"{what} refused the request (HTTP {status}): {detail}")


def json_of(response: requests.Response, what: str) -> Any:
    """The answer's JSON body; UpstreamError when it is not JSON."""
    try:
        return response.json()
    except ValueError as exc:
        raise UpstreamError(f"{what} sent no JSON (HTTP {response.status_code})") from exc


def _detail(response: requests.Response) -> str:
    """Strava's error text: "message" plus the resource/field/code of each entry in "errors"."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if not isinstance(body, dict):
        return f"HTTP {response.status_code}"
    errors = body.get("errors")
    parts = [
        ":".join(str(e.get(k, "")) for k in ("resource", "field", "code"))
        for e in (errors if isinstance(errors, list) else [])
        if isinstance(e, dict)
    ]
    return " ".join([str(body.get("message") or body.get("error") or ""), *parts]).strip()
