"""The fake intervals.icu answers activities, calendar events and bulk writes as the API does."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import pytest
import requests

from tests.fakes.intervals import STRAVA_NOTE, FakeIntervals

MONDAY = date(2025, 6, 2)


def api(
    fake: FakeIntervals, method: str, path: str, *, key: str | None = None, athlete: str = "0",
    **kwargs: Any,
) -> requests.Response:  # fmt: skip
    url = f"{fake.url}/api/v1/athlete/{athlete}{path}"
    auth = ("API_KEY", key if key is not None else fake.api_key)
    return requests.request(method, url, auth=auth, timeout=10, **kwargs)


def session(uid: str, day: date, **extra: Any) -> dict[str, Any]:
    return {"category": "WORKOUT", "type": "WeightTraining", "name": "Strength: lower body",
            "start_date_local": f"{day.isoformat()}T18:00:00", "moving_time": 2700,
            "external_id": uid, **extra}  # fmt: skip


def test_a_wrong_key_or_another_athletes_id_is_refused(fake_intervals: FakeIntervals):
    other = fake_intervals.add_athlete()

    wrong_key = api(fake_intervals, "GET", "", key="nope")
    foreign = api(fake_intervals, "GET", "/activities", athlete=other.id,
                  params={"oldest": "2025-01-01"})  # fmt: skip
    own = api(fake_intervals, "GET", "", athlete=fake_intervals.athlete.id)

    assert wrong_key.status_code == 401
    assert foreign.status_code == 403
    assert own.json()["id"] == fake_intervals.athlete.id


def test_activities_in_a_date_range_come_newest_first_with_strava_stubs_among_them(
    fake_intervals: FakeIntervals,
):
    before = fake_intervals.add_activity(datetime(2025, 5, 31, 8, 0))
    run = fake_intervals.add_activity(datetime(2025, 6, 2, 7, 30), distance=8000.0)
    stub = fake_intervals.add_strava_stub(datetime(2025, 6, 3, 19, 0))
    last_day = fake_intervals.add_activity(datetime(2025, 6, 4, 23, 30), type="Ride")

    found = api(fake_intervals, "GET", "/activities",
                params={"oldest": "2025-06-01", "newest": "2025-06-04"}).json()  # fmt: skip

    assert [a["id"] for a in found] == [last_day["id"], stub["id"], run["id"]]
    assert before["id"] not in {a["id"] for a in found}
    assert found[1] == {"id": stub["id"], "start_date_local": "2025-06-03T19:00:00",
                        "source": "STRAVA", "_note": STRAVA_NOTE}  # fmt: skip
    assert found[2]["start_date"] == "2025-06-02T05:30:00Z"
    assert (found[2]["type"], found[2]["distance"]) == ("Run", 8000.0)


def test_listing_activities_needs_oldest(fake_intervals: FakeIntervals):
    answer = api(fake_intervals, "GET", "/activities")

    assert answer.status_code == 400
    assert "oldest" in answer.json()["message"]


def test_events_list_by_date_range_and_category(fake_intervals: FakeIntervals):
    intervals = fake_intervals.add_event(MONDAY, "6x800m intervals", moving_time=3600)
    fake_intervals.add_event(MONDAY, "Rest", category="NOTE", type=None)
    fake_intervals.add_event(date(2025, 6, 9), "Long run", distance=24000.0)

    week = api(fake_intervals, "GET", "/events", params={
        "oldest": "2025-06-02", "newest": "2025-06-08", "category": "WORKOUT"}).json()  # fmt: skip

    assert [e["id"] for e in week] == [intervals["id"]]
    assert week[0]["start_date_local"] == "2025-06-02T00:00:00"
    assert (week[0]["type"], week[0]["moving_time"]) == ("Run", 3600)


def test_bulk_upsert_creates_then_updates_by_external_id_among_the_apps_own_events(
    fake_intervals: FakeIntervals,
):
    runners = fake_intervals.add_event(MONDAY, "Mine", external_id="rs-1")
    bulk = "/events/bulk"

    created = api(fake_intervals, "POST", bulk, params={"upsert": "true"},
                  json=[session("rs-1", MONDAY), session("rs-2", MONDAY)]).json()  # fmt: skip
    moved = api(fake_intervals, "POST", bulk, params={"upsert": "true"},
                json=[session("rs-1", date(2025, 6, 3), name="Moved")]).json()  # fmt: skip
    plain = api(fake_intervals, "POST", bulk, json=[session("rs-2", MONDAY)]).json()

    assert moved[0]["id"] == created[0]["id"] != runners["id"]
    assert moved[0]["start_date_local"] == "2025-06-03T18:00:00"
    assert plain[0]["id"] not in {created[0]["id"], created[1]["id"]}  # no upsert: a new event
    mine = fake_intervals.events(by_app=True)
    assert sorted(e["external_id"] for e in mine) == ["rs-1", "rs-2", "rs-2"]
    assert fake_intervals.events(by_app=False) == [runners]


@pytest.mark.parametrize(
    "bad",
    [{"start_date_local": "2025-06-02T18:00:00Z"}, {"start_date_local": "2025-06-02"},
     {"category": "STRENGTH"}],
)  # fmt: skip
def test_a_bulk_write_with_one_bad_event_is_refused_whole(
    fake_intervals: FakeIntervals, bad: dict[str, str]
):
    answer = api(fake_intervals, "POST", "/events/bulk", params={"upsert": "true"},
                 json=[session("rs-1", MONDAY), session("rs-2", MONDAY) | bad])  # fmt: skip

    assert answer.status_code == 422
    assert fake_intervals.events() == []


def test_bulk_delete_by_external_id_spares_the_runners_own_events(
    fake_intervals: FakeIntervals,
):
    runners = fake_intervals.add_event(MONDAY, "Mine", external_id="rs-1")
    api(fake_intervals, "POST", "/events/bulk", params={"upsert": "true"},
        json=[session("rs-1", MONDAY), session("rs-2", MONDAY)])  # fmt: skip

    answer = api(fake_intervals, "PUT", "/events/bulk-delete",
                 json=[{"external_id": "rs-1"}, {"external_id": "rs-2"},
                       {"external_id": "rs-9"}])  # fmt: skip

    assert answer.json() == {"eventsDeleted": 2}
    assert fake_intervals.events() == [runners]


def test_one_event_can_be_deleted_by_id(fake_intervals: FakeIntervals):
    (made,) = api(fake_intervals, "POST", "/events/bulk", json=[session("rs-1", MONDAY)]).json()

    gone = api(fake_intervals, "DELETE", f"/events/{made['id']}")
    again = api(fake_intervals, "DELETE", f"/events/{made['id']}")

    assert gone.status_code == 200
    assert again.status_code == 404


def test_injected_errors_answer_first_and_the_log_shows_each_call(
    fake_intervals: FakeIntervals,
):
    fake_intervals.fail(429, path="/activities$", retry_after=30)
    fake_intervals.fail(503, method="POST")
    params = {"oldest": "2025-06-01"}

    limited = api(fake_intervals, "GET", "/activities", params=params)
    failed = api(fake_intervals, "POST", "/events/bulk", json=[session("rs-1", MONDAY)])
    fine = api(fake_intervals, "GET", "/activities", params=params)

    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "30")
    assert (failed.status_code, fine.status_code) == (503, 200)
    assert fake_intervals.events() == []
    logged = fake_intervals.requests(path="/activities$")
    assert [(e.status, e.token, e.arg("oldest")) for e in logged] == [
        (429, fake_intervals.api_key, "2025-06-01"),
        (200, fake_intervals.api_key, "2025-06-01"),
    ]


def test_a_bearer_token_reaches_the_same_athlete(fake_intervals: FakeIntervals):
    token = fake_intervals.issue_bearer_token()
    fake_intervals.add_event(MONDAY, "Easy run", start=time(7, 0))

    answer = requests.get(
        f"{fake_intervals.url}/api/v1/athlete/0/events", timeout=10,
        headers={"Authorization": f"Bearer {token}"}, params={"oldest": "2025-06-02"},
    )  # fmt: skip

    assert [e["start_date_local"] for e in answer.json()] == ["2025-06-02T07:00:00"]
