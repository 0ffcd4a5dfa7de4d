"""Account forms: fields, limits and messages shown next to each field (CSRF token included)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from service.usecases.accounts import MAX_PASSWORD, MIN_PASSWORD


class SignUpForm(FlaskForm):
    """A new account: email, password twice, and the zone the browser reports."""

    email = EmailField("Email", validators=[DataRequired("enter your email"), Length(max=254)])
    password = PasswordField(
        "Password",
        validators=[
            DataRequired("choose a password"),
            Length(MIN_PASSWORD, MAX_PASSWORD, f"use at least {MIN_PASSWORD} characters"),
        ],
    )
    confirm = PasswordField(
        "Password again", validators=[EqualTo("password", "the two passwords differ")]
    )
    timezone = HiddenField()


class SignInForm(FlaskForm):
    """Email and password."""

    email = EmailField("Email", validators=[DataRequired("enter your email"), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired("enter your password")])
    next = HiddenField()


class PasswordForm(FlaskForm):
    """The current password, and a new one twice."""

    current = PasswordField("Current password", validators=[DataRequired("enter it")])
    new = PasswordField(
        "New password",
        validators=[
            DataRequired("choose a new password"),
            Length(MIN_PASSWORD, MAX_PASSWORD, f"use at least {MIN_PASSWORD} characters"),
        ],
    )
    confirm = PasswordField("New password again", validators=[EqualTo("new", "they differ")])


class ConfirmForm(FlaskForm):
    """A form that is only its CSRF token: sign out, rotate, skip and other single buttons."""


class NameForm(FlaskForm):
    """One name (an API token's)."""

    name = StringField("Name", validators=[DataRequired("give it a name"), Length(max=100)])
