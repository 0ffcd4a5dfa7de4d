"""intervals.icu API v1 for one athlete: personal API key (basic auth) or an OAuth token."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import requests

from integrations.errors import AuthExpired, IntegrationError, NotFound, RateLimited, UpstreamError
from integrations.http import timeout_of
from integrations.intervals_icu.mapping import (
    activity_from_json,
    event_body,
    is_strava_stub,
    planned_runs_from_events,
)
from integrations.types import CalendarEvent, ExternalActivity, PlannedRun

INTERVALS_ROOT = "https://intervals.icu"
BULK_SIZE = 100  # events per bulk call
DEFAULT_RETRY_AFTER_S = 60.0
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IntervalsActivities:
    """Activities read, and the ids of Strava stubs skipped (intervals.icu withholds their data)."""

    activities: list[ExternalActivity] = field(default_factory=list)
    stubs: list[str] = field(default_factory=list)


class IntervalsClient:
    """One athlete's activities and calendar; athlete "0" means the key's owner."""

    def __init__(
        self,
        api_key: str,
        api_root: str,
        session: requests.Session,
        athlete_id: str = "0",
        *,
        oauth: bool = False,
    ) -> None:
        """``oauth`` sends ``api_key`` as a bearer token (an OAuth access token) instead."""
        root = (api_root or INTERVALS_ROOT).rstrip("/")
        self._base = f"{root}/api/v1/athlete/{athlete_id}"
        self._session = session
        if oauth:
            self._auth: tuple[str, str] | None = None
            self._headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
        else:
            self._auth = ("API_KEY", api_key)
            self._headers = {"Accept": "application/json"}

    def activities(self, oldest: date, newest: date) -> IntervalsActivities:
        """Activities that started on local dates ``oldest`` to ``newest`` (inclusive)."""
        body = self._call("GET", "/activities", params=_range(oldest, newest))
        result = IntervalsActivities()
        for raw in body if isinstance(body, list) else []:
            if not isinstance(raw, dict):
                continue
            if is_strava_stub(raw):
                result.stubs.append(str(raw.get("id")))
                continue
            try:
                result.activities.append(activity_from_json(raw))
            except ValueError as error:
                log.warning("skipping an intervals.icu activity: %s", error)
        return result

    def planned_runs(self, oldest: date, newest: date) -> list[PlannedRun]:
        """Runs planned on the calendar between the two local dates, classified for the planner."""
        body = self._call("GET", "/events", params=_range(oldest, newest))
        events = [e for e in body if isinstance(e, dict)] if isinstance(body, list) else []
        return planned_runs_from_events(events)

    def upsert_events(self, events: Sequence[CalendarEvent], timezone: str) -> int:
        """Create or update our sessions by uid (``external_id``); how many were written."""
        zone = ZoneInfo(timezone)
        written = 0
        for chunk in _chunks([event_body(e, zone) for e in events]):
            body = self._call("POST", "/events/bulk", params={"upsert": "true"}, json=chunk)
            written += len(body) if isinstance(body, list) else len(chunk)
        return written

    def delete_events(self, external_ids: Iterable[str]) -> None:
        """Delete our sessions by uid; ids intervals.icu does not know are ignored."""
        for chunk in _chunks([{"external_id": uid} for uid in external_ids]):
            self._call("PUT", "/events/bulk-delete", json=chunk)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._session.request(
                method,
                self._base + path,
                auth=self._auth,
                headers=self._headers,
                timeout=timeout_of(self._session),
                allow_redirects=False,
                **kwargs,
            )
        except requests.RequestException as exc:
            raise UpstreamError(f"intervals.icu unreachable: {type(exc).__name__}") from exc
        _raise_for_status(response)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise UpstreamError(
                f"intervals.icu sent no JSON (HTTP {response.status_code})"
            ) from exc


def _range(oldest: date, newest: date) -> dict[str, str]:
    return {"oldest": oldest.isoformat(), "newest": newest.isoformat()}


def _chunks(items: list[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
    for start in range(0, len(items), BULK_SIZE):
        yield items[start : start + BULK_SIZE]


def _raise_for_status(response: requests.Response) -> None:
    status = response.status_code
    if status < 300:
        return
    if status in {401, 403}:
        raise AuthExpired(f"intervals.icu refused the key (HTTP {status})")
    if status == 404:
        raise NotFound("intervals.icu has no such athlete or object")
    if status == 429:
        raise RateLimited(_retry_after(response), "intervals.icu rate limit")
    if status >= 500:
        raise UpstreamError(f"intervals.icu failed with HTTP {status}")
    raise IntegrationError(f"intervals.icu refused the request (HTTP {status})")


def _retry_after(response: requests.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return DEFAULT_RETRY_AFTER_S
