"""The small exception tree every integration raises; callers catch IntegrationError."""

from __future__ import annotations


class IntegrationError(Exception):
    """Base of every error an integration raises on purpose."""


class AuthExpired(IntegrationError):
    """The stored grant no longer works: the runner must reconnect."""


class RateLimited(IntegrationError):
    """The upstream asked us to wait; the job layer reschedules after ``retry_after`` seconds."""

    def __init__(self, retry_after: float, message: str = "rate limited") -> None:
        super().__init__(f"{message} (retry after {retry_after:.0f} s)")
        self.retry_after = retry_after


class NotFound(IntegrationError):
    """The upstream object does not exist (any more)."""


class UpstreamError(IntegrationError):
    """The upstream failed (5xx, timeout, malformed answer); safe to retry later."""


class BadFile(IntegrationError):
    """A file could not be read as an activity; the message is a one-line reason for the runner."""
