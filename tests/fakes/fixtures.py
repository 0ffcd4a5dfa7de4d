"""Pytest fixtures for the fakes; the suite registers this module through `pytest_plugins`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.google import FakeGoogle
from tests.fakes.intervals import FakeIntervals
from tests.fakes.strava import FakeStrava


@pytest.fixture
def fake_google() -> Iterator[FakeGoogle]:
    """A fresh fake Google (OAuth + Calendar API) on a loopback port; `.url` is its root."""
    fake = FakeGoogle().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def fake_strava() -> Iterator[FakeStrava]:
    """A fresh fake Strava (OAuth, API v3, webhooks) on a loopback port; `.url` is its root."""
    fake = FakeStrava().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def fake_intervals() -> Iterator[FakeIntervals]:
    """A fresh fake intervals.icu on a loopback port; `.url` is its root, `.api_key` the key."""
    fake = FakeIntervals().start()
    try:
        yield fake
    finally:
        fake.stop()
