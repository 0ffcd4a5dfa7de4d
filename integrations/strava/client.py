"""Strava activities through stravalib's protocol layer, without its sleeping rate limiter.

stravalib builds URLs on https://www.strava.com, sends the bearer token and turns error answers
into faults; our session rewrites the host to the configured root and adds a timeout. Raw JSON
is mapped by ``mapping`` (stravalib's models turn unknown sport types into "Workout"). Rate
limits are read from every answer and raised as RateLimited: nothing here ever waits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import requests
from stravalib import exc
from stravalib.protocol import ApiV3

from integrations.errors import NotFound, RateLimited, UpstreamError
from integrations.http import timeout_of
from integrations.strava.limits import RateUsage, seconds_to_next_quarter, usage_from_headers
from integrations.strava.mapping import activity_from_json
from integrations.strava.oauth import STRAVA_ROOT, StravaEndpoints, raise_for_status
from integrations.types import ExternalActivity

MAX_PER_PAGE = 200
log = logging.getLogger(__name__)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _RebasedSession(requests.Session):
    """Hands every request to the injected session, on our root and with its timeout."""

    def __init__(self, inner: requests.Session, root: str) -> None:
        super().__init__()
        self._inner = inner
        self._root = root.rstrip("/")

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        url = url.decode() if isinstance(url, bytes) else url
        if url.startswith(STRAVA_ROOT):
            url = self._root + url[len(STRAVA_ROOT) :]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = timeout_of(self._inner)
        return self._inner.request(method, url, *args, **kwargs)


class _Protocol(ApiV3):
    """ApiV3 minus its credential lookup: it reads STRAVA_CLIENT_ID/SECRET from the process
    environment to refresh tokens in memory; we refresh through StravaOAuth and persist."""

    def _check_credentials(self) -> None:
        return None


class StravaClient:
    """Read one athlete's activities with their access token."""

    def __init__(
        self,
        access_token: str,
        endpoints: StravaEndpoints,
        session: requests.Session,
        *,
        reserve: int = 5,
        clock: Callable[[], datetime] = _utc_now,
        usage: RateUsage | None = None,
    ) -> None:
        """``reserve`` calls of every window are left unused; ``usage`` seeds what an earlier
        client saw, so a fresh client does not spend the reserve; ``clock`` is UTC now."""
        self._reserve = reserve
        self._clock = clock
        self._usage = usage
        self._protocol = _Protocol(
            access_token=access_token,
            requests_session=_RebasedSession(session, endpoints.root),
            rate_limiter=self._observe,
        )

    @property
    def usage(self) -> RateUsage | None:
        """The application's rate-limit usage from the latest answer that reported it."""
        return self._usage

    def activities(
        self, after: datetime, before: datetime | None = None, per_page: int = MAX_PER_PAGE
    ) -> Iterator[ExternalActivity]:
        """The athlete's activities that started after ``after`` (and before ``before``),
        page by page; activities Strava sends without an id or start are skipped. A limit
        reached between pages raises RateLimited after the earlier pages were yielded."""
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise ValueError(f"per_page must be 1..{MAX_PER_PAGE}, not {per_page}")
        params: dict[str, int] = {"after": _epoch(after), "per_page": per_page}
        if before is not None:
            params["before"] = _epoch(before)
        page = 1
        while True:
            batch = self._get("/athlete/activities", page=page, **params)
            if not isinstance(batch, list):
                raise UpstreamError("Strava sent no list of activities")
            yield from _mapped(batch)
            if len(batch) < per_page:
                return
            page += 1

    def activity(self, activity_id: int) -> ExternalActivity:
        """One activity by id; NotFound when it is gone or not the athlete's."""
        raw = self._get("/activities/{id}", id=activity_id)
        try:
            return activity_from_json(raw if isinstance(raw, dict) else {})
        except ValueError as error:
            raise UpstreamError(f"Strava sent an unreadable activity: {error}") from error

    def _get(self, path: str, **params: Any) -> Any:
        wait = self._usage.retry_after(self._clock(), self._reserve) if self._usage else None
        if wait is not None:
            raise RateLimited(wait, "Strava rate limit nearly spent")
        try:
            return self._protocol.get(path, **params)
        except exc.ObjectNotFound as error:
            raise NotFound(f"Strava has no {path.format(**params)}") from error
        except exc.Fault as error:
            self._raise_for(error.response)
            raise UpstreamError(f"Strava failed: {error}") from error
        except requests.RequestException as error:
            raise UpstreamError(f"Strava unreachable: {type(error).__name__}") from error

    def _raise_for(self, response: requests.Response | None) -> None:
        if response is None:
            return
        if response.status_code == 429:
            now = self._clock()
            wait = self._usage.retry_after(now) if self._usage else None
            raise RateLimited(wait or seconds_to_next_quarter(now), "Strava rate limit")
        raise_for_status(response, "Strava")

    def _observe(self, headers: Mapping[str, str], _method: str) -> None:
        """stravalib's rate-limiter hook: it sees the headers of every API answer."""
        usage = usage_from_headers(headers, self._clock())
        if usage is not None:
            self._usage = usage


def _epoch(moment: datetime) -> int:
    """Whole epoch seconds: Strava rejects milliseconds."""
    if moment.tzinfo is None:
        raise ValueError("Strava times must be timezone-aware")
    return int(moment.timestamp())


def _mapped(batch: list[Any]) -> Iterator[ExternalActivity]:
    for raw in batch:
        try:
            yield activity_from_json(raw if isinstance(raw, dict) else {})
        except ValueError as error:
            log.warning("skipping a Strava activity: %s", error)
