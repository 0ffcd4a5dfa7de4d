"""The one requests.Session factory: default timeouts, safe retries, our user agent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, ReadTimeoutError
from urllib3.util.retry import Retry

from integrations.errors import UpstreamError

Timeout = tuple[float, float]
DEFAULT_TIMEOUT: Timeout = (5, 30)  # seconds: (connect, read)
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})


class _TimeoutSession(requests.Session):
    """A session whose requests time out after ``default_timeout`` unless told otherwise."""

    def __init__(self, default_timeout: Timeout) -> None:
        super().__init__()
        self.default_timeout = default_timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, *args, **kwargs)


class _IdempotentRetry(Retry):
    """Retry only idempotent verbs (urllib3 retries connect errors for all), and let a read
    timeout that used up the retries surface as a timeout rather than a connection error."""

    def increment(self, method: str | None = None, *args: Any, **kwargs: Any) -> Self:
        retry = self if method is None or method.upper() in _IDEMPOTENT else self.new(total=0)
        try:
            return super(_IdempotentRetry, retry).increment(method, *args, **kwargs)
        except MaxRetryError as exc:
            if isinstance(exc.reason, ReadTimeoutError):
                raise exc.reason from None
            raise


def new_session(
    *, timeout: Timeout = DEFAULT_TIMEOUT, retries: int = 2, user_agent: str = "runstrength"
) -> requests.Session:
    """A session for talking to the outside world; 429s come straight back to the caller."""
    session = _TimeoutSession(timeout)
    retry = _IdempotentRetry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        other=0,
        redirect=5,
        status_forcelist=(502, 503, 504),
        allowed_methods=_IDEMPOTENT,
        backoff_factor=0.1,  # 0 s, 0.2 s, 0.4 s ...
        backoff_max=1.0,
        respect_retry_after_header=False,  # never wait out a Retry-After here
        raise_on_status=False,
    )
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = user_agent
    return session


def timeout_of(session: requests.Session) -> Timeout:
    """The session's default timeout, or ours for a session made elsewhere."""
    timeout: Timeout = getattr(session, "default_timeout", DEFAULT_TIMEOUT)
    return timeout


def post_form(
    session: requests.Session, url: str, form: Mapping[str, str], upstream: str
) -> requests.Response:
    """POST a form to an OAuth endpoint (JSON answer, no redirects); UpstreamError if down."""
    try:
        return session.post(
            url,
            data=form,
            headers={"Accept": "application/json"},
            timeout=timeout_of(session),
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise UpstreamError(f"{upstream} unreachable: {type(exc).__name__}") from exc
