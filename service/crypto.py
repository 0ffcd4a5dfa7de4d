"""Secrets at rest: OAuth grants sealed with Fernet keys from RUNSTRENGTH_ENCRYPTION_KEYS.

The first key seals; every key opens, so keys rotate by putting a new one first and
re-sealing (``reseal``) before the old one is dropped.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from integrations.types import TokenSet
from service.settings import Settings


class NoEncryptionKeys(RuntimeError):
    """Connections that hold grants need RUNSTRENGTH_ENCRYPTION_KEYS to be set."""


class SealBroken(ValueError):
    """A sealed grant no longer opens with any configured key (keys lost or changed)."""


class Sealer:
    """Seal and open grants with the installation's keys."""

    def __init__(self, keys: tuple[str, ...]) -> None:
        if not keys:
            raise NoEncryptionKeys(
                "set RUNSTRENGTH_ENCRYPTION_KEYS (Fernet keys) to store connection grants"
            )
        self._fernet = MultiFernet([Fernet(key.encode("ascii")) for key in keys])

    @classmethod
    def from_settings(cls, settings: Settings) -> Sealer:
        return cls(settings.encryption_keys)

    def seal(self, grant: TokenSet) -> bytes:
        """The grant as a Fernet token (authenticated, timestamped, encrypted)."""
        return self._fernet.encrypt(json.dumps(_to_json(grant)).encode("utf-8"))

    def open(self, sealed: bytes) -> TokenSet:
        """The grant back; SealBroken when no configured key opens it."""
        try:
            raw = self._fernet.decrypt(sealed)
        except InvalidToken:
            raise SealBroken("the stored grant cannot be opened with the configured keys") from None
        return _from_json(json.loads(raw))

    def reseal(self, sealed: bytes) -> bytes:
        """The same grant sealed with the newest key (for key rotation)."""
        try:
            return self._fernet.rotate(sealed)
        except InvalidToken:
            raise SealBroken("the stored grant cannot be opened with the configured keys") from None


def _to_json(grant: TokenSet) -> dict[str, Any]:
    return {
        "access_token": grant.access_token,
        "refresh_token": grant.refresh_token,
        "expires_at": grant.expires_at.isoformat() if grant.expires_at else None,
        "scopes": sorted(grant.scopes),
        "token_type": grant.token_type,
    }


def _from_json(data: dict[str, Any]) -> TokenSet:
    expires = data.get("expires_at")
    return TokenSet(
        access_token=str(data["access_token"]),
        refresh_token=data.get("refresh_token"),
        expires_at=datetime.fromisoformat(expires) if expires else None,
        scopes=frozenset(data.get("scopes") or ()),
        token_type=str(data.get("token_type") or "Bearer"),
    )
