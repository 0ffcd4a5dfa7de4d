"""Accounts: sign up, sign in (argon2, throttled), change password; a runner per account."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import Account, Runner, SignInThrottle
from service.usecases.runners import InvalidValue, system_timezone

MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 would hash megabytes; nobody types that
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,253}\.[^@\s.]{2,63}$")
FAILURES_PER_WINDOW = 5
WINDOW = timedelta(minutes=15)


class WrongPassword(Exception):
    """The current password given to confirm a change is wrong."""


class Throttled(Exception):
    """Too many failed sign-ins for this email or address; try again after ``retry_after_s``."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed sign-ins; try again in {retry_after_s // 60 + 1} min")
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class SignedIn:
    """What a session cookie carries: the account, its runner and the epoch it was issued in."""

    account_id: int
    runner_id: int
    epoch: int


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id with the library's current recommended parameters


@cache
def _dummy_hash() -> str:
    return _hasher().hash("not a password anyone has")


def normal_email(email: str) -> str:
    """Trimmed and lower-cased, or InvalidValue when it does not look like an address."""
    cleaned = email.strip().lower()
    if len(cleaned) > 254 or not EMAIL.match(cleaned):
        raise InvalidValue("enter an email address like name@example.com")
    return cleaned


def check_password(password: str) -> None:
    """Raise InvalidValue when a new password is too short or absurdly long."""
    if len(password) < MIN_PASSWORD:
        raise InvalidValue(f"use at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InvalidValue(f"use at most {MAX_PASSWORD} characters")


def sign_up(db: Session, email: str, password: str, timezone: str | None = None) -> SignedIn:
    """A new account with its own runner; InvalidValue for a bad or already used email."""
    address = normal_email(email)
    check_password(password)
    if db.scalar(select(Account.id).where(Account.email == address)) is not None:
        raise InvalidValue("an account with this email exists: sign in instead")
    runner = Runner(name="", timezone=timezone or system_timezone(), preferences={})
    db.add(runner)
    db.flush()
    account = Account(runner_id=runner.id, email=address, password_hash=_hasher().hash(password))
    db.add(account)
    db.flush()
    return SignedIn(account.id, runner.id, account.session_epoch)


def sign_in_verified(db: Session, email: str, timezone: str | None = None) -> tuple[SignedIn, bool]:
    """The account of an email a trusted provider verified, created when new; True if created.

    A created account gets a random password nobody knows: it signs in through the provider
    (or sets a password after a reset, which a later issue adds).
    """
    address = normal_email(email)
    account = db.scalars(select(Account).where(Account.email == address)).first()
    if account is not None:
        return SignedIn(account.id, account.runner_id, account.session_epoch), False
    return sign_up(db, address, secrets.token_urlsafe(32), timezone), True


def sign_in(db: Session, email: str, password: str, address: str, now: datetime) -> SignedIn | None:
    """The account for these credentials, or None (the failure is recorded: commit it).

    Raises Throttled after too many failures for the email or the address. Unknown emails cost
    one argon2 verification too, so timing does not tell which emails exist.
    """
    cleaned = email.strip().lower()
    keys = (_throttle_key("email", cleaned), _throttle_key("address", address))
    _refuse_if_throttled(db, keys, now)
    account = db.scalars(select(Account).where(Account.email == cleaned)).first()
    verified = _verify(account.password_hash if account else None, password)
    if account is None or not verified:
        for key in keys:
            _record_failure(db, key, now)
        return None
    if _hasher().check_needs_rehash(account.password_hash):
        account.password_hash = _hasher().hash(password)
    for key in keys:
        throttle = db.get(SignInThrottle, key)
        if throttle is not None:
            db.delete(throttle)
    return SignedIn(account.id, account.runner_id, account.session_epoch)


def change_password(db: Session, account_id: int, current: str, new: str) -> SignedIn:
    """Set a new password after checking the current one; every other session ends."""
    account = db.get_one(Account, account_id)
    if not _verify(account.password_hash, current):
        raise WrongPassword("the current password is wrong")
    check_password(new)
    account.password_hash = _hasher().hash(new)
    account.session_epoch += 1
    return SignedIn(account.id, account.runner_id, account.session_epoch)


def still_valid(db: Session, signed_in: SignedIn) -> bool:
    """A session stays good while its account exists and its epoch has not moved on."""
    account = db.get(Account, signed_in.account_id)
    return (
        account is not None
        and account.runner_id == signed_in.runner_id
        and account.session_epoch == signed_in.epoch
    )


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher().verify(stored or _dummy_hash(), password[:MAX_PASSWORD]) and bool(stored)
    except (VerificationError, InvalidHashError):
        return False


def _throttle_key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def _refuse_if_throttled(db: Session, keys: tuple[str, ...], now: datetime) -> None:
    for key in keys:
        throttle = db.get(SignInThrottle, key)
        if throttle is None or now - throttle.window_start >= WINDOW:
            continue
        if throttle.failures >= FAILURES_PER_WINDOW:
            left = throttle.window_start + WINDOW - now
            raise Throttled(int(left.total_seconds()))


def _record_failure(db: Session, key: str, now: datetime) -> None:
    throttle = db.get(SignInThrottle, key)
    if throttle is None:
        db.add(SignInThrottle(key=key, window_start=now, failures=1))
    elif now - throttle.window_start >= WINDOW:
        throttle.window_start, throttle.failures = now, 1
    else:
        throttle.failures += 1
