"""Pytest fixtures for the fakes; the suite registers this module through `pytest_plugins`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.google import FakeGoogle


@pytest.fixture
def fake_google() -> Iterator[FakeGoogle]:
    """A fresh fake Google (OAuth + Calendar API) on a loopback port; `.url` is its root."""
    fake = FakeGoogle().start()
    try:
        yield fake
    finally:
        fake.stop()
