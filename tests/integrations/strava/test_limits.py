"""Strava's rate-limit headers and windows: what is left and how long to wait."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from integrations.strava.limits import (
    seconds_to_midnight,
    seconds_to_next_quarter,
    usage_from_headers,
)

SEEN = datetime(2026, 3, 2, 10, 7, 30, tzinfo=UTC)


def headers(usage: str, read_usage: str | None = None) -> dict[str, str]:
    found = {"X-RateLimit-Limit": "200,2000", "X-RateLimit-Usage": usage}
    if read_usage is not None:
        found |= {"X-ReadRateLimit-Limit": "100,1000", "X-ReadRateLimit-Usage": read_usage}
    return found


def test_both_header_pairs_are_read() -> None:
    usage = usage_from_headers(headers("12,340", "10, 300"), SEEN)
    assert usage is not None
    assert (usage.overall.limit_15min, usage.overall.usage_15min) == (200, 12)
    assert (usage.overall.limit_day, usage.overall.usage_day) == (2000, 340)
    assert usage.read is not None
    assert (usage.read.usage_15min, usage.read.usage_day) == (10, 300)


def test_missing_or_malformed_headers_give_no_usage() -> None:
    assert usage_from_headers({}, SEEN) is None
    assert usage_from_headers({"X-RateLimit-Limit": "200", "X-RateLimit-Usage": "1"}, SEEN) is None
    assert usage_from_headers(headers("a,b"), SEEN) is None
    usage = usage_from_headers(headers("1,1", "x"), SEEN)
    assert usage is not None
    assert usage.read is None


def test_a_nearly_spent_read_window_waits_for_the_next_quarter_hour() -> None:
    usage = usage_from_headers(headers("96,300", "96,300"), SEEN)
    assert usage is not None
    assert usage.retry_after(SEEN, reserve=5) == 7.5 * 60
    assert usage.retry_after(SEEN, reserve=3) is None


def test_a_reserve_never_keeps_back_more_than_a_quarter_of_a_small_window() -> None:
    small = {"X-RateLimit-Limit": "40,400", "X-RateLimit-Usage": "4,50",
             "X-ReadRateLimit-Limit": "20,200", "X-ReadRateLimit-Usage": "4,50"}  # fmt: skip
    usage = usage_from_headers(small, SEEN)
    assert usage is not None
    assert usage.retry_after(SEEN, reserve=30) is None  # 30 would be the whole window
    spent = usage_from_headers({**small, "X-ReadRateLimit-Usage": "15,50"}, SEEN)
    assert spent is not None
    assert spent.retry_after(SEEN, reserve=30) == 7.5 * 60  # 5 of 20 kept back


def test_a_nearly_spent_day_waits_for_utc_midnight() -> None:
    usage = usage_from_headers(headers("10,1999"), SEEN)
    assert usage is not None
    assert usage.retry_after(SEEN, reserve=5) == seconds_to_midnight(SEEN)
    assert usage.retry_after(SEEN + timedelta(days=1), reserve=5) is None


def test_a_window_that_rolled_over_since_the_answer_is_fresh() -> None:
    usage = usage_from_headers(headers("200,300"), SEEN)
    assert usage is not None
    assert usage.retry_after(SEEN + timedelta(minutes=5)) == 2.5 * 60
    assert usage.retry_after(SEEN + timedelta(minutes=8)) is None


def test_windows_end_on_the_quarter_hour_and_at_midnight() -> None:
    assert seconds_to_next_quarter(datetime(2026, 1, 1, 9, 45, tzinfo=UTC)) == 900
    assert seconds_to_next_quarter(datetime(2026, 1, 1, 9, 59, 59, tzinfo=UTC)) == 1
    assert seconds_to_midnight(datetime(2026, 1, 1, 23, 0, tzinfo=UTC)) == 3600


@given(st.datetimes(timezones=st.just(UTC)))
def test_the_wait_always_lands_on_a_window_boundary(now: datetime) -> None:
    quarter = now + timedelta(seconds=seconds_to_next_quarter(now))
    assert 0 < seconds_to_next_quarter(now) <= 900
    assert quarter.minute % 15 == 0
    assert quarter.second == 0
    assert 0 < seconds_to_midnight(now) <= 86400
