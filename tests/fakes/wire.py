"""The fake Google's wire format: calls in, replies out, Google-shaped errors, batch bodies."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from werkzeug.http import parse_options_header

# The reason Google puts in errors[0] for a status when a test names none, and its message.
DEFAULT_REASONS = {
    400: "badRequest",
    401: "authError",
    403: "rateLimitExceeded",
    404: "notFound",
    409: "duplicate",
    410: "deleted",
    412: "conditionNotMet",
    429: "rateLimitExceeded",
    500: "backendError",
    502: "backendError",
    503: "backendError",
}
MESSAGES = {
    "authError": "Invalid Credentials",
    "backendError": "Backend Error",
    "badRequest": "Bad Request",
    "conditionNotMet": "Precondition Failed",
    "deleted": "Resource has been deleted",
    "duplicate": "The requested identifier already exists.",
    "fullSyncRequired": "Sync token is no longer valid, a full sync is required.",
    "insufficientPermissions": "Insufficient Permission",
    "notFound": "Not Found",
    "rateLimitExceeded": "Rate Limit Exceeded",
    "userRateLimitExceeded": "User Rate Limit Exceeded",
}
DOMAINS = {"rateLimitExceeded": "usageLimits", "userRateLimitExceeded": "usageLimits"}
STATUSES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED"}


@dataclass(frozen=True)
class Call:
    """One HTTP request, from the wire or from a batch part; header names are lower case."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""
    inner: bool = False

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def flag(self, name: str) -> bool:
        return (self.arg(name) or "").lower() == "true"

    def json(self) -> dict[str, Any]:
        try:
            payload = json.loads(self.body or b"{}")
        except ValueError:
            raise ApiError(400, "parseError", "Parse Error") from None
        if not isinstance(payload, dict):
            raise ApiError(400, "parseError", "Parse Error")
        return payload

    def form(self) -> dict[str, str]:
        """The urlencoded body merged over the query string (last value wins)."""
        fields = {name: values[-1] for name, values in self.query.items()}
        parsed = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        fields.update({name: values[-1] for name, values in parsed.items()})
        return fields


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def phrase(self) -> str:
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return "Unknown"


def json_reply(status: int, payload: object, headers: dict[str, str] | None = None) -> Reply:
    body = json.dumps(payload, indent=1).encode()
    return Reply(
        status, body, {"Content-Type": "application/json; charset=UTF-8", **(headers or {})}
    )


class ApiError(Exception):
    """An error the Calendar API answers with, in its JSON shape."""

    def __init__(
        self,
        status: int,
        reason: str | None = None,
        message: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.reason = reason or DEFAULT_REASONS.get(status, "unknown")
        self.message = message or MESSAGES.get(self.reason, HTTPStatus(status).phrase)
        self.headers = headers or {}
        super().__init__(f"{status} {self.reason}: {self.message}")

    def reply(self) -> Reply:
        detail = {
            "domain": DOMAINS.get(self.reason, "global"),
            "reason": self.reason,
            "message": self.message,
        }
        if self.reason == "authError":
            detail |= {"location": "Authorization", "locationType": "header"}
        error: dict[str, Any] = {"code": self.status, "message": self.message, "errors": [detail]}
        if self.status in STATUSES:
            error["status"] = STATUSES[self.status]
        headers = dict(self.headers)
        if self.status == 401:
            headers.setdefault("WWW-Authenticate", 'Bearer realm="https://accounts.google.com/"')
        return json_reply(self.status, {"error": error}, headers)


def split_multipart(body: bytes, content_type: str) -> list[tuple[dict[str, str], bytes]]:
    """The parts of a multipart/mixed body as (lower-cased headers, payload); LF or CRLF."""
    kind, options = parse_options_header(content_type)
    if kind != "multipart/mixed" or not options.get("boundary"):
        raise ApiError(400, "badRequest", "A batch request must be multipart/mixed.")
    parts = []
    for raw in body.split(b"--" + options["boundary"].encode())[1:]:
        if raw.startswith(b"--"):
            break
        # The line break after a boundary, and the one before the next, belong to the boundaries.
        chunk = (
            raw.removeprefix(b"\r\n").removeprefix(b"\n").removesuffix(b"\n").removesuffix(b"\r")
        )
        head, payload = _head_and_body(chunk)
        parts.append((_headers(head), payload))
    return parts


def inner_call(payload: bytes, shared: dict[str, str]) -> Call:
    """A batch part's application/http request; the outer request's non-content headers apply."""
    head, body = _head_and_body(payload)
    method, target, _version = head[0].split(" ", 2)
    url = urlsplit(target)
    query = parse_qs(url.query, keep_blank_values=True)
    return Call(
        method.upper(), unquote(url.path), query, shared | _headers(head[1:]), body, inner=True
    )


def _head_and_body(data: bytes) -> tuple[list[str], bytes]:
    ends = [(i, len(sep)) for sep in (b"\r\n\r\n", b"\n\n") if (i := data.find(sep)) >= 0]
    if not ends:
        return data.decode("latin-1").splitlines(), b""
    index, width = min(ends)
    return data[:index].decode("latin-1").splitlines(), data[index + width :]


def _headers(lines: list[str]) -> dict[str, str]:
    pairs = (line.split(":", 1) for line in lines if ":" in line)
    return {name.strip().lower(): value.strip() for name, value in pairs}


def multipart_reply(answers: list[tuple[str | None, Reply]]) -> Reply:
    boundary = "batch_" + secrets.token_hex(12)
    out = bytearray()
    for content_id, reply in answers:
        out += f"--{boundary}\r\nContent-Type: application/http\r\n".encode()
        if content_id:
            # Google echoes "<x>" as "<response-x>", which the client maps back to its request.
            inside = content_id[1:-1] if content_id.startswith("<") else content_id
            out += f"Content-ID: <response-{inside}>\r\n".encode()
        out += f"\r\nHTTP/1.1 {reply.status} {reply.phrase}\r\n".encode()
        for name, value in reply.headers.items():
            out += f"{name}: {value}\r\n".encode()
        out += f"Content-Length: {len(reply.body)}\r\n\r\n".encode() + reply.body + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return Reply(200, bytes(out), {"Content-Type": f"multipart/mixed; boundary={boundary}"})
