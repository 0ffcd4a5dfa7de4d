"""Strava webhooks: parse event payloads, answer the subscription check, manage subscriptions.

Payloads are unsigned and carry no activity data: check ``subscription_id`` against ours, then
fetch the activity. One subscription per application; its callback must answer a GET challenge
within 2 seconds while ``create`` is still waiting.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

from integrations.errors import UpstreamError
from integrations.http import timeout_of
from integrations.strava.oauth import StravaEndpoints, json_of, raise_for_status

OBJECT_TYPES = frozenset({"activity", "athlete"})
ASPECT_TYPES = frozenset({"create", "update", "delete"})


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """One event Strava pushed: an activity created/updated/deleted, or an athlete update."""

    object_type: str
    object_id: int
    aspect_type: str
    owner_id: int
    subscription_id: int
    event_time: datetime
    updates: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, payload: Mapping[str, Any]) -> WebhookEvent:
        """The event in a POSTed payload; ValueError when it is not one."""
        object_type, aspect_type = payload.get("object_type"), payload.get("aspect_type")
        if object_type not in OBJECT_TYPES or aspect_type not in ASPECT_TYPES:
            raise ValueError(f"not a Strava event: {object_type!r}/{aspect_type!r}")
        updates = payload.get("updates") or {}
        if not isinstance(updates, Mapping):
            raise ValueError("updates is not an object")
        return cls(
            object_type=str(object_type),
            object_id=_whole(payload, "object_id"),
            aspect_type=str(aspect_type),
            owner_id=_whole(payload, "owner_id"),
            subscription_id=_whole(payload, "subscription_id"),
            event_time=_instant(_whole(payload, "event_time")),
            updates={str(k): _text(v) for k, v in updates.items()},
        )

    @property
    def is_deauthorization(self) -> bool:
        """Whether the athlete revoked our access (their data must then be deleted)."""
        return self.object_type == "athlete" and self.updates.get("authorized") == "false"


def answer_challenge(params: Mapping[str, str], verify_token: str) -> dict[str, str] | None:
    """The body for Strava's subscription GET, or None when it is not ours to answer."""
    challenge = params.get("hub.challenge")
    offered = params.get("hub.verify_token", "")
    if params.get("hub.mode") != "subscribe" or not challenge or not verify_token:
        return None
    if not hmac.compare_digest(offered.encode(), verify_token.encode()):
        return None
    return {"hub.challenge": challenge}


class StravaSubscriptions:
    """The application's push subscription (/api/v3/push_subscriptions), by client secret."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        endpoints: StravaEndpoints,
        session: requests.Session,
    ) -> None:
        self._credentials = {"client_id": client_id, "client_secret": client_secret}
        self._url = f"{endpoints.api}/push_subscriptions"
        self._session = session

    def create(self, callback_url: str, verify_token: str) -> int:
        """Subscribe ``callback_url``; Strava checks it with a GET challenge before answering."""
        form = {**self._credentials, "callback_url": callback_url, "verify_token": verify_token}
        body = json_of(self._call("POST", self._url, data=form), "Strava")
        subscription_id = body.get("id") if isinstance(body, dict) else None
        if not isinstance(subscription_id, int):
            raise UpstreamError("Strava created a subscription without an id")
        return subscription_id

    def list(self) -> list[int]:
        """The ids of the application's subscriptions (Strava allows one)."""
        body = json_of(self._call("GET", self._url, params=self._credentials), "Strava")
        if not isinstance(body, list):
            raise UpstreamError("Strava sent no list of subscriptions")
        return [s["id"] for s in body if isinstance(s, dict) and isinstance(s.get("id"), int)]

    def delete(self, subscription_id: int) -> None:
        """Remove a subscription; one that is already gone counts as removed."""
        url = f"{self._url}/{subscription_id}"
        self._call("DELETE", url, params=self._credentials, missing_ok=True)

    def _call(
        self, method: str, url: str, *, missing_ok: bool = False, **kwargs: Any
    ) -> requests.Response:
        try:
            response = self._session.request(
                method, url, timeout=timeout_of(self._session), allow_redirects=False, **kwargs
            )
        except requests.RequestException as exc:
            raise UpstreamError(f"Strava unreachable: {type(exc).__name__}") from exc
        if not (missing_ok and response.status_code == 404):
            raise_for_status(response, "Strava push subscriptions")
        return response


def _whole(payload: Mapping[str, Any], key: str) -> int:
    value = payload.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} is not an integer: {value!r}")
    return value


def _instant(epoch: int) -> datetime:
    try:
        return datetime.fromtimestamp(epoch, UTC)
    except (OverflowError, OSError) as exc:
        raise ValueError(f"event_time is not a valid time: {epoch}") from exc


def _text(value: object) -> str:
    """An update's value as Strava spells it: "false", not Python's "False"."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)
