"""The fake Strava speaks OAuth, API v3, rate limits and webhooks well enough for stravalib."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from stravalib import Client
from stravalib.exc import AccessUnauthorized, Fault, ObjectNotFound
from werkzeug.wrappers import Request, Response

from tests.fakes.server import LoopbackServer
from tests.fakes.strava import FakeStrava, Limits

STRAVA = "https://www.strava.com"
CALLBACK = "http://127.0.0.1:8000/connections/strava/callback"
SUMMER = datetime(2025, 6, 2, 7, 0, tzinfo=UTC)  # a Monday, 09:00 in Berlin


class Rerouted(requests.Session):
    """Sends stravalib's hard-coded www.strava.com calls to the fake, with a timeout."""

    def __init__(self, root: str) -> None:
        super().__init__()
        self.root = root

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs["timeout"] = kwargs.get("timeout") or 10
        return super().request(method, str(url).replace(STRAVA, self.root, 1), *args, **kwargs)


def client(fake: FakeStrava, token: str | None = None) -> Client:
    return Client(token, rate_limit_requests=False, requests_session=Rerouted(fake.url))


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


def authorize(fake: FakeStrava, **overrides: str) -> str:
    """stravalib's authorization URL for the app, moved to the fake."""
    url = client(fake).authorization_url(
        fake.client_id, CALLBACK, scope=["activity:read_all"], state="st4te"
    )
    url = url.replace(STRAVA, fake.url, 1)
    return requests.Request("GET", url, params=overrides).prepare().url or url


def refresh(fake: FakeStrava, refresh_token: str) -> requests.Response:
    form = {"client_id": fake.client_id, "client_secret": fake.client_secret,
            "grant_type": "refresh_token", "refresh_token": refresh_token}  # fmt: skip
    return requests.post(fake.url + "/oauth/token", data=form, timeout=10)


