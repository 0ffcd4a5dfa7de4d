"""The Strava OAuth client against the fake Strava: consent, scopes, exchange, refresh, revoke."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from integrations.errors import AuthExpired, IntegrationError, RateLimited, UpstreamError
from integrations.http import new_session
from integrations.strava.client import StravaClient
from integrations.strava.oauth import READ, READ_ALL, StravaEndpoints, StravaOAuth
from tests.fakes.strava import FakeStrava

REDIRECT = "http://127.0.0.1:5000/connect/strava/callback"


def oauth_for(fake: FakeStrava, *, secret: str | None = None) -> StravaOAuth:
    return StravaOAuth(
        str(fake.client_id),
        fake.client_secret if secret is None else secret,
        StravaEndpoints.for_root(fake.url),
        new_session(retries=0),
    )


def redirect_query(location: str) -> dict[str, str]:
    return {name: values[-1] for name, values in parse_qs(urlsplit(location).query).items()}


def consent(fake: FakeStrava, oauth: StravaOAuth) -> dict[str, str]:
    return redirect_query(fake.approve(oauth.authorization_url(redirect_uri=REDIRECT, state="s1")))


def test_an_empty_root_means_stravas_own_endpoints() -> None:
    endpoints = StravaEndpoints.for_root("")
    assert endpoints.authorize == "https://www.strava.com/oauth/authorize"
    assert endpoints.token == "https://www.strava.com/oauth/token"
    assert endpoints.deauthorize == "https://www.strava.com/oauth/deauthorize"
    assert endpoints.api == "https://www.strava.com/api/v3"
    assert StravaEndpoints.for_root("http://127.0.0.1:9/").api == "http://127.0.0.1:9/api/v3"


def test_the_consent_url_asks_for_read_all_with_our_state() -> None:
    oauth = StravaOAuth("42", "x", StravaEndpoints.for_root(""), new_session())
    query = redirect_query(oauth.authorization_url(redirect_uri=REDIRECT, state="abc"))
    assert query == {
        "client_id": "42",
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "approval_prompt": "auto",
        "scope": READ_ALL,
        "state": "abc",
    }


def test_the_granted_scopes_come_from_the_redirect(fake_strava: FakeStrava) -> None:
    back = consent(fake_strava, oauth_for(fake_strava))
    assert back["state"] == "s1"
    assert StravaOAuth.granted_scopes(back["scope"]) == {"read", READ_ALL}


def test_an_unticked_scope_is_missing_from_the_grant(fake_strava: FakeStrava) -> None:
    fake_strava.withhold_scopes(READ_ALL)
    back = consent(fake_strava, oauth_for(fake_strava))
    assert READ_ALL not in StravaOAuth.granted_scopes(back["scope"])
    assert StravaOAuth.granted_scopes(" read, activity:read ,") == {"read", READ}


def test_the_exchange_names_the_athlete_and_its_token_reads_their_activities(
    fake_strava: FakeStrava,
) -> None:
    oauth = oauth_for(fake_strava)
    back = consent(fake_strava, oauth)
    now = fake_strava.now()
    grant = oauth.exchange(back["code"], now, scopes=oauth.granted_scopes(back["scope"]))
    assert grant.athlete_id == fake_strava.athlete.id
    assert grant.athlete_name == "Rita Runner"
    assert grant.tokens.refresh_token
    assert grant.tokens.expires_at is not None
    assert timedelta(hours=5) < grant.tokens.expires_at - now <= timedelta(hours=6)
    assert READ_ALL in grant.tokens.scopes
    fake_strava.add_activity(start=now - timedelta(days=1))
    client = StravaClient(
        grant.tokens.access_token, oauth.endpoints, new_session(), clock=fake_strava.now
    )
    assert len(list(client.activities(after=now - timedelta(days=7)))) == 1


def test_a_used_or_unknown_code_means_reconnect(fake_strava: FakeStrava) -> None:
    oauth = oauth_for(fake_strava)
    code = consent(fake_strava, oauth)["code"]
    oauth.exchange(code, fake_strava.now())
    with pytest.raises(AuthExpired):
        oauth.exchange(code, fake_strava.now())


def test_a_wrong_client_secret_is_our_problem_not_the_runners(fake_strava: FakeStrava) -> None:
    oauth = oauth_for(fake_strava, secret="wrong")
    code = consent(fake_strava, oauth)["code"]
    with pytest.raises(IntegrationError) as raised:
        oauth.exchange(code, fake_strava.now())
    assert not isinstance(raised.value, AuthExpired)


def test_refresh_returns_the_rotated_refresh_token_and_the_old_one_stops_working(
    fake_strava: FakeStrava,
) -> None:
    issued = fake_strava.issue_token()
    oauth = oauth_for(fake_strava)
    fake_strava.expire_access_tokens()
    tokens = oauth.refresh(issued.refresh_token, fake_strava.now(), scopes=frozenset({READ_ALL}))
    assert tokens.refresh_token
    assert tokens.refresh_token != issued.refresh_token
    assert tokens.access_token != issued.access_token
    assert tokens.scopes == {READ_ALL}
    with pytest.raises(AuthExpired):
        oauth.refresh(issued.refresh_token, fake_strava.now())
    assert tokens.refresh_token is not None
    again = oauth.refresh(tokens.refresh_token, fake_strava.now())
    assert again.refresh_token != tokens.refresh_token


def test_deauthorize_ends_the_grant_and_is_idempotent(fake_strava: FakeStrava) -> None:
    issued = fake_strava.issue_token()
    oauth = oauth_for(fake_strava)
    oauth.deauthorize(issued.access_token)
    assert fake_strava.scopes_of() is None
    oauth.deauthorize(issued.access_token)
    with pytest.raises(AuthExpired):
        oauth.refresh(issued.refresh_token, fake_strava.now())


def test_a_429_at_the_token_endpoint_waits_for_the_next_window(fake_strava: FakeStrava) -> None:
    fake_strava.set_time(datetime(2026, 3, 2, 10, 7, 30, tzinfo=UTC))
    fake_strava.fail(429, path="/oauth/token")
    with pytest.raises(RateLimited) as raised:
        oauth_for(fake_strava).refresh("r", fake_strava.now())
    assert raised.value.retry_after == 450


def test_a_5xx_or_an_unreachable_strava_is_an_upstream_error(fake_strava: FakeStrava) -> None:
    fake_strava.fail(500, path="/oauth/token")
    with pytest.raises(UpstreamError):
        oauth_for(fake_strava).refresh("r", fake_strava.now())
    url = fake_strava.url
    fake_strava.stop()
    gone = StravaOAuth("1", "s", StravaEndpoints.for_root(url), new_session(retries=0))
    with pytest.raises(UpstreamError):
        gone.refresh("r", datetime.now(UTC))
