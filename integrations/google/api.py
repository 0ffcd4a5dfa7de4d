"""Plumbing for google-api-python-client: a requests-backed transport and Google's errors mapped.

googleapiclient speaks to an httplib2-shaped object; ours sends through the caller's
requests.Session (timeouts, user agent) with the access token as a bearer header.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httplib2  # type: ignore[import-untyped]
import requests

from integrations.errors import AuthExpired, IntegrationError, NotFound, RateLimited, UpstreamError
from integrations.http import timeout_of

DEFAULT_RETRY_AFTER_S = 60.0
_RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})


class Transport:
    """The ``request``/``close`` pair googleapiclient calls, carried out by requests."""

    def __init__(self, session: requests.Session, access_token: str) -> None:
        self._session = session
        self._auth = f"Bearer {access_token}"

    def request(
        self,
        uri: str,
        method: str = "GET",
        *,
        body: str | bytes | None = None,
        headers: Mapping[str, str] | None = None,
        **_ignored: object,
    ) -> tuple[Any, bytes]:
        """Send one request; answers of any status come back, transport failures raise."""
        sent = {**(headers or {}), "Authorization": self._auth}
        if "user-agent" in sent:  # googleapiclient sends "(gzip)": keep ours in front of it
            ours = self._session.headers.get("User-Agent", "")
            sent["user-agent"] = f"{ours!s} {sent['user-agent']}".strip()
        data = body.encode("utf-8") if isinstance(body, str) else body
        try:
            answer = self._session.request(
                method,
                uri,
                data=data,
                headers=sent,
                timeout=timeout_of(self._session),
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise UpstreamError(f"Google API unreachable: {type(exc).__name__}") from exc
        response = httplib2.Response({**answer.headers, "status": str(answer.status_code)})
        response.reason = answer.reason
        return response, answer.content

    def close(self) -> None:
        """Nothing to do: the session belongs to our caller."""


def status_of(exc: Any) -> int:
    """The HTTP status of a googleapiclient HttpError."""
    return int(exc.resp.status)


def retryable(status: int, content: bytes | str | None) -> bool:
    """What googleapiclient's num_retries retries: 5xx, 429 and rate-limit 403s."""
    return status >= 500 or status == 429 or (status == 403 and _rate_limited(content))


def reason(exc: Any) -> str:
    """Google's error reason and message for an HttpError, for logs and results."""
    why, message = _details(exc.content)
    label = why or str(status_of(exc))
    return f"{label}: {message}" if message else label


def error_for(exc: Any) -> IntegrationError:
    """The integrations error for a Google error answer (an HttpError)."""
    status = status_of(exc)
    if status == 401:
        return AuthExpired(f"Google refused the token: {reason(exc)}")
    if status == 429 or (status == 403 and _rate_limited(exc.content)):
        return RateLimited(_retry_after(exc.resp), "Google rate limit")
    if status in (404, 410):
        return NotFound(reason(exc))
    if status >= 500:
        return UpstreamError(f"Google failed with HTTP {status}")
    return IntegrationError(f"Google refused the request: HTTP {status} {reason(exc)}")


def _details(content: bytes | str | None) -> tuple[str | None, str]:
    """(first error reason, message) from Google's JSON error body."""
    try:
        error = json.loads(content or b"{}").get("error") or {}
        errors = error.get("errors") or [{}]
        return errors[0].get("reason"), str(error.get("message") or "")
    except (ValueError, AttributeError, TypeError, IndexError):
        return None, ""


def _rate_limited(content: bytes | str | None) -> bool:
    return _details(content)[0] in _RATE_REASONS


def _retry_after(response: Mapping[str, str]) -> float:
    try:
        return max(0.0, float(response.get("retry-after", "")))
    except ValueError:
        return DEFAULT_RETRY_AFTER_S
