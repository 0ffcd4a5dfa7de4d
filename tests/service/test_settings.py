from __future__ import annotations

import base64
from pathlib import Path

import pytest

from service.settings import Settings, SettingsError


def test_defaults_put_a_sqlite_database_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings.from_env({"RUNSTRENGTH_DATA_DIR": str(tmp_path)})
    assert settings.data_dir == tmp_path
    assert settings.database_url == f"sqlite:///{tmp_path / 'runstrength.db'}"
    assert settings.queue_url == ""


def test_without_a_data_dir_the_platform_user_data_dir_is_used() -> None:
    settings = Settings.from_env({})
    assert "runstrength" in str(settings.data_dir)


def test_postgres_urls_are_pinned_to_psycopg_3() -> None:
    settings = Settings.from_env({"RUNSTRENGTH_DATABASE_URL": "postgresql://u@h:5432/db"})
    assert settings.database_url == "postgresql+psycopg://u@h:5432/db"


def test_overrides_win_over_the_environment(tmp_path: Path) -> None:
    env = {"RUNSTRENGTH_DATA_DIR": "/nowhere", "RUNSTRENGTH_BASE_URL": "https://a.example"}
    settings = Settings.from_env(env, overrides={"data_dir": str(tmp_path)})
    assert settings.data_dir == tmp_path
    assert settings.base_url == "https://a.example"


def test_encryption_keys_are_a_comma_separated_list_newest_first() -> None:
    keys = [base64.urlsafe_b64encode(bytes([i]) * 32).decode() for i in (1, 2)]
    settings = Settings.from_env({"RUNSTRENGTH_ENCRYPTION_KEYS": f"{keys[0]}, {keys[1]}"})
    assert settings.encryption_keys == tuple(keys)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("RUNSTRENGTH_DATABASE_URL", "mysql://x/y", "RUNSTRENGTH_DATABASE_URL"),
        ("RUNSTRENGTH_ENCRYPTION_KEYS", "not-a-key", "Fernet key"),
        ("RUNSTRENGTH_BASE_URL", "ftp://host", "RUNSTRENGTH_BASE_URL"),
        ("RUNSTRENGTH_STRAVA_API_ROOT", "localhost:9000", "RUNSTRENGTH_STRAVA_API_ROOT"),
        ("RUNSTRENGTH_QUEUE_URL", "amqp://host", "RUNSTRENGTH_QUEUE_URL"),
        ("RUNSTRENGTH_STRAVA_READ_LIMIT_15MIN", "lots", "RUNSTRENGTH_STRAVA_READ_LIMIT_15MIN"),
        ("RUNSTRENGTH_STRAVA_READ_LIMIT_DAY", "0", "RUNSTRENGTH_STRAVA_READ_LIMIT_DAY"),
    ],
)
def test_a_bad_value_is_refused_with_a_message_naming_the_variable(
    variable: str, value: str, message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({variable: value})


def test_strava_read_limits_default_to_a_new_app_s_and_can_be_raised() -> None:
    assert Settings.from_env({}).strava_read_limit_15min == 100
    assert Settings.from_env({}).strava_read_limit_day == 1000
    raised = Settings.from_env(
        {"RUNSTRENGTH_STRAVA_READ_LIMIT_15MIN": "300", "RUNSTRENGTH_STRAVA_READ_LIMIT_DAY": "3000"}
    )
    assert (raised.strava_read_limit_15min, raised.strava_read_limit_day) == (300, 3000)
    empty = Settings.from_env({"RUNSTRENGTH_STRAVA_READ_LIMIT_DAY": ""})  # an env file's blank
    assert empty.strava_read_limit_day == 1000


def test_a_bad_key_never_appears_in_the_error_message() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"RUNSTRENGTH_ENCRYPTION_KEYS": "s3cret-value"})
    assert "s3cret-value" not in str(caught.value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), ("On", True), ("0", False), ("", False), ("no", False)],
)
def test_single_runner_mode_is_a_yes_no_switch(raw: str, expected: bool) -> None:
    settings = Settings.from_env({"RUNSTRENGTH_SINGLE_RUNNER": raw})
    assert settings.single_runner is expected


def test_single_runner_mode_is_off_unless_asked_for() -> None:
    assert Settings.from_env({}).single_runner is False
    with pytest.raises(SettingsError, match="RUNSTRENGTH_SINGLE_RUNNER"):
        Settings.from_env({"RUNSTRENGTH_SINGLE_RUNNER": "maybe"})
