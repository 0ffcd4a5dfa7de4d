"""The fake Google speaks OAuth and Calendar API v3 well enough for the real clients."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from zoneinfo import ZoneInfo

import httplib2
import pytest
import requests
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from google_auth_oauthlib.flow import Flow
from googleapiclient.discovery import Resource, build, build_from_document
from googleapiclient.errors import HttpError
from googleapiclient.http import _should_retry_response

from tests.fakes.google import CALENDAR_SCOPE, FakeGoogle

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = datetime(2025, 6, 2, 7, 0, tzinfo=BERLIN)
CALLBACK = "http://127.0.0.1:8000/connections/google/callback"
VERIFIER = "v" * 20 + "-verifier-of-forty-three-chars"


def api(fake: FakeGoogle, credentials: Credentials) -> Resource:
    """The real client, built from the bundled document with its roots moved to the fake."""
    http = AuthorizedHttp(credentials, http=httplib2.Http(timeout=10))
    return build_from_document(fake.discovery_document(), http=http)


def session_event(event_id: str, start: datetime, **extra: Any) -> dict[str, Any]:
    end = start + timedelta(minutes=45)
    return {
        "id": event_id,
        "summary": "Strength: upper body",
        "start": {"dateTime": start.replace(tzinfo=None).isoformat(), "timeZone": "Europe/Berlin"},
        "end": {"dateTime": end.replace(tzinfo=None).isoformat(), "timeZone": "Europe/Berlin"},
        "extendedProperties": {"private": {"runstrength_uid": event_id, "runstrength_hash": "h1"}},
        "reminders": {"useDefault": False, "overrides": [{"method": "popup", "minutes": 30}]},
        **extra,
    }


def authorization_url(fake: FakeGoogle, **extra: str) -> str:
    digest = hashlib.sha256(VERIFIER.encode()).digest()
    params = {
        "client_id": fake.client_id, "redirect_uri": CALLBACK, "response_type": "code",
        "scope": CALENDAR_SCOPE, "state": "st4te", "access_type": "offline", "prompt": "consent",
        "code_challenge": base64.urlsafe_b64encode(digest).rstrip(b"=").decode(),
        "code_challenge_method": "S256", "include_granted_scopes": "true",
    } | extra  # fmt: skip
    return f"{fake.url}/o/oauth2/v2/auth?{urlencode(params)}"


def redirect_query(location: str) -> dict[str, str]:
    assert location.startswith(CALLBACK + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def exchange(fake: FakeGoogle, code: str, verifier: str = VERIFIER) -> requests.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
            "client_id": fake.client_id, "client_secret": fake.client_secret,
            "code_verifier": verifier}  # fmt: skip
    return requests.post(fake.url + "/token", data=form, timeout=10)


def refresh(fake: FakeGoogle, refresh_token: str) -> requests.Response:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token,
            "client_id": fake.client_id, "client_secret": fake.client_secret}  # fmt: skip
    return requests.post(fake.url + "/token", data=form, timeout=10)


@pytest.fixture
def calendar(fake_google: FakeGoogle) -> Resource:
    return api(fake_google, Credentials(fake_google.issue_token().access_token))


@pytest.fixture
def calendar_id(calendar: Resource) -> str:
    created = calendar.calendars().insert(
        body={"summary": "runstrength", "timeZone": "Europe/Berlin"}
    )
    return str(created.execute()["id"])


# -- OAuth --------------------------------------------------------------------------------


def test_the_code_flow_with_pkce_gives_tokens_the_calendar_api_accepts(fake_google: FakeGoogle):
    answer = redirect_query(fake_google.approve(authorization_url(fake_google)))
    assert answer["state"] == "st4te"
    assert answer["scope"] == CALENDAR_SCOPE

    tokens = exchange(fake_google, answer["code"]).json()

    assert tokens["refresh_token"]
    assert tokens["expires_in"] == 3599
    assert tokens["scope"] == CALENDAR_SCOPE
    calendar = api(fake_google, Credentials(tokens["access_token"]))
    assert calendar.calendars().insert(body={"summary": "runstrength"}).execute()["id"]


def test_a_wrong_or_missing_verifier_and_a_reused_code_are_refused(fake_google: FakeGoogle):
    code = redirect_query(fake_google.approve(authorization_url(fake_google)))["code"]

    wrong = exchange(fake_google, code, verifier="x" * 43)
    missing = exchange(fake_google, code, verifier="")
    right = exchange(fake_google, code)
    reused = exchange(fake_google, code)

    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    assert missing.json() == {
        "error": "invalid_grant",
        "error_description": "Missing code verifier.",
    }
    assert right.status_code == 200
    assert (reused.status_code, reused.json()["error"]) == (400, "invalid_grant")


def test_google_auth_oauthlib_completes_the_flow_against_the_fake(
    fake_google: FakeGoogle, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the fake speaks plain HTTP
    client = {"client_id": fake_google.client_id, "client_secret": fake_google.client_secret}
    endpoints = {
        "auth_uri": fake_google.url + "/o/oauth2/v2/auth",
        "token_uri": fake_google.url + "/token",
    }
    config = {"web": client | endpoints}
    flow = Flow.from_client_config(config, scopes=[CALENDAR_SCOPE], redirect_uri=CALLBACK)
    url, state = flow.authorization_url(access_type="offline", prompt="consent")

    location = fake_google.approve(url)
    flow.fetch_token(code=redirect_query(location)["code"])

    assert redirect_query(location)["state"] == state
    assert flow.credentials.refresh_token
    assert flow.credentials.granted_scopes == [CALENDAR_SCOPE]


def test_deny_redirects_with_access_denied_and_the_state(fake_google: FakeGoogle):
    answer = redirect_query(fake_google.approve(authorization_url(fake_google), allow=False))

    assert answer == {"error": "access_denied", "state": "st4te"}


def test_the_consent_page_checks_the_client_and_the_redirect_uri(fake_google: FakeGoogle):
    fake_google.oauth.redirect_uris = {CALLBACK}

    stranger = requests.get(authorization_url(fake_google, client_id="other"), timeout=10)
    elsewhere = requests.get(
        authorization_url(fake_google, redirect_uri="http://127.0.0.1:1/x"), timeout=10
    )

    assert stranger.status_code == 401
    assert "invalid_client" in stranger.text
    assert elsewhere.status_code == 400
    assert "redirect_uri_mismatch" in elsewhere.text


def test_a_scope_the_runner_unticks_is_not_granted(fake_google: FakeGoogle):
    fake_google.withhold_scopes(CALENDAR_SCOPE)
    url = authorization_url(fake_google, scope=f"openid email {CALENDAR_SCOPE}")

    answer = redirect_query(fake_google.approve(url))
    tokens = exchange(fake_google, answer["code"]).json()

    assert tokens["scope"] == "email openid"
    assert "id_token" in tokens
    calendar = api(fake_google, Credentials(tokens["access_token"]))
    with pytest.raises(HttpError) as refused:
        calendar.calendars().insert(body={"summary": "runstrength"}).execute()
    assert refused.value.status_code == 403


def test_refresh_gives_a_new_access_token_until_the_grant_expires(fake_google: FakeGoogle):
    issued = fake_google.issue_token()
    assert issued.refresh_token is not None

    fresh = refresh(fake_google, issued.refresh_token)
    fake_google.expire_refresh_tokens()
    dead = refresh(fake_google, issued.refresh_token)

    assert fresh.status_code == 200
    assert fresh.json()["access_token"] != issued.access_token
    assert "refresh_token" not in fresh.json()
    assert dead.json() == {
        "error": "invalid_grant",
        "error_description": "Token has been expired or revoked.",
    }


def test_the_client_refreshes_an_expired_access_token_by_itself(fake_google: FakeGoogle):
    issued = fake_google.issue_token()
    credentials = Credentials(
        issued.access_token, refresh_token=issued.refresh_token,
        token_uri=fake_google.url + "/token",
        client_id=fake_google.client_id, client_secret=fake_google.client_secret,
    )  # fmt: skip
    calendar = api(fake_google, credentials)
    fake_google.advance(timedelta(hours=2))

    created = calendar.calendars().insert(body={"summary": "runstrength"}).execute()

    assert created["id"] in fake_google.calendars
    assert fake_google.count("POST", "/token$") == 1
    assert credentials.token != issued.access_token


def test_revoking_ends_the_access_and_the_refresh_token(fake_google: FakeGoogle):
    issued = fake_google.issue_token()
    assert issued.refresh_token is not None

    revoked = requests.post(
        fake_google.url + "/revoke", data={"token": issued.refresh_token}, timeout=10
    )
    again = requests.post(
        fake_google.url + "/revoke", data={"token": issued.refresh_token}, timeout=10
    )

    assert revoked.status_code == 200
    assert again.status_code == 400
    assert refresh(fake_google, issued.refresh_token).json()["error"] == "invalid_grant"
    headers = {"Authorization": f"Bearer {issued.access_token}"}
    answer = requests.get(fake_google.url + "/calendar/v3/calendars/x", headers=headers, timeout=10)
    assert answer.status_code == 401


def test_calls_without_a_valid_token_get_googles_401(fake_google: FakeGoogle):
    answer = requests.get(fake_google.url + "/calendar/v3/calendars/x", timeout=10)

    error = answer.json()["error"]
    assert answer.status_code == 401
    assert error["errors"][0]["reason"] == "authError"
    assert error["status"] == "UNAUTHENTICATED"


# -- Calendars and events -----------------------------------------------------------------


def test_the_client_built_with_an_api_endpoint_reaches_the_fake(fake_google: FakeGoogle):
    calendar = build(
        "calendar", "v3", static_discovery=True,
        credentials=Credentials(fake_google.issue_token().access_token),
        client_options={"api_endpoint": fake_google.url + "/calendar/v3/"},
    )  # fmt: skip

    created = calendar.calendars().insert(body={"summary": "runstrength"}).execute()

    assert created["kind"] == "calendar#calendar"
    assert fake_google.count("POST", "^/calendar/v3/calendars$") == 1


def test_a_calendar_is_created_read_and_deleted(
    fake_google: FakeGoogle, calendar: Resource, calendar_id: str
):
    fetched = calendar.calendars().get(calendarId=calendar_id).execute()
    calendar.calendars().delete(calendarId=calendar_id).execute()

    assert (fetched["summary"], fetched["timeZone"]) == ("runstrength", "Europe/Berlin")
    assert calendar_id.endswith("@group.calendar.google.com")
    assert fake_google.calendars == {}
    with pytest.raises(HttpError) as gone:
        calendar.calendars().get(calendarId=calendar_id).execute()
    assert gone.value.status_code == 404


def test_an_event_is_inserted_patched_and_deleted_as_google_does(
    fake_google: FakeGoogle, calendar: Resource, calendar_id: str
):
    events = calendar.events()
    inserted = events.insert(
        calendarId=calendar_id, body=session_event("abc12345", MONDAY)
    ).execute()
    moved = session_event("abc12345", MONDAY + timedelta(hours=2))
    changes = {"start": {"dateTime": moved["start"]["dateTime"]}, "end": moved["end"],
               "extendedProperties": {"private": {"runstrength_hash": "h2"}}}  # fmt: skip
    patched = events.patch(calendarId=calendar_id, eventId="abc12345", body=changes).execute()
    events.delete(calendarId=calendar_id, eventId="abc12345").execute()

    assert inserted["start"] == {
        "dateTime": "2025-06-02T07:00:00+02:00",
        "timeZone": "Europe/Berlin",
    }
    assert patched["start"]["dateTime"] == "2025-06-02T09:00:00+02:00"
    assert patched["sequence"] == 1
    assert patched["extendedProperties"]["private"] == {
        "runstrength_uid": "abc12345",
        "runstrength_hash": "h2",
    }
    assert events.get(calendarId=calendar_id, eventId="abc12345").execute()["status"] == "cancelled"
    assert fake_google.events(calendar_id) == []
    for call, status in [
        (events.insert(calendarId=calendar_id, body=session_event("abc12345", MONDAY)), 409),
        (events.delete(calendarId=calendar_id, eventId="abc12345"), 410),
        (events.get(calendarId=calendar_id, eventId="zzzzzz"), 404),
        (events.insert(calendarId=calendar_id, body=session_event("ABC-1", MONDAY)), 400),
    ]:
        with pytest.raises(HttpError) as refused:
            call.execute()
        assert refused.value.status_code == status


def test_a_deleted_event_comes_back_when_patched_to_confirmed(calendar: Resource, calendar_id: str):
    events = calendar.events()
    events.insert(calendarId=calendar_id, body=session_event("abc12345", MONDAY)).execute()
    events.delete(calendarId=calendar_id, eventId="abc12345").execute()

    events.patch(calendarId=calendar_id, eventId="abc12345", body={"status": "confirmed"}).execute()

    listed = events.list(calendarId=calendar_id).execute()["items"]
    assert [e["id"] for e in listed] == ["abc12345"]


def test_listing_shows_deleted_events_only_when_asked(calendar: Resource, calendar_id: str):
    events = calendar.events()
    for event_id in ("aaaaa1", "bbbbb2"):
        events.insert(calendarId=calendar_id, body=session_event(event_id, MONDAY)).execute()
    events.delete(calendarId=calendar_id, eventId="aaaaa1").execute()

    shown = events.list(calendarId=calendar_id).execute()["items"]
    everything = events.list(calendarId=calendar_id, showDeleted=True).execute()["items"]

    assert [e["id"] for e in shown] == ["bbbbb2"]
    assert {e["id"]: e["status"] for e in everything} == {
        "aaaaa1": "cancelled",
        "bbbbb2": "confirmed",
    }


def test_pages_end_with_a_sync_token_and_sync_sees_only_changes_incl_the_runners(
    fake_google: FakeGoogle, calendar: Resource, calendar_id: str
):
    events = calendar.events()
    for day in range(5):
        body = session_event(f"d{day}abcdef", MONDAY + timedelta(days=day))
        events.insert(calendarId=calendar_id, body=body).execute()
    pages, token = [], None
    request = events.list(calendarId=calendar_id, showDeleted=True, maxResults=2)
    while request is not None:
        page = request.execute()
        pages.append([e["id"] for e in page["items"]])
        token = page.get("nextSyncToken", token)
        assert ("nextSyncToken" in page) != ("nextPageToken" in page)
        request = events.list_next(request, page)
    fake_google.move_event(calendar_id, "d1abcdef", MONDAY + timedelta(days=1, hours=10))
    fake_google.delete_event(calendar_id, "d3abcdef")

    changed = events.list(calendarId=calendar_id, syncToken=token).execute()
    quiet = events.list(calendarId=calendar_id, syncToken=changed["nextSyncToken"]).execute()

    assert [len(p) for p in pages] == [2, 2, 1]
    moved, deleted = changed["items"]
    assert moved["id"] == "d1abcdef"
    assert moved["start"] == {"dateTime": "2025-06-03T17:00:00+02:00", "timeZone": "Europe/Berlin"}
    assert moved["end"]["dateTime"] == "2025-06-03T17:45:00+02:00"
    assert (deleted["id"], deleted["status"]) == ("d3abcdef", "cancelled")
    assert quiet["items"] == []


def test_an_unknown_or_expired_sync_token_answers_410_full_sync_required(
    fake_google: FakeGoogle, calendar: Resource, calendar_id: str
):
    token = calendar.events().list(calendarId=calendar_id).execute()["nextSyncToken"]
    fake_google.expire_sync_tokens()

    for sync_token in ("made-up", token):
        with pytest.raises(HttpError) as gone:
            calendar.events().list(calendarId=calendar_id, syncToken=sync_token).execute()
        assert gone.value.status_code == 410
        assert gone.value.error_details[0]["reason"] == "fullSyncRequired"


# -- Batches ------------------------------------------------------------------------------


def test_a_batch_answers_each_call_and_counts_as_one_request(
    fake_google: FakeGoogle, calendar: Resource, calendar_id: str
):
    events = calendar.events()
    events.insert(calendarId=calendar_id, body=session_event("taken1", MONDAY)).execute()
    fake_google.clear_log()
    answers: dict[str, Any] = {}
    batch = calendar.new_batch_http_request(
        callback=lambda rid, resp, exc: answers.update({rid: exc or resp})
    )
    batch.add(
        events.insert(calendarId=calendar_id, body=session_event("fresh1", MONDAY)), request_id="a"
    )
    batch.add(
        events.insert(calendarId=calendar_id, body=session_event("taken1", MONDAY)), request_id="b"
    )
    batch.add(events.delete(calendarId=calendar_id, eventId="taken1"), request_id="c")

    batch.execute()

    assert answers["a"]["id"] == "fresh1"
    assert isinstance(answers["b"], HttpError)
    assert answers["b"].status_code == 409
    assert answers["c"] == ""  # 204: an empty body
    assert [e["id"] for e in fake_google.events(calendar_id)] == ["fresh1"]
    assert fake_google.count() == 1
    assert fake_google.count("POST", "/batch/calendar/v3") == 1
    assert fake_google.count(inner=True) == 3
    assert fake_google.count("POST", "/events$", inner=True) == 2


def test_a_batch_of_more_than_fifty_calls_is_refused_whole(
    fake_google: FakeGoogle, calendar_id: str
):
    token = fake_google.issue_token().access_token
    body = "".join(
        f"--b0\r\nContent-Type: application/http\r\nContent-ID: <p{i}>\r\n\r\n"
        f"POST /calendar/v3/calendars/{calendar_id}/events HTTP/1.1\r\n"
        f"Content-Type: application/json\r\n\r\n"
        + json.dumps(session_event(f"part{i:03d}", MONDAY))
        + "\r\n"
        for i in range(51)
    )
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "multipart/mixed; boundary=b0"}
    url = fake_google.url + "/batch/calendar/v3"

    refused = requests.post(url, data=body + "--b0--\r\n", headers=headers, timeout=10)
    fifty = body.split("--b0\r\n", 51)
    accepted = requests.post(
        url, data="--b0\r\n".join(fifty[:51]) + "--b0--\r\n", headers=headers, timeout=10
    )

    assert refused.status_code == 400
    assert len(fake_google.events(calendar_id)) == 50
    assert accepted.status_code == 200
    assert accepted.text.count("HTTP/1.1 200 OK") == 50
    assert "Content-ID: <response-p0>" in accepted.text


# -- Faults, holds and concurrency --------------------------------------------------------


def test_injected_errors_hit_the_next_matching_calls_and_are_logged(
    fake_google: FakeGoogle, calendar: Resource, calendar_id: str
):
    fake_google.fail(429, method="POST", path="/events$", retry_after=7, times=2)
    insert = calendar.events().insert(calendarId=calendar_id, body=session_event("abcde1", MONDAY))

    with pytest.raises(HttpError) as first:
        insert.execute()
    with pytest.raises(HttpError) as second:
        insert.execute()
    inserted = insert.execute()

    assert (first.value.status_code, first.value.resp["retry-after"]) == (429, "7")
    assert second.value.status_code == 429
    assert inserted["status"] == "confirmed"
    assert [r.status for r in fake_google.requests("POST", "/events$")] == [429, 429, 200]


def test_a_rate_limit_403_is_one_the_client_retries_by_itself(
    fake_google: FakeGoogle, calendar: Resource, calendar_id: str
):
    fake_google.fail(403, reason="rateLimitExceeded", path="/events$")
    insert = calendar.events().insert(calendarId=calendar_id, body=session_event("abcde1", MONDAY))
    insert._sleep = lambda seconds: None  # the library's own backoff, not ours

    assert insert.execute(num_retries=1)["id"] == "abcde1"
    assert fake_google.count("POST", "/events$") == 2
    error = fake_google.fail(403, reason="insufficientPermissions").error.reply().body
    assert _should_retry_response(403, fake_google.fail(403).error.reply().body)
    assert not _should_retry_response(403, error)


def test_an_applied_fault_does_the_call_but_loses_the_reply(
    fake_google: FakeGoogle, calendar: Resource, calendar_id: str
):
    fake_google.fail(500, method="POST", path="/events$", applied=True)
    insert = calendar.events().insert(calendarId=calendar_id, body=session_event("abcde1", MONDAY))

    with pytest.raises(HttpError) as lost:
        insert.execute()
    with pytest.raises(HttpError) as again:
        insert.execute()

    assert lost.value.status_code == 500
    assert again.value.status_code == 409
    assert [e["id"] for e in fake_google.events(calendar_id)] == ["abcde1"]


def test_a_held_batch_part_stops_the_batch_half_done_until_released(
    fake_google: FakeGoogle, calendar: Resource, calendar_id: str
):
    hold = fake_google.hold(method="POST", path="/events$", inner=True, skip=1)
    batch = calendar.new_batch_http_request()
    for event_id in ("first1", "second", "third3"):
        batch.add(
            calendar.events().insert(calendarId=calendar_id, body=session_event(event_id, MONDAY))
        )
    worker = threading.Thread(target=batch.execute)
    worker.start()

    assert hold.wait()
    half = [e["id"] for e in fake_google.events(calendar_id)]
    hold.release()
    worker.join(timeout=10)

    assert half == ["first1"]
    assert [e["id"] for e in fake_google.events(calendar_id)] == ["first1", "second", "third3"]


def test_concurrent_clients_all_land(fake_google: FakeGoogle, calendar_id: str):
    token = fake_google.issue_token().access_token
    url = f"{fake_google.url}/calendar/v3/calendars/{calendar_id}/events"

    def insert(worker: int) -> None:
        with requests.Session() as http:
            for n in range(5):
                body = session_event(f"k{worker}n{n}abc", MONDAY)
                http.post(url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10)

    threads = [threading.Thread(target=insert, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(fake_google.events(calendar_id)) == 40
    assert fake_google.count("POST", "/events$") == 40


def test_a_full_listing_filters_by_time_and_private_property_but_a_sync_cannot(
    calendar: Resource, calendar_id: str
):
    events = calendar.events()
    for day in range(3):
        body = session_event(f"d{day}abcdef", MONDAY + timedelta(days=day))
        events.insert(calendarId=calendar_id, body=body).execute()
    tuesday = (MONDAY + timedelta(days=1)).isoformat()

    later = events.list(calendarId=calendar_id, timeMin=tuesday).execute()
    tagged = events.list(
        calendarId=calendar_id, privateExtendedProperty="runstrength_uid=d2abcdef"
    ).execute()

    assert [e["id"] for e in later["items"]] == ["d1abcdef", "d2abcdef"]
    assert [e["id"] for e in tagged["items"]] == ["d2abcdef"]
    with pytest.raises(HttpError) as refused:
        events.list(
            calendarId=calendar_id, syncToken=later["nextSyncToken"], timeMin=tuesday
        ).execute()
    assert refused.value.status_code == 400


def test_deleted_events_can_be_listed_with_only_their_id_as_google_may(
    fake_google: FakeGoogle, calendar: Resource, calendar_id: str
):
    fake_google.calendar.cancelled_details = False
    calendar.events().insert(calendarId=calendar_id, body=session_event("abcde1", MONDAY)).execute()
    fake_google.delete_event(calendar_id, "abcde1")

    listed = calendar.events().list(calendarId=calendar_id, showDeleted=True).execute()["items"]

    assert [sorted(e) for e in listed] == [["etag", "id", "kind", "status"]]
