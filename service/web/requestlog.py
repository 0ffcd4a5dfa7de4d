"""One JSON line per request on stdout, with feed tokens, query strings and credentials left out."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from datetime import UTC, datetime
from typing import Any, TextIO

from flask import Flask, Response, g, request

LOGGER_NAME = "runstrength.request"
USER_AGENT_MAX = 200
_FEED_PATH = re.compile(r"^/feeds/[^/]+?(-busy)?\.ics$")
_FEED_ANY = re.compile(r"^/feeds/.+$")
_FEED_IN_TEXT = re.compile(r"/feeds/[^\s/?#\]\[\"']+")
_EXTENSION_KEY = "runstrength.requestlog"
_HANDLER_MARK = "_runstrength_requestlog"


class RedactFeedTokens(logging.Filter):
    """Rewrite feed URLs in any record's message (Flask logs the path of a failed request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/feeds/" in message:
            record.msg, record.args = _FEED_IN_TEXT.sub("/feeds/<redacted>", message), None
        return True


class StdoutHandler(logging.StreamHandler[TextIO]):
    """Write to whatever sys.stdout is when a record comes (servers and tests replace it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stdout
        super().emit(record)


class JsonFormatter(logging.Formatter):
    """Render a record's ``fields`` (or its message) as one compact JSON object."""

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", None)
        if not isinstance(fields, dict):
            fields = {"time": _iso(record.created), "message": record.getMessage()}
        return json.dumps(fields, separators=(",", ":"), ensure_ascii=False, default=str)


def request_logger() -> logging.Logger:
    """The request logger, given its stdout JSON handler exactly once per process."""
    logger = logging.getLogger(LOGGER_NAME)
    if not any(getattr(h, _HANDLER_MARK, False) for h in logger.handlers):
        handler = StdoutHandler(sys.stdout)
        handler.setFormatter(JsonFormatter())
        setattr(handler, _HANDLER_MARK, True)
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


def install(app: Flask) -> None:
    """Log every request of ``app``; calling it again on the same app changes nothing."""
    if app.extensions.get(_EXTENSION_KEY):
        return
    app.extensions[_EXTENSION_KEY] = True
    logger = request_logger()
    app.logger.addFilter(RedactFeedTokens())
    app.before_request(_start_clock)
    app.after_request(lambda response: _log(logger, response))


def redact_path(path: str) -> str:
    """The path with any feed token replaced; never the query string."""
    match = _FEED_PATH.match(path)
    if match is not None:
        return f"/feeds/<redacted>{match.group(1) or ''}.ics"
    if _FEED_ANY.match(path):
        return "/feeds/<redacted>"
    return path


def _start_clock() -> None:
    g.requestlog_started = time.perf_counter()


def _log(logger: logging.Logger, response: Response) -> Response:
    started = g.get("requestlog_started")
    duration = (time.perf_counter() - started) * 1000 if started is not None else None
    logger.info("request", extra={"fields": _fields(response, duration)})
    return response


def _fields(response: Response, duration_ms: float | None) -> dict[str, Any]:
    agent = request.headers.get("User-Agent", "")
    return {
        "time": _iso(time.time()),
        "method": request.method,
        "path": redact_path(request.path),
        "status": response.status_code,
        "duration_ms": round(duration_ms, 2) if duration_ms is not None else None,
        "bytes": _length(response),
        "remote_addr": request.remote_addr,
        "user_agent": agent[:USER_AGENT_MAX],
    }


def _length(response: Response) -> int | None:
    if response.status_code in (204, 304):
        return 0
    if response.is_streamed:
        return response.content_length
    return response.content_length if response.content_length is not None else 0


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")
