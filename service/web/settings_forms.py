"""The preferences form (onboarding and settings) and the delete confirmation, with their mapping.

The form only collects text; ``service.preferences`` checks it, so the web, the API and the TOML
file accept exactly the same values. Errors come back by key path and land next to their field.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    Field,
    FloatField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs lag 3.3
from wtforms.validators import NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from service.preferences import WEEKDAYS
from service.usecases.runner_data import PreferenceDraft

DAY_CHOICES = [SelectChoice(day, day.capitalize()) for day in WEEKDAYS]
# Before work and after it on weekdays, most of the day at the weekend: easy to trim.
SUGGESTED_WINDOWS = dict.fromkeys(WEEKDAYS[:5], "06:00-08:00, 18:00-21:00") | {
    "saturday": "08:00-18:00",
    "sunday": "08:00-18:00",
}
ALL_DAY = "06:00-21:00"  # what no availability table means
DASHES = str.maketrans({"\N{EN DASH}": "-", "\N{EM DASH}": "-"})


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of checkboxes (works without JavaScript)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _availability_field(day: str) -> StringField:
    return StringField(day.capitalize(), render_kw={"inputmode": "text", "autocomplete": "off"})


class PreferencesForm(FlaskForm):
    """Everything the plan needs to know about the runner's week."""

    timezone = StringField(
        "Time zone", render_kw={"data-browser-timezone": "", "autocomplete": "off"}
    )
    units = RadioField(
        "Units",
        choices=[SelectChoice("km", "Kilometres"), SelectChoice("mi", "Miles")],
        default="km",
    )
    week_start = SelectField("Week starts on", choices=DAY_CHOICES, default="monday")
    equipment = CheckboxesField(
        "Equipment",
        choices=[
            SelectChoice("gym", "Gym"),
            SelectChoice("dumbbells", "Dumbbells"),
            SelectChoice("bands", "Resistance bands"),
            SelectChoice("none", "None (body weight)"),
        ],
    )
    avail_monday = _availability_field("monday")
    avail_tuesday = _availability_field("tuesday")
    avail_wednesday = _availability_field("wednesday")
    avail_thursday = _availability_field("thursday")
    avail_friday = _availability_field("friday")
    avail_saturday = _availability_field("saturday")
    avail_sunday = _availability_field("sunday")
    preferred_time = RadioField(
        "Preferred time of day",
        choices=[
            SelectChoice("morning", "Morning"),
            SelectChoice("midday", "Midday"),
            SelectChoice("evening", "Evening"),
        ],
        default="evening",
    )
    long_run_day = SelectField(
        "Long-run day",
        choices=[SelectChoice("", "Work it out from my runs"), *DAY_CHOICES],
        default="",
    )
    hard_days = CheckboxesField("Hard running days", choices=DAY_CHOICES)
    race_date = DateField("Next race: date", validators=[Optional()])
    race_distance = FloatField(
        "Next race: distance in km",
        validators=[Optional(), NumberRange(0.1, 500, "enter a distance from 0.1 to 500 km")],
        render_kw={"step": "any", "inputmode": "decimal"},
    )

    def availability_fields(self) -> list[tuple[str, Field]]:
        """(weekday, field) for each day of the week, Monday first."""
        return [(day, self[f"avail_{day}"]) for day in WEEKDAYS]

    def validate(self, extra_validators: Any = None) -> bool:
        """The field checks, then a race needs both its date and its distance."""
        valid = bool(super().validate(extra_validators))
        date_field, distance = self.race_date, self.race_distance
        if date_field.errors or distance.errors:
            return False
        if date_field.data is not None and distance.data is None:
            distance.errors = ["enter the race distance (42.195 for a marathon)"]
        elif date_field.data is None and distance.data is not None:
            date_field.errors = ["enter the race date, or clear the distance"]
        else:
            return valid
        return False


def initial_data(draft: PreferenceDraft, *, suggest: bool) -> dict[str, Any]:
    """The form's starting values; ``suggest`` fills gaps from the runs and the usual week."""
    stored = draft.stored
    fresh = not draft.onboarded
    availability = stored.get("availability")
    data: dict[str, Any] = {
        "timezone": "" if fresh and suggest else stored["timezone"],
        "units": stored["units"],
        "week_start": stored["week_start"],
        "equipment": stored["equipment"],
        "preferred_time": stored["preferred_time"],
        "long_run_day": stored.get("long_run_day") or (draft.long_run_day if suggest else ""),
        "hard_days": stored.get("hard_days") or (list(draft.hard_days) if suggest else []),
    }
    for day in WEEKDAYS:
        if availability is not None:
            text = ", ".join(availability.get(day, []))
        else:
            text = SUGGESTED_WINDOWS[day] if fresh else ALL_DAY
        data[f"avail_{day}"] = text
    race = stored.get("race")
    if race:
        data["race_date"] = date.fromisoformat(race["date"])
        data["race_distance"] = race["distance_km"]
    return data


def preference_changes(form: PreferencesForm, current_zone: str) -> dict[str, Any]:
    """The form's values in the preferences file's shape; None resets a key to its default."""
    availability: dict[str, list[str]] = {}
    for day, field in form.availability_fields():
        text = (field.data or "").translate(DASHES)
        windows = [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
        if windows:
            availability[day] = windows
    race = None
    if form.race_date.data is not None and form.race_distance.data is not None:
        race = {"date": form.race_date.data.isoformat(), "distance_km": form.race_distance.data}
    return {
        "timezone": (form.timezone.data or "").strip() or current_zone,
        "units": form.units.data,
        "week_start": form.week_start.data,
        "equipment": form.equipment.data or ["none"],
        "preferred_time": form.preferred_time.data,
        "availability": availability,
        "long_run_day": form.long_run_day.data or None,
        "hard_days": form.hard_days.data or None,
        "race": race,
    }


def show_problems(form: PreferencesForm, problems: Mapping[str, str]) -> list[str]:
    """Put each problem next to its field; returns those that belong to no field on the form."""
    left = []
    for path, what in problems.items():
        name = _field_name(path)
        if name in form:
            if not form[name].errors:  # the form's own message already says what is wrong
                form[name].errors = [what]
        else:
            left.append(f"{path}: {what}")
    return left


def _field_name(path: str) -> str:
    key, _, rest = path.partition(".")
    if key == "availability":
        return f"avail_{rest}" if rest in WEEKDAYS else "avail_monday"
    if key == "race":
        return "race_distance" if rest == "distance_km" else "race_date"
    return key


class DeleteForm(FlaskForm):
    """Typing the account's email (or DELETE) confirms that everything goes."""

    confirm = StringField("Type to confirm", render_kw={"autocomplete": "off"})
