"""Strava webhook payloads and the subscription check (pure parts; subscriptions in test_push)."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from integrations.strava.webhooks import WebhookEvent, answer_challenge

EVENTS = json.loads((Path(__file__).parents[2] / "data/strava/webhook_events.json").read_text())


def test_an_activity_update_is_parsed_with_its_changes() -> None:
    event = WebhookEvent.parse(EVENTS["update"])
    assert (event.object_type, event.aspect_type) == ("activity", "update")
    assert (event.object_id, event.owner_id, event.subscription_id) == (13874400301, 4711, 120475)
    assert event.event_time == datetime.fromtimestamp(1775117400, UTC)
    assert event.updates["title"] == "Easy run with Anna"
    assert not event.is_deauthorization


@pytest.mark.parametrize("name", ["create", "update", "delete"])
def test_activity_events_are_not_deauthorizations(name: str) -> None:
    assert not WebhookEvent.parse(EVENTS[name]).is_deauthorization


def test_authorized_false_on_the_athlete_is_a_deauthorization() -> None:
    event = WebhookEvent.parse(EVENTS["deauthorize"])
    assert event.is_deauthorization
    assert event.object_id == event.owner_id == 4711


def test_a_boolean_false_authorized_counts_too() -> None:
    payload = {**EVENTS["deauthorize"], "updates": {"authorized": False}}
    assert WebhookEvent.parse(payload).is_deauthorization


@pytest.mark.parametrize(
    "change",
    [
        {"object_type": "club"},
        {"aspect_type": "remove"},
        {"object_id": "13874400301"},
        {"owner_id": None},
        {"subscription_id": True},
        {"event_time": 10**20},
        {"updates": ["title"]},
    ],
)
def test_junk_payloads_are_refused(change: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="not"):
        WebhookEvent.parse({**EVENTS["create"], **change})


@given(st.dictionaries(st.text(max_size=15), st.none() | st.integers() | st.text(max_size=10)))
def test_any_payload_parses_or_raises_value_error(payload: dict[str, Any]) -> None:
    with contextlib.suppress(ValueError):
        WebhookEvent.parse(payload)


def test_the_challenge_is_echoed_for_our_verify_token_only() -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": "s3cret", "hub.challenge": "15f7d1a9"}
    assert answer_challenge(params, "s3cret") == {"hub.challenge": "15f7d1a9"}
    assert answer_challenge({**params, "hub.verify_token": "guess"}, "s3cret") is None
    assert answer_challenge({**params, "hub.mode": "unsubscribe"}, "s3cret") is None
    assert (
        answer_challenge({k: v for k, v in params.items() if k != "hub.challenge"}, "s3cret")
        is None
    )
    assert answer_challenge({**params, "hub.verify_token": ""}, "") is None
    assert answer_challenge({**params, "hub.verify_token": "s3crét"}, "s3cret") is None
