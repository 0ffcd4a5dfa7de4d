"""intervals.icu OAuth against the fake: the consent URL, the code exchange and its failures,
and the token then working (within its scopes) as a bearer token."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from integrations.errors import AuthExpired, UpstreamError
from integrations.http import new_session
from integrations.intervals_icu.client import IntervalsClient
from integrations.intervals_icu.oauth import (
    IntervalsGrant,
    allows,
    authorization_url,
    exchange_code,
    normalise_scopes,
)
from tests.fakes.google import Matcher
from tests.fakes.intervals import FakeIntervals
from tests.fakes.intervals_oauth import consent
from tests.fakes.strava_wire import Fault
from tests.fakes.wire import json_reply

CALLBACK = "http://127.0.0.1:8000/connect/intervals/callback"
SCOPE = "ACTIVITY:READ,CALENDAR:WRITE"


def consent_url(fake: FakeIntervals, state: str = "s-1") -> str:
    return authorization_url(
        fake.url, fake.oauth.client_id, redirect_uri=CALLBACK, scope=SCOPE, state=state
    )


def code_from(location: str) -> str:
    query = parse_qs(urlsplit(location).query)
    return query["code"][0]


def exchange(fake: FakeIntervals, code: str, *, secret: str | None = None) -> IntervalsGrant:
    secret = fake.oauth.client_secret if secret is None else secret
    return exchange_code(fake.url, fake.oauth.client_id, secret, code, new_session(retries=0))


def test_the_consent_url_names_the_app_the_callback_the_scopes_and_the_state() -> None:
    url = authorization_url("", "7413", redirect_uri=CALLBACK, scope=SCOPE, state="abc")

    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "intervals.icu",
        "/oauth/authorize",
    )
    assert parse_qs(parts.query) == {
        "client_id": ["7413"], "redirect_uri": [CALLBACK], "scope": [SCOPE], "state": ["abc"],
    }  # fmt: skip


def test_an_approved_consent_yields_a_bearer_token_for_the_athlete_that_reads_runs(
    fake_intervals: FakeIntervals,
) -> None:
    run = fake_intervals.add_activity(datetime(2026, 5, 3, 8, 30))
    location = consent(consent_url(fake_intervals, "our-state"))

    assert location.startswith(CALLBACK + "?")
    assert parse_qs(urlsplit(location).query)["state"] == ["our-state"]
    grant = exchange(fake_intervals, code_from(location))

    assert grant.scopes == {"ACTIVITY:READ", "CALENDAR:WRITE"}
    assert (grant.athlete_id, grant.athlete_name) == (fake_intervals.athlete.id, "Rita Runner")
    client = IntervalsClient(grant.access_token, fake_intervals.url, new_session(), oauth=True)
    read = client.activities(date(2026, 5, 1), date(2026, 5, 4))
    assert [a.source_id for a in read.activities] == [run["id"]]
    assert client.planned_runs(date(2026, 5, 1), date(2026, 5, 4)) == []  # WRITE lets it read
    assert fake_intervals.requests("GET", "/activities")[-1].token == grant.access_token


def test_an_unticked_calendar_scope_is_left_out_of_the_grant_and_the_calendar_is_closed(
    fake_intervals: FakeIntervals,
) -> None:
    grant = exchange(fake_intervals, code_from(consent(consent_url(fake_intervals),
                                                       untick={"CALENDAR:WRITE"})))  # fmt: skip

    assert grant.scopes == {"ACTIVITY:READ"}
    client = IntervalsClient(grant.access_token, fake_intervals.url, new_session(), oauth=True)
    client.activities(date(2026, 5, 1), date(2026, 5, 4))
    with pytest.raises(AuthExpired):
        client.planned_runs(date(2026, 5, 1), date(2026, 5, 4))


def test_a_declined_consent_redirects_with_access_denied_and_no_code(
    fake_intervals: FakeIntervals,
) -> None:
    location = consent(consent_url(fake_intervals), approve=False)

    assert parse_qs(urlsplit(location).query) == {"error": ["access_denied"]}


def test_a_code_works_once(fake_intervals: FakeIntervals) -> None:
    code = code_from(consent(consent_url(fake_intervals)))
    exchange(fake_intervals, code)

    with pytest.raises(AuthExpired, match="refused the code"):
        exchange(fake_intervals, code)


def test_a_code_older_than_two_minutes_is_refused(fake_intervals: FakeIntervals) -> None:
    code = code_from(consent(consent_url(fake_intervals)))
    fake_intervals.oauth.clock.advance(timedelta(minutes=2, seconds=1))

    with pytest.raises(AuthExpired):
        exchange(fake_intervals, code)


def test_a_wrong_client_secret_is_refused(fake_intervals: FakeIntervals) -> None:
    code = code_from(consent(consent_url(fake_intervals)))

    with pytest.raises(AuthExpired):
        exchange(fake_intervals, code, secret="not-our-secret")
    assert exchange(fake_intervals, code).access_token  # the code was not used up


def test_a_failing_token_endpoint_is_an_upstream_error(fake_intervals: FakeIntervals) -> None:
    code = code_from(consent(consent_url(fake_intervals)))
    fake_intervals.fail(500, method="POST", path="/api/oauth/token")

    with pytest.raises(UpstreamError, match="HTTP 500"):
        exchange(fake_intervals, code)


def test_a_token_answer_without_a_token_is_an_upstream_error(
    fake_intervals: FakeIntervals,
) -> None:
    fake_intervals.recorder.add_fault(
        Fault(Matcher("POST", "/api/oauth/token"), lambda: json_reply(200, {"scope": SCOPE}))
    )

    with pytest.raises(UpstreamError, match="without an access token"):
        exchange(fake_intervals, "any-code")


def test_an_unreachable_token_endpoint_is_an_upstream_error() -> None:
    with pytest.raises(UpstreamError, match="unreachable"):
        exchange_code("http://127.0.0.1:9", "7413", "secret", "code", new_session(retries=0))


def test_scopes_are_read_from_the_comma_list_and_write_implies_read() -> None:
    scopes = normalise_scopes(" activity:read,CALENDAR:WRITE ,")

    assert scopes == {"ACTIVITY:READ", "CALENDAR:WRITE"}
    assert allows(scopes, "CALENDAR:READ")
    assert allows(normalise_scopes("ACTIVITY:WRITE"), "ACTIVITY:READ")
    assert not allows(scopes, "ACTIVITY:WRITE")
    assert not allows(normalise_scopes(""), "ACTIVITY:READ")
