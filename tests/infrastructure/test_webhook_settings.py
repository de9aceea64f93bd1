"""The WEBHOOK_* settings: the contract's defaults, and a bad value names its variable."""

from __future__ import annotations

import pytest

from infrastructure.settings import SettingsError, load_settings

NAMES = ("WEBHOOK_ALLOW_PRIVATE", "WEBHOOK_TIMEOUT_SECONDS", "WEBHOOK_RETRY_SCHEDULE")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)


def test_defaults_match_the_contract() -> None:
    settings = load_settings()
    assert settings.webhook_allow_private is False
    assert settings.webhook_timeout_seconds == 10
    assert settings.retry_schedule == (5, 300, 1800, 7200, 18000, 36000)
    assert settings.policy().webhook_retry_schedule == settings.retry_schedule


def test_a_schedule_is_read_as_seconds_and_may_be_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_RETRY_SCHEDULE", " 1, 2 ,30")
    assert load_settings().retry_schedule == (1, 2, 30)
    monkeypatch.setenv("WEBHOOK_RETRY_SCHEDULE", "")
    assert load_settings().retry_schedule == ()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WEBHOOK_RETRY_SCHEDULE", "5,soon"),
        ("WEBHOOK_RETRY_SCHEDULE", "-5"),
        ("WEBHOOK_RETRY_SCHEDULE", "1.5"),
        ("WEBHOOK_RETRY_SCHEDULE", "99999999"),
        ("WEBHOOK_TIMEOUT_SECONDS", "0"),
        ("WEBHOOK_TIMEOUT_SECONDS", "ten"),
        ("WEBHOOK_ALLOW_PRIVATE", "maybe"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        load_settings()
