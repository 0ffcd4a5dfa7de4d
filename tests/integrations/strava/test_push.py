"""Strava push subscriptions against the fake, which checks our callback like Strava does."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from integrations.errors import IntegrationError
from integrations.http import new_session
from integrations.strava.oauth import StravaEndpoints
from integrations.strava.webhooks import StravaSubscriptions, WebhookEvent, answer_challenge
from tests.fakes.server import LoopbackServer
from tests.fakes.strava import FakeStrava

VERIFY_TOKEN = "verify-me-7f3a"


class Callback:
    """A webhook endpoint built on answer_challenge and WebhookEvent.parse; keeps the events."""

    def __init__(self) -> None:
        self.events: list[WebhookEvent] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        if request.method == "GET":
            answer = answer_challenge(request.args, VERIFY_TOKEN)
            response = Response(json.dumps(answer), 200 if answer else 403)
        else:
            self.events.append(WebhookEvent.parse(request.get_json()))
            response = Response("", 200)
        return response(environ, start_response)


@pytest.fixture
def callback() -> Iterator[tuple[Callback, str]]:
    app = Callback()
    with LoopbackServer(app) as server:
        yield app, server.url + "/webhooks/strava"


def subscriptions(fake: FakeStrava, *, secret: str | None = None) -> StravaSubscriptions:
    return StravaSubscriptions(
        str(fake.client_id),
        fake.client_secret if secret is None else secret,
        StravaEndpoints.for_root(fake.url),
        new_session(retries=0),
    )


def test_create_passes_the_challenge_then_list_and_delete(
    fake_strava: FakeStrava, callback: tuple[Callback, str]
) -> None:
    _, url = callback
    push = subscriptions(fake_strava)
    subscription_id = push.create(url, VERIFY_TOKEN)
    assert fake_strava.subscription is not None
    assert fake_strava.subscription.callback_url == url
    assert push.list() == [subscription_id]
    push.delete(subscription_id)
    assert push.list() == []
    push.delete(subscription_id)  # already gone: fine


def test_a_wrong_verify_token_fails_the_challenge(
    fake_strava: FakeStrava, callback: tuple[Callback, str]
) -> None:
    with pytest.raises(IntegrationError, match="callback"):
        subscriptions(fake_strava).create(callback[1], "someone-elses-token")
    assert fake_strava.subscription is None


def test_delivered_events_parse_with_our_subscription_id(
    fake_strava: FakeStrava, callback: tuple[Callback, str]
) -> None:
    app, url = callback
    subscription_id = subscriptions(fake_strava).create(url, VERIFY_TOKEN)
    fake_strava.add_activity(start=fake_strava.now())
    fake_strava.revoke_access()
    assert fake_strava.deliver_pending() == [200, 200]
    assert [(e.object_type, e.aspect_type) for e in app.events] == [
        ("activity", "create"),
        ("athlete", "update"),
    ]
    assert {e.subscription_id for e in app.events} == {subscription_id}
    assert app.events[1].is_deauthorization


def test_a_wrong_client_secret_is_refused(fake_strava: FakeStrava) -> None:
    with pytest.raises(IntegrationError):
        subscriptions(fake_strava, secret="wrong").list()
