"""Grants at rest: sealed with the first key, opened by any, unreadable without one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet

from integrations.types import TokenSet
from service.crypto import NoEncryptionKeys, SealBroken, Sealer

GRANT = TokenSet(
    access_token="ya29.access-secret",
    refresh_token="1//refresh-secret",
    expires_at=datetime(2026, 12, 2, 9, 0, tzinfo=UTC),
    scopes=frozenset({"https://www.googleapis.com/auth/calendar.app.created"}),
)


def _key() -> str:
    return Fernet.generate_key().decode("ascii")


def test_a_sealed_grant_opens_to_the_same_grant_and_shows_no_secret() -> None:
    sealer = Sealer((_key(),))
    sealed = sealer.seal(GRANT)
    assert b"secret" not in sealed
    assert sealer.open(sealed) == GRANT


def test_an_old_key_still_opens_and_reseal_moves_to_the_new_one() -> None:
    old, new = _key(), _key()
    sealed = Sealer((old,)).seal(GRANT)
    rotated = Sealer((new, old))
    assert rotated.open(sealed) == GRANT
    resealed = rotated.reseal(sealed)
    assert Sealer((new,)).open(resealed) == GRANT
    with pytest.raises(SealBroken):
        Sealer((new,)).open(sealed)


def test_without_keys_nothing_can_be_sealed() -> None:
    with pytest.raises(NoEncryptionKeys, match="RUNSTRENGTH_ENCRYPTION_KEYS"):
        Sealer(())


def test_a_tampered_grant_does_not_open() -> None:
    sealer = Sealer((_key(),))
    sealed = bytearray(sealer.seal(GRANT))
    sealed[-5] ^= 1
    with pytest.raises(SealBroken):
        sealer.open(bytes(sealed))
