"""Accounts on both databases: sign up, sign in with throttling, password changes end sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from service.app import Runtime
from service.models import Account, Runner
from service.usecases import accounts
from service.usecases.accounts import (
    FAILURES_PER_WINDOW,
    WINDOW,
    Throttled,
    WrongPassword,
    change_password,
    sign_in,
    sign_up,
    still_valid,
)
from service.usecases.runners import InvalidValue

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


def _sign_up(rt: Runtime, email: str = "Runner@Example.com") -> accounts.SignedIn:
    with rt.db.session() as db:
        return sign_up(db, email, PASSWORD, timezone="Europe/Berlin")


def _sign_in(
    rt: Runtime, password: str, *, email: str = "runner@example.com", at: datetime = NOW
) -> accounts.SignedIn | None:
    with rt.db.session() as db:
        return sign_in(db, email, password, "192.0.2.1", at)


def test_signing_up_creates_a_runner_of_ones_own_and_stores_no_password(rt: Runtime) -> None:
    first, second = _sign_up(rt), _sign_up(rt, "other@example.com")
    assert first.runner_id != second.runner_id
    with rt.db.session() as db:
        account = db.scalars(select(Account).where(Account.id == first.account_id)).one()
        assert account.email == "runner@example.com"
        assert PASSWORD not in account.password_hash
        assert account.password_hash.startswith("$argon2id$")
        assert db.get_one(Runner, first.runner_id).timezone == "Europe/Berlin"


def test_an_email_can_hold_only_one_account_whatever_its_case(rt: Runtime) -> None:
    _sign_up(rt)
    with pytest.raises(InvalidValue, match="sign in instead"):
        _sign_up(rt, "  RUNNER@example.COM ")


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("not-an-email", PASSWORD, "email address"),
        ("runner@example.com", "short", "at least 10"),
        ("runner@example.com", "x" * 2000, "at most"),
    ],
)
def test_bad_sign_ups_are_refused_with_a_reason(
    rt: Runtime, email: str, password: str, message: str
) -> None:
    with rt.db.session() as db, pytest.raises(InvalidValue, match=message):
        sign_up(db, email, password)


def test_the_right_password_signs_in_and_a_wrong_one_does_not(rt: Runtime) -> None:
    made = _sign_up(rt)
    assert _sign_in(rt, PASSWORD, email=" Runner@Example.com") == made
    assert _sign_in(rt, "wrong password!") is None
    assert _sign_in(rt, PASSWORD, email="nobody@example.com") is None


def test_repeated_failures_lock_sign_in_for_the_window_even_with_the_right_password(
    rt: Runtime,
) -> None:
    _sign_up(rt)
    for _ in range(FAILURES_PER_WINDOW):
        assert _sign_in(rt, "wrong password!") is None
    with pytest.raises(Throttled) as refused:
        _sign_in(rt, PASSWORD, at=NOW + timedelta(minutes=1))
    assert 0 < refused.value.retry_after_s <= WINDOW.total_seconds()
    assert _sign_in(rt, PASSWORD, at=NOW + WINDOW) is not None


def test_a_success_clears_earlier_failures(rt: Runtime) -> None:
    _sign_up(rt)
    for _ in range(FAILURES_PER_WINDOW - 1):
        _sign_in(rt, "wrong password!")
    assert _sign_in(rt, PASSWORD) is not None
    for _ in range(FAILURES_PER_WINDOW - 1):
        _sign_in(rt, "wrong password!")
    assert _sign_in(rt, PASSWORD) is not None


def test_changing_the_password_ends_every_other_session(rt: Runtime) -> None:
    old = _sign_up(rt)
    with rt.db.session() as db, pytest.raises(WrongPassword):
        change_password(db, old.account_id, "not the password", "a new password here")
    with rt.db.session() as db:
        new = change_password(db, old.account_id, PASSWORD, "a new password here")
    with rt.db.session() as db:
        assert still_valid(db, new)
        assert not still_valid(db, old)
    assert _sign_in(rt, PASSWORD) is None
    assert _sign_in(rt, "a new password here") == new


def test_deleting_the_runner_deletes_the_account(rt: Runtime) -> None:
    made = _sign_up(rt)
    with rt.db.session() as db:
        db.delete(db.get_one(Runner, made.runner_id))
    with rt.db.session() as db:
        assert db.get(Account, made.account_id) is None
        assert not still_valid(db, made)
