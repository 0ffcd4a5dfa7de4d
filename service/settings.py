"""One typed settings object, read once from RUNSTRENGTH_* variables and passed down from there."""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs

PREFIX = "RUNSTRENGTH_"
INT_FIELDS = ("strava_read_limit_15min", "strava_read_limit_day")


class SettingsError(ValueError):
    """A setting has a bad value; the message names the variable and what is wrong."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Every knob of a runstrength installation; see the configuration table in README.md."""

    data_dir: Path
    database_url: str
    secret_key: str = ""
    encryption_keys: tuple[str, ...] = ()
    base_url: str = "http://127.0.0.1:8000"
    queue_url: str = ""
    google_client_id: str = ""
    google_client_secret: str = ""
    strava_client_id: str = ""
    strava_client_secret: str = ""
    strava_webhook_verify_token: str = ""
    strava_read_limit_15min: int = 100
    strava_read_limit_day: int = 1000
    intervals_client_id: str = ""
    intervals_client_secret: str = ""
    google_api_root: str = ""
    google_oauth_root: str = ""
    strava_api_root: str = ""
    intervals_api_root: str = ""
    single_runner: bool = False

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
    ) -> Settings:
        """Build and validate settings from the environment, then apply explicit overrides."""
        env = os.environ if env is None else env
        raw = {
            f.name: env[PREFIX + f.name.upper()]
            for f in fields(cls)
            if PREFIX + f.name.upper() in env
        }
        raw.update(overrides or {})
        data_dir = Path(raw.pop("data_dir", "") or platformdirs.user_data_dir("runstrength"))
        database_url = raw.pop("database_url", "") or f"sqlite:///{data_dir / 'runstrength.db'}"
        keys_raw = raw.pop("encryption_keys", ())
        keys: tuple[str, ...] = (
            tuple(k.strip() for k in keys_raw.split(",") if k.strip())
            if isinstance(keys_raw, str)
            else tuple(keys_raw)
        )
        single_runner = _flag("single_runner", raw.pop("single_runner", False))
        values: dict[str, Any] = {
            k: _count(k, v) if k in INT_FIELDS else str(v)
            for k, v in raw.items()
            if not (k in INT_FIELDS and str(v).strip() == "")  # empty: the default
        }
        settings = cls(
            data_dir=data_dir.expanduser(),
            database_url=database_url,
            encryption_keys=keys,
            single_runner=single_runner,
            **values,
        )
        settings.validate()
        return replace(settings, database_url=sqlalchemy_url(settings.database_url))

    def validate(self) -> None:
        """Raise SettingsError naming the first bad value."""
        scheme = urlsplit(self.database_url).scheme.split("+")[0]
        if scheme not in {"sqlite", "postgresql", "postgres"}:
            raise SettingsError(
                f"{PREFIX}DATABASE_URL: expected sqlite:///PATH or postgresql://..., "
                f"got scheme {scheme!r}"
            )
        for key in self.encryption_keys:
            _check_fernet_key(key)
        urls = {
            "base_url": self.base_url,
            "google_api_root": self.google_api_root,
            "google_oauth_root": self.google_oauth_root,
            "strava_api_root": self.strava_api_root,
            "intervals_api_root": self.intervals_api_root,
        }
        for name, value in urls.items():
            if value and urlsplit(value).scheme not in {"http", "https"}:
                raise SettingsError(
                    f"{PREFIX}{name.upper()}: expected an http(s) URL, got {value!r}"
                )
        if self.queue_url and urlsplit(self.queue_url).scheme not in {"redis", "rediss"}:
            raise SettingsError(
                f"{PREFIX}QUEUE_URL: expected empty or redis://..., got a different scheme"
            )


def sqlalchemy_url(url: str) -> str:
    """Pin PostgreSQL URLs to the psycopg 3 driver; leave everything else alone."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _flag(name: str, value: object) -> bool:
    """A yes/no setting: 1/true/yes/on or 0/false/no/off (or empty), any case."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"", "0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{PREFIX}{name.upper()}: expected 1 or 0 (true/false), got {value!r}")


def _count(name: str, value: object) -> int:
    """A positive whole number setting (a rate limit)."""
    try:
        number = int(str(value).strip())
    except ValueError:
        number = 0
    if number < 1:
        raise SettingsError(
            f"{PREFIX}{name.upper()}: expected a whole number above 0, not {value!r}"
        )
    return number


def _check_fernet_key(key: str) -> None:
    try:
        raw = base64.urlsafe_b64decode(key.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError):
        raw = b""
    if len(raw) != 32:
        raise SettingsError(
            f"{PREFIX}ENCRYPTION_KEYS: each key must be a Fernet key "
            "(32 bytes, url-safe base64, 44 characters)"
        )