def api_get(fake: FakeStrava, token: str, path: str, **params: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.get(fake.url + "/api/v3" + path, params=params, headers=headers, timeout=10)


@pytest.fixture
def token(fake_strava: FakeStrava) -> str:
    return fake_strava.issue_token().access_token


# -- OAuth --------------------------------------------------------------------------------


def test_the_code_flow_grants_the_ticked_scopes_and_a_token_that_reads_the_athlete(
    fake_strava: FakeStrava,
):
    answer = query(fake_strava.approve(authorize(fake_strava)))
    assert answer["state"] == "st4te"
    assert answer["scope"] == "read,activity:read_all"

    strava = client(fake_strava)
    tokens, athlete = strava.exchange_code_for_token(
        fake_strava.client_id, fake_strava.client_secret, answer["code"], return_athlete=True
    )
    strava.access_token = tokens["access_token"]

    assert athlete is not None
    assert athlete.id == fake_strava.athlete.id
    assert tokens["expires_at"] - int(fake_strava.now().timestamp()) == 6 * 3600
    assert strava.get_athlete().firstname == "Rita"


def test_an_unticked_activity_scope_is_missing_and_activities_are_refused(
    fake_strava: FakeStrava,
):
    fake_strava.withhold_scopes("activity:read_all")
    answer = query(fake_strava.approve(authorize(fake_strava)))
    tokens = client(fake_strava).exchange_code_for_token(
        fake_strava.client_id, fake_strava.client_secret, answer["code"]
    )

    assert answer["scope"] == "read"
    refused = api_get(fake_strava, tokens["access_token"], "/athlete/activities")
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["field"] == "activity:read_permission"


def test_cancel_redirects_with_access_denied_and_the_state(fake_strava: FakeStrava):
    answer = query(fake_strava.approve(authorize(fake_strava), allow=False))

    assert answer == {"state": "st4te", "error": "access_denied"}


@pytest.mark.parametrize(
    ("override", "field"),
    [({"client_id": "1"}, "client_id"), ({"redirect_uri": "https://evil.example/cb"},
     "redirect_uri"), ({"scope": "read activity:read_all"}, "scope")],
)  # fmt: skip
def test_the_consent_page_refuses_a_wrong_client_a_foreign_callback_or_a_bad_scope(
    fake_strava: FakeStrava, override: dict[str, str], field: str
):
    page = requests.get(authorize(fake_strava, **override), timeout=10)

    assert page.status_code == 400
    assert page.json()["errors"][0]["field"] == field


def test_approval_prompt_auto_skips_the_page_once_the_scopes_are_granted(
    fake_strava: FakeStrava,
):
    fake_strava.issue_token(scopes=["activity:read_all"])

    again = requests.get(authorize(fake_strava), timeout=10, allow_redirects=False)
    forced = requests.get(authorize(fake_strava, approval_prompt="force"), timeout=10)

    assert again.status_code == 302
    assert query(again.headers["Location"])["scope"] == "read,activity:read_all"
    assert forced.status_code == 200
    assert 'value="activity:read_all" checked' in forced.text


def test_a_code_works_once(fake_strava: FakeStrava):
    code = query(fake_strava.approve(authorize(fake_strava)))["code"]
    form = {"client_id": fake_strava.client_id, "client_secret": fake_strava.client_secret,
            "grant_type": "authorization_code", "code": code}  # fmt: skip

    first = requests.post(fake_strava.url + "/oauth/token", data=form, timeout=10)
    second = requests.post(fake_strava.url + "/oauth/token", data=form, timeout=10)

    assert first.status_code == 200
    assert second.status_code == 400
    assert second.json()["errors"][0]["resource"] == "AuthorizationCode"


def test_refresh_rotates_the_refresh_token_and_the_old_one_stops_working(
    fake_strava: FakeStrava,
):
    issued = fake_strava.issue_token()
    fake_strava.advance(timedelta(hours=5, minutes=30))

    fresh = refresh(fake_strava, issued.refresh_token)
    stale = refresh(fake_strava, issued.refresh_token)
    newer = refresh(fake_strava, fresh.json()["refresh_token"])

    assert fresh.status_code == 200
    assert fresh.json()["refresh_token"] != issued.refresh_token
    assert fresh.json()["access_token"] != issued.access_token
    assert stale.status_code == 400
    assert stale.json()["errors"][0]["field"] == "refresh_token"
    assert newer.status_code == 200


def test_refresh_hands_back_an_access_token_that_still_has_over_an_hour(
    fake_strava: FakeStrava,
):
    issued = fake_strava.issue_token()

    early = refresh(fake_strava, issued.refresh_token).json()

    assert early["access_token"] == issued.access_token
    assert early["expires_at"] == issued.expires_at


def test_an_access_token_dies_after_six_hours_on_the_fake_clock(
    fake_strava: FakeStrava, token: str
):
    fake_strava.advance(timedelta(hours=5, minutes=59))
    alive = api_get(fake_strava, token, "/athlete")
    fake_strava.advance(timedelta(minutes=1))

    with pytest.raises(AccessUnauthorized):
        client(fake_strava, token).get_athlete()
    assert alive.status_code == 200


def test_deauthorize_ends_the_grant_and_queues_the_deauthorization_event(
    fake_strava: FakeStrava,
):
    issued = fake_strava.issue_token()

    client(fake_strava, issued.access_token).deauthorize()

    assert api_get(fake_strava, issued.access_token, "/athlete").status_code == 401
    assert refresh(fake_strava, issued.refresh_token).status_code == 400
    assert fake_strava.scopes_of() is None
    (event,) = fake_strava.take_events()
    assert event["object_type"] == "athlete"
    assert event["owner_id"] == fake_strava.athlete.id
    assert event["updates"] == {"authorized": "false"}


# -- activities ---------------------------------------------------------------------------


def add_runs(fake: FakeStrava, days: Iterable[int]) -> list[int]:
    return [fake.add_activity(start=SUMMER + timedelta(days=d))["id"] for d in days]


def test_stravalib_pages_through_activities_after_a_date_oldest_first(
    fake_strava: FakeStrava, token: str
):
    ids = add_runs(fake_strava, range(450))
    after = SUMMER + timedelta(days=9, hours=1)

    found = list(client(fake_strava, token).get_activities(after=after))

    assert [a.id for a in found] == ids[10:]
    pages = fake_strava.requests("GET", "/athlete/activities$")
    assert [p.arg("page") for p in pages] == ["1", "2", "3"]
    assert {p.arg("per_page") for p in pages} == {"200"}
    assert pages[0].arg("after") == str(int(after.timestamp()))


def test_before_and_after_bound_the_listing_and_without_after_the_newest_come_first(
    fake_strava: FakeStrava, token: str
):
    ids = add_runs(fake_strava, range(6))
    after, before = SUMMER + timedelta(days=1), SUMMER + timedelta(days=4)

    newest_first = api_get(fake_strava, token, "/athlete/activities").json()
    window = api_get(
        fake_strava, token, "/athlete/activities",
        after=int(after.timestamp()), before=int(before.timestamp()),
    ).json()  # fmt: skip

    assert [a["id"] for a in newest_first] == ids[::-1]
    assert [a["id"] for a in window] == [ids[3], ids[2]]


def test_a_millisecond_timestamp_is_refused(fake_strava: FakeStrava, token: str):
    millis = int(SUMMER.timestamp() * 1000)

    answer = api_get(fake_strava, token, "/athlete/activities", after=millis)

    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "after"


def test_a_page_holds_at_most_200_activities(fake_strava: FakeStrava, token: str):
    add_runs(fake_strava, range(205))

    page = api_get(fake_strava, token, "/athlete/activities", per_page=500).json()

    assert len(page) == 200


def test_private_activities_need_activity_read_all(fake_strava: FakeStrava):
    public = fake_strava.add_activity(start=SUMMER)["id"]
    hidden = fake_strava.add_activity(start=SUMMER + timedelta(days=1), private=True)["id"]
    read_all = fake_strava.issue_token(scopes=["activity:read_all"]).access_token
    listed_all = [a["id"] for a in api_get(fake_strava, read_all, "/athlete/activities").json()]
    read = fake_strava.issue_token(scopes=["activity:read"]).access_token

    listed = [a["id"] for a in api_get(fake_strava, read, "/athlete/activities").json()]

    assert listed_all == [hidden, public]
    assert listed == [public]
    assert api_get(fake_strava, read, f"/activities/{hidden}").status_code == 404


def test_an_activity_reads_as_strava_sends_it_and_stravalib_parses_it(
    fake_strava: FakeStrava, token: str
):
    made = fake_strava.add_activity(
        start=SUMMER, sport_type="TrailRun", distance=12345.6, moving_time=4000, workout_type=1
    )

    raw = api_get(fake_strava, token, f"/activities/{made['id']}").json()
    parsed = client(fake_strava, token).get_activity(made["id"])

    assert raw["start_date"] == "2025-06-02T07:00:00Z"
    assert raw["start_date_local"] == "2025-06-02T09:00:00Z"  # Berlin wall time, misleading Z
    assert raw["timezone"] == "(GMT+01:00) Europe/Berlin"  # standard offset, even in summer
    assert raw["utc_offset"] == 7200.0
    assert (raw["type"], raw["sport_type"], raw["workout_type"]) == ("Run", "TrailRun", 1)
    assert parsed.sport_type is not None
    assert parsed.sport_type.root == "TrailRun"
    assert parsed.distance == pytest.approx(12345.6)
    assert parsed.start_date == SUMMER


def test_a_deleted_or_foreign_activity_is_not_found(fake_strava: FakeStrava, token: str):
    gone = fake_strava.add_activity(start=SUMMER)["id"]
    fake_strava.delete_activity(gone)
    other = fake_strava.add_athlete("Olga", "Other")
    foreign = fake_strava.add_activity(other.id, start=SUMMER)["id"]

    with pytest.raises(ObjectNotFound):
        client(fake_strava, token).get_activity(gone)
    assert api_get(fake_strava, token, f"/activities/{foreign}").status_code == 404


# -- rate limits --------------------------------------------------------------------------


def usage_headers(answer: requests.Response) -> tuple[str, str, str, str]:
    h = answer.headers
    return (h["X-RateLimit-Limit"], h["X-RateLimit-Usage"], h["X-ReadRateLimit-Limit"],
            h["X-ReadRateLimit-Usage"])  # fmt: skip


def test_every_api_answer_carries_both_windows_usage(fake_strava: FakeStrava, token: str):
    fake_strava.set_time(datetime(2025, 6, 2, 10, 14, tzinfo=UTC))

    first = api_get(fake_strava, token, "/athlete")
    missing = api_get(fake_strava, token, "/activities/1")

    assert usage_headers(first) == ("200,2000", "1,1", "100,1000", "1,1")
    assert usage_headers(missing) == ("200,2000", "2,2", "100,1000", "2,2")


def test_the_read_limit_answers_429_until_the_next_quarter_hour(
    fake_strava: FakeStrava, token: str
):
    fake_strava.set_time(datetime(2025, 6, 2, 10, 14, 30, tzinfo=UTC))
    fake_strava.spend(99)

    last = api_get(fake_strava, token, "/athlete")
    over = api_get(fake_strava, token, "/athlete")
    fake_strava.advance(timedelta(seconds=30))  # 10:15:00, a new window
    after = api_get(fake_strava, token, "/athlete")

    assert last.status_code == 200
    assert over.status_code == 429
    assert over.json()["message"] == "Rate Limit Exceeded"
    assert usage_headers(over)[3] == "101,101"
    assert after.status_code == 200
    assert usage_headers(after)[3] == "1,102"


def test_the_daily_limit_holds_until_utc_midnight():
    fake = FakeStrava(limits=Limits(overall=(600, 30), read=(300, 20))).start()
    try:
        access = fake.issue_token().access_token
        fake.set_time(datetime(2025, 6, 2, 23, 20, tzinfo=UTC))
        fake.spend(20)
        evening = api_get(fake, access, "/athlete")
        fake.advance(timedelta(minutes=30))  # next quarter, same day: still over
        still = api_get(fake, access, "/athlete")
        fake.set_time(datetime(2025, 6, 3, 0, 0, tzinfo=UTC))
        morning = api_get(fake, access, "/athlete")
    finally:
        fake.stop()

    assert (evening.status_code, still.status_code, morning.status_code) == (429, 429, 200)
    assert usage_headers(still)[3] == "1,22"
    assert usage_headers(morning)[3] == "1,1"


def test_injected_errors_answer_the_next_calls_then_the_api_works_again(
    fake_strava: FakeStrava, token: str
):
    fake_strava.fail(500, path="/athlete$", times=2)
    fake_strava.fail(429, path="/activities/", retry_after=60)
    strava = client(fake_strava, token)

    with pytest.raises(Fault, match="500"):
        strava.get_athlete()
    with pytest.raises(Fault, match="500"):
        strava.get_athlete()
    limited = api_get(fake_strava, token, "/activities/1")

    assert strava.get_athlete().id == fake_strava.athlete.id
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "60"
    assert "X-ReadRateLimit-Usage" in limited.headers
    assert [r.status for r in fake_strava.requests(path="/athlete$")] == [500, 500, 200]


def test_a_held_call_waits_until_released(fake_strava: FakeStrava, token: str):
    hold = fake_strava.hold(path="/athlete$")
    answers: list[int] = []
    worker = threading.Thread(
        target=lambda: answers.append(api_get(fake_strava, token, "/athlete").status_code)
    )
    worker.start()

    assert hold.wait()
    assert answers == []
    hold.release()
    worker.join(10)
    assert answers == [200]


# -- webhooks -----------------------------------------------------------------------------


class Receiver:
    """A webhook endpoint on loopback: answers Strava's challenge, records the POSTs."""

    def __init__(self, verify_token: str = "s3cret", *, echo: bool = True) -> None:
        self.verify_token = verify_token
        self.echo = echo
        self.received: list[dict[str, Any]] = []
        self.server = LoopbackServer(self)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        if request.method == "POST":
            self.received.append(json.loads(request.get_data()))
            return Response("", 200)(environ, start_response)
        ok = request.args.get("hub.verify_token") == self.verify_token and self.echo
        body = json.dumps({"hub.challenge": request.args.get("hub.challenge")})
        return Response(body, 200 if ok else 403, mimetype="application/json")(
            environ, start_response
        )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    with receiver.server:
        yield receiver


def test_subscribing_answers_the_challenge_and_the_subscription_is_listed(
    fake_strava: FakeStrava, receiver: Receiver
):
    strava = client(fake_strava)
    callback = receiver.server.url + "/webhooks/strava"

    created = strava.create_subscription(
        fake_strava.client_id, fake_strava.client_secret, callback, verify_token="s3cret"
    )
    listed = list(strava.list_subscriptions(fake_strava.client_id, fake_strava.client_secret))

    assert created.id == fake_strava.subscription.id  # type: ignore[union-attr]
    assert [(s.id, s.callback_url) for s in listed] == [(created.id, callback)]


def test_a_callback_that_fails_the_challenge_is_not_subscribed(fake_strava: FakeStrava):
    wrong = Receiver(echo=False)
    with wrong.server, pytest.raises(Fault, match="not verifiable"):
        client(fake_strava).create_subscription(
            fake_strava.client_id, fake_strava.client_secret, wrong.server.url,
            verify_token="s3cret",
        )  # fmt: skip

    assert fake_strava.subscription is None


def test_one_subscription_per_app_until_it_is_deleted(fake_strava: FakeStrava, receiver: Receiver):
    strava = client(fake_strava)
    ids = (fake_strava.client_id, fake_strava.client_secret)
    first = strava.create_subscription(*ids, receiver.server.url, verify_token="s3cret")

    with pytest.raises(Fault, match="already exists"):
        strava.create_subscription(*ids, receiver.server.url, verify_token="s3cret")
    strava.delete_subscription(first.id, *ids)  # type: ignore[arg-type]
    second = strava.create_subscription(*ids, receiver.server.url, verify_token="s3cret")

    assert second.id != first.id


def test_activity_changes_are_delivered_as_webhook_events_in_order(
    fake_strava: FakeStrava, receiver: Receiver
):
    fake_strava.set_time(SUMMER + timedelta(hours=2))
    client(fake_strava).create_subscription(
        fake_strava.client_id, fake_strava.client_secret, receiver.server.url,
        verify_token="s3cret",
    )  # fmt: skip
    run = fake_strava.add_activity(start=SUMMER)["id"]
    fake_strava.update_activity(run, name="Tempo", sport_type="TrailRun", private=True)
    fake_strava.delete_activity(run)

    statuses = fake_strava.deliver_pending()

    assert statuses == [200, 200, 200]
    subscription = fake_strava.subscription
    assert subscription is not None
    assert [(e["aspect_type"], e["object_id"], e["updates"]) for e in receiver.received] == [
        ("create", run, {}),
        ("update", run, {"title": "Tempo", "type": "TrailRun", "private": "true"}),
        ("delete", run, {}),
    ]
    assert {e["subscription_id"] for e in receiver.received} == {subscription.id}
    assert {e["owner_id"] for e in receiver.received} == {fake_strava.athlete.id}
    assert {e["event_time"] for e in receiver.received} == {int(fake_strava.now().timestamp())}
    assert fake_strava.take_events() == []
