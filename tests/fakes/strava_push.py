"""The fake Strava's webhook side: the push subscription (one per app, verified by a GET
challenge to the callback, as Strava does) and the event payloads it POSTs there."""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests

from tests.fakes.strava_wire import StravaError
from tests.fakes.wire import Call

Json = dict[str, Any]
CALLBACK_TIMEOUT_S = 2.0  # Strava gives the callback two seconds to answer


@dataclass
class Subscription:
    id: int
    callback_url: str
    created_at: datetime

    def json(self, application_id: int) -> Json:
        stamp = self.created_at.strftime("%Y-%m-%dT%H:%M:%S+00:00")
        return {"id": self.id, "resource_state": 2, "application_id": application_id,
                "callback_url": self.callback_url, "created_at": stamp,
                "updated_at": stamp}  # fmt: skip


def challenge(callback_url: str, verify_token: str) -> bool:
    """Strava's subscription check: GET the callback with hub.* and expect the challenge back."""
    sent = secrets.token_urlsafe(12)
    params = {"hub.mode": "subscribe", "hub.challenge": sent, "hub.verify_token": verify_token}
    try:
        answer = requests.get(callback_url, params=params, timeout=CALLBACK_TIMEOUT_S)
        return answer.status_code == 200 and answer.json().get("hub.challenge") == sent
    except (requests.RequestException, ValueError, AttributeError):
        return False


def deliver(callback_url: str, event: Json) -> int:
    """POST one event to the callback as Strava does; the status code it answered."""
    answer = requests.post(callback_url, json=event, timeout=CALLBACK_TIMEOUT_S)
    return answer.status_code


class PushSubscriptions:
    """`/api/v3/push_subscriptions`; authenticated by the app's client id and secret."""

    def __init__(self, client_id: int, client_secret: str) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.current: Subscription | None = None
        self._ids = itertools.count(120_001)

    def check_client(self, call: Call) -> None:
        fields = call.form()
        if fields.get("client_id") != str(self.client_id) or (
            fields.get("client_secret") != self.client_secret
        ):
            raise StravaError(401, "Authorization Error", "Application", "client_id", "invalid")

    def creatable(self, call: Call) -> tuple[str, str]:
        """Checks a create call; its (callback_url, verify_token) to challenge."""
        self.check_client(call)
        fields = call.form()
        callback_url = fields.get("callback_url", "")
        if not callback_url.startswith(("http://", "https://")):
            raise StravaError(400, "Bad Request", "PushSubscription", "callback_url", "invalid")
        if self.current is not None:
            raise StravaError(400, "Bad Request", "PushSubscription", "", "already exists")
        return callback_url, fields.get("verify_token", "")

    def create(self, callback_url: str, now: datetime) -> Subscription:
        if self.current is not None:
            raise StravaError(400, "Bad Request", "PushSubscription", "", "already exists")
        self.current = Subscription(next(self._ids), callback_url, now)
        return self.current

    def listing(self, call: Call) -> list[Json]:
        self.check_client(call)
        return [self.current.json(self.client_id)] if self.current else []

    def delete(self, call: Call, subscription_id: str) -> None:
        self.check_client(call)
        if self.current is None or str(self.current.id) != subscription_id:
            raise StravaError(404, "Record Not Found", "PushSubscription", "id", "invalid")
        self.current = None


def event(
    object_type: str, object_id: int, aspect_type: str, *, owner_id: int,
    subscription_id: int, event_time: int, updates: dict[str, str] | None = None,
) -> Json:  # fmt: skip
    """A webhook payload; `updates` values are strings, as Strava sends them."""
    return {"aspect_type": aspect_type, "event_time": event_time, "object_id": object_id,
            "object_type": object_type, "owner_id": owner_id,
            "subscription_id": subscription_id, "updates": updates or {}}  # fmt: skip
