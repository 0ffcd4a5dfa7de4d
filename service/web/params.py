"""Query parameters declared once: parsed for handlers and described for the OpenAPI document."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

# Years the service accepts; far outside them date arithmetic overflows and nothing makes sense.
FIRST_YEAR, LAST_YEAR = 1900, 2099
DATE_PATTERN = r"^(19|20)[0-9]{2}-[0-9]{2}-[0-9]{2}$"


class BadParameter(ValueError):
    """A query parameter is missing, unknown or malformed; the message names it."""


@dataclass(frozen=True, slots=True)
class Param:
    """One query parameter: its JSON Schema, how to read it, and its default."""

    name: str
    description: str
    schema: Mapping[str, Any]
    parse: Callable[[str], Any]
    default: Any = None
    required: bool = False
    example: Any = field(default=None)

    def read(self, raw: str | None) -> Any:
        """The parsed value, the default when absent, or BadParameter naming this parameter."""
        if raw is None:
            if self.required:
                raise BadParameter(f"{self.name} is required")
            return self.default
        try:
            return self.parse(raw)
        except ValueError as exc:
            raise BadParameter(f"{self.name}: {exc}") from None


def _parse_date(raw: str) -> date:
    problem = f"expected a date as YYYY-MM-DD from {FIRST_YEAR} to {LAST_YEAR}, got {raw!r}"
    if not re.fullmatch(DATE_PATTERN, raw, flags=re.ASCII):
        raise ValueError(problem)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(problem) from None


def date_param(name: str, description: str) -> Param:
    """An optional local date, YYYY-MM-DD."""
    schema = {"type": "string", "format": "date", "pattern": DATE_PATTERN}
    return Param(name, description, schema, _parse_date, example="2026-11-22")


def int_param(name: str, description: str, *, default: int, low: int, high: int) -> Param:
    """An optional whole number in [low, high]."""

    def parse(raw: str) -> int:
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 6:
            raise ValueError(f"expected a whole number from {low} to {high}, got {raw!r}")
        value = int(raw)
        if not low <= value <= high:
            raise ValueError(f"must be from {low} to {high}, got {value}")
        return value

    schema = {"type": "integer", "minimum": low, "maximum": high, "default": default}
    return Param(name, description, schema, parse, default=default, example=default)


def read_params(params: tuple[Param, ...], args: Mapping[str, str]) -> dict[str, Any]:
    """Every declared parameter parsed from ``args``; unknown names are refused, not ignored."""
    known = {p.name for p in params}
    unknown = sorted(set(args) - known)
    if unknown:
        allowed = ", ".join(sorted(known)) or "none"
        raise BadParameter(f"unknown parameter {unknown[0]!r} (allowed: {allowed})")
    return {p.name: p.read(args.get(p.name)) for p in params}
