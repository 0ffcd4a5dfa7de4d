from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest

from service.planning.model import Equipment, Preferences, Race, TimeOfDay, Window
from service.preferences import (
    PreferencesError,
    load_toml,
    parse_preferences,
    preferences_to_mapping,
)


def test_every_key_is_optional_and_defaults_come_from_the_training_rules() -> None:
    prefs = parse_preferences({})
    assert prefs == Preferences()
    assert prefs.windows(3) == (Window(time(6), time(21)),)


def test_a_full_preferences_file_is_read_into_typed_values(data_dir: Path) -> None:
    prefs = parse_preferences(load_toml(data_dir / "prefs" / "berlin_evenings.toml"))
    assert prefs.timezone == "Europe/Berlin"
    assert prefs.equipment == {Equipment.DUMBBELLS, Equipment.BANDS}
    assert prefs.preferred_time is TimeOfDay.EVENING
    assert (prefs.upper_body_per_week, prefs.long_run_day, prefs.hard_days) == (3, 6, {1})
    assert prefs.windows(5) == (Window(time(8), time(12)), Window(time(15), time(18)))
    assert prefs.run_times == {1: time(18, 30), 6: time(9)}
    assert prefs.race == Race(date(2027, 4, 11), 42.195)


def test_with_an_availability_table_a_missing_weekday_means_not_available() -> None:
    prefs = parse_preferences({"availability": {"monday": ["18:00-21:00"]}})
    assert prefs.windows(0) == (Window(time(18), time(21)),)
    assert prefs.windows(1) == ()


def test_stored_preferences_read_back_to_the_same_values(data_dir: Path) -> None:
    prefs = parse_preferences(load_toml(data_dir / "prefs" / "berlin_evenings.toml"))
    assert parse_preferences(preferences_to_mapping(prefs)) == prefs


def test_a_misspelt_key_is_named_instead_of_ignored(data_dir: Path) -> None:
    with pytest.raises(PreferencesError, match="equipement"):
        parse_preferences(load_toml(data_dir / "prefs" / "typo.toml"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"units": "furlongs"}, "units"),
        ({"equipment": ["kettlebell"]}, "equipment"),
        ({"upper_body_per_week": 5}, "upper_body_per_week"),
        ({"long_run_day": "someday"}, "long_run_day"),
        ({"availability": {"monday": ["21:00-18:00"]}}, "availability.monday"),
        ({"availability": {"monday": ["6pm"]}}, "availability.monday"),
        ({"race": {"date": "next spring"}}, "race"),
        ({"min_session_minutes": 50, "max_session_minutes": 20}, "min_session_minutes"),
    ],
)
def test_a_bad_value_is_refused_naming_its_key(data: dict[str, object], message: str) -> None:
    with pytest.raises(PreferencesError, match=message):
        parse_preferences(data)


def test_a_file_that_is_not_toml_is_refused_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "prefs.toml"
    bad.write_text("timezone = ", encoding="utf-8")
    with pytest.raises(PreferencesError, match="not valid TOML"):
        load_toml(bad)
