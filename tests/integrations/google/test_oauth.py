"""The Google OAuth client against the fake Google: consent URL, PKCE, exchange, refresh, revoke."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from integrations.errors import AuthExpired, IntegrationError, RateLimited, UpstreamError
from integrations.google.oauth import (
    CALENDAR_SCOPE,
    GoogleOAuth,
    OAuthEndpoints,
    identity_from_id_token,
    new_pkce,
)
from integrations.http import new_session
from tests.fakes.google import FakeGoogle

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
REDIRECT = "http://127.0.0.1:5000/connect/google/callback"


@pytest.fixture
def fake() -> Iterator[FakeGoogle]:
    """The fake Google on a loopback port, for one test."""
    google = FakeGoogle().start()
    yield google
    google.stop()


def client(fake: FakeGoogle, *, secret: str | None = None) -> GoogleOAuth:
    return GoogleOAuth(
        fake.client_id,
        fake.client_secret if secret is None else secret,
        OAuthEndpoints.for_root(fake.url),
        new_session(retries=0),
    )


def query_of(url: str) -> dict[str, str]:
    return {name: values[-1] for name, values in parse_qs(urlsplit(url).query).items()}


def consent(fake: FakeGoogle, oauth: GoogleOAuth, challenge: str) -> str:
    """Go through the fake consent page; the code from the redirect."""
    url = oauth.authorization_url(redirect_uri=REDIRECT, state="s1", code_challenge=challenge)
    back = query_of(fake.approve(url))
    assert back["state"] == "s1"
    return back["code"]


def test_an_empty_root_means_googles_own_endpoints() -> None:
    assert OAuthEndpoints.for_root("") == OAuthEndpoints(
        "https://accounts.google.com/o/oauth2/v2/auth",
        "https://oauth2.googleapis.com/token",
        "https://oauth2.googleapis.com/revoke",
    )


def test_any_other_root_hosts_all_three_endpoints() -> None:
    assert OAuthEndpoints.for_root("http://127.0.0.1:9/") == OAuthEndpoints(
        "http://127.0.0.1:9/o/oauth2/v2/auth",
        "http://127.0.0.1:9/token",
        "http://127.0.0.1:9/revoke",
    )


def test_the_pkce_challenge_is_the_unpadded_base64url_sha256_of_the_verifier() -> None:
    pkce = new_pkce()
    digest = hashlib.sha256(pkce.verifier.encode()).digest()
    assert pkce.challenge == base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert 43 <= len(pkce.verifier) <= 128
    assert new_pkce().verifier != pkce.verifier


def test_the_authorization_url_asks_for_offline_access_with_forced_consent_and_s256() -> None:
    oauth = GoogleOAuth("cid", "secret", OAuthEndpoints.for_root(""), new_session())
    pkce = new_pkce()
    url = oauth.authorization_url(redirect_uri=REDIRECT, state="xyz", code_challenge=pkce.challenge)
    assert url.startswith("https://accounts.google.com/o/oauth2/v2/auth?")
    assert query_of(url) == {
        "client_id": "cid",
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": CALENDAR_SCOPE,
        "state": "xyz",
        "access_type": "offline",
        "prompt": "consent",
        "include_granted_scopes": "true",
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
    }


def test_extra_scopes_are_space_separated() -> None:
    oauth = GoogleOAuth("cid", "secret", OAuthEndpoints.for_root(""), new_session())
    url = oauth.authorization_url(
        redirect_uri=REDIRECT, state="s", code_challenge="c", scopes=("openid", "email")
    )
    assert query_of(url)["scope"] == "openid email"


def test_the_code_is_exchanged_for_a_grant_with_scopes_expiry_and_a_refresh_token(
    fake: FakeGoogle,
) -> None:
    oauth, pkce = client(fake), new_pkce()
    code = consent(fake, oauth, pkce.challenge)
    grant = oauth.exchange(code=code, redirect_uri=REDIRECT, code_verifier=pkce.verifier, now=NOW)
    assert grant.access_token
    assert grant.refresh_token
    assert grant.scopes == frozenset({CALENDAR_SCOPE})
    assert grant.expires_at == NOW + timedelta(seconds=fake.oauth.access_token_lifetime)
    assert grant.token_type == "Bearer"


def test_fewer_granted_scopes_show_in_the_grant(fake: FakeGoogle) -> None:
    fake.withhold_scopes(CALENDAR_SCOPE)
    oauth, pkce = client(fake), new_pkce()
    url = oauth.authorization_url(
        redirect_uri=REDIRECT, state="s", code_challenge=pkce.challenge,
        scopes=("openid", CALENDAR_SCOPE),
    )  # fmt: skip
    code = query_of(fake.approve(url))["code"]
    grant = oauth.exchange(code=code, redirect_uri=REDIRECT, code_verifier=pkce.verifier, now=NOW)
    assert grant.scopes == frozenset({"openid"})


def test_a_wrong_pkce_verifier_is_an_expired_grant(fake: FakeGoogle) -> None:
    oauth = client(fake)
    code = consent(fake, oauth, new_pkce().challenge)
    with pytest.raises(AuthExpired):
        oauth.exchange(code=code, redirect_uri=REDIRECT, code_verifier=new_pkce().verifier, now=NOW)


def test_a_code_works_only_once(fake: FakeGoogle) -> None:
    oauth, pkce = client(fake), new_pkce()
    code = consent(fake, oauth, pkce.challenge)
    oauth.exchange(code=code, redirect_uri=REDIRECT, code_verifier=pkce.verifier, now=NOW)
    with pytest.raises(AuthExpired):
        oauth.exchange(code=code, redirect_uri=REDIRECT, code_verifier=pkce.verifier, now=NOW)


def test_a_wrong_client_secret_is_refused_but_not_taken_for_an_expired_grant(
    fake: FakeGoogle,
) -> None:
    oauth, pkce = client(fake), new_pkce()
    code = consent(fake, oauth, pkce.challenge)
    with pytest.raises(IntegrationError, match="invalid_client") as refused:
        client(fake, secret="wrong").exchange(
            code=code, redirect_uri=REDIRECT, code_verifier=pkce.verifier, now=NOW
        )
    assert not isinstance(refused.value, AuthExpired)


def test_refreshing_gives_a_new_working_access_token_and_keeps_the_refresh_token(
    fake: FakeGoogle,
) -> None:
    issued = fake.issue_token()
    assert issued.refresh_token is not None
    later = NOW + timedelta(hours=2)
    grant = client(fake).refresh(issued.refresh_token, later)
    assert grant.access_token != issued.access_token
    assert grant.refresh_token == issued.refresh_token
    assert grant.scopes == frozenset({CALENDAR_SCOPE})
    assert grant.expires_at is not None
    assert grant.expires_at > later
    assert fake.oauth.scopes_for(f"Bearer {grant.access_token}") == grant.scopes


def test_refreshing_an_expired_or_revoked_grant_is_auth_expired(fake: FakeGoogle) -> None:
    first, second = fake.issue_token(), fake.issue_token()
    assert first.refresh_token
    assert second.refresh_token
    fake.expire_refresh_tokens()
    with pytest.raises(AuthExpired, match="expired or revoked"):
        client(fake).refresh(first.refresh_token, NOW)
    fake.revoke_grants()
    with pytest.raises(AuthExpired):
        client(fake).refresh(second.refresh_token, NOW)


def test_revoking_ends_the_grant_and_revoking_again_is_fine(fake: FakeGoogle) -> None:
    issued = fake.issue_token()
    assert issued.refresh_token is not None
    oauth = client(fake)
    oauth.revoke(issued.refresh_token)
    with pytest.raises(AuthExpired):
        oauth.refresh(issued.refresh_token, NOW)
    oauth.revoke(issued.refresh_token)
    assert fake.count("POST", "^/revoke$") == 2


def test_a_429_from_the_token_endpoint_is_rate_limited_with_its_retry_after(
    fake: FakeGoogle,
) -> None:
    issued = fake.issue_token()
    assert issued.refresh_token is not None
    fake.fail(429, path="^/token$", retry_after=120)
    with pytest.raises(RateLimited) as limited:
        client(fake).refresh(issued.refresh_token, NOW)
    assert limited.value.retry_after == 120
    assert fake.count("POST", "^/token$") == 1


def test_a_5xx_from_the_token_endpoint_is_an_upstream_error(fake: FakeGoogle) -> None:
    issued = fake.issue_token()
    assert issued.refresh_token is not None
    fake.fail(503, path="^/token$")
    with pytest.raises(UpstreamError):
        client(fake).refresh(issued.refresh_token, NOW)


def test_an_unreachable_token_endpoint_is_an_upstream_error() -> None:
    oauth = GoogleOAuth(
        "cid", "secret", OAuthEndpoints.for_root("http://127.0.0.1:9"), new_session(retries=0)
    )
    with pytest.raises(UpstreamError, match="unreachable"):
        oauth.refresh("1//token", NOW)


def test_a_token_answer_that_is_not_json_is_an_upstream_error() -> None:
    class Garbage(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html>hello from a captive portal</html>")

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    server = HTTPServer(("127.0.0.1", 0), Garbage)
    threading.Thread(target=server.handle_request, daemon=True).start()
    root = f"http://127.0.0.1:{server.server_address[1]}"
    oauth = GoogleOAuth("cid", "secret", OAuthEndpoints.for_root(root), new_session(retries=0))
    try:
        with pytest.raises(UpstreamError, match="no JSON"):
            oauth.refresh("1//token", NOW)
    finally:
        server.server_close()


def _id_token(**claims: object) -> str:
    def part(data: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part(claims)}."


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"aud": "someone-else"}, "audience"),
        ({"iss": "https://evil.example"}, "issuer"),
        ({"exp": 1}, "expiry"),
        ({"email_verified": False}, "verified email"),
    ],
)
def test_an_id_token_that_fails_a_check_is_refused_naming_it(
    change: dict[str, object], named: str
) -> None:
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    good = {
        "iss": "https://accounts.google.com",
        "aud": "client-1",
        "exp": now.timestamp() + 600,
        "email": "a@example.com",
        "email_verified": True,
        "sub": "42",
    }
    assert identity_from_id_token(_id_token(**good), "client-1", now).email == "a@example.com"
    with pytest.raises(IntegrationError, match=named):
        identity_from_id_token(_id_token(**(good | change)), "client-1", now)
