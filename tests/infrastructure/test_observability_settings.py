"""LOG_FORMAT, LOG_LEVEL, METRICS_TOKEN and METRICS_ENABLED: the contract's defaults, and a bad
value names its variable."""

from __future__ import annotations

import pytest

from infrastructure.settings import SettingsError, load_log_settings, load_settings

VARIABLES = ("LOG_FORMAT", "LOG_LEVEL", "METRICS_TOKEN", "METRICS_ENABLED")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_defaults_are_text_logs_at_info_and_open_metrics() -> None:
    settings = load_settings()
    assert (settings.log_format, settings.log_level) == ("text", "INFO")
    assert settings.metrics_token is None and settings.metrics_enabled


def test_values_are_read_whatever_their_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_FORMAT", "JSON")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    logs = load_log_settings()
    assert (logs.log_format, logs.log_level) == ("json", "DEBUG")


def test_an_empty_metrics_token_leaves_metrics_open(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("METRICS_TOKEN", "")
    assert load_settings().metrics_token is None
    monkeypatch.setenv("METRICS_TOKEN", "scrape-me")
    token = load_settings().metrics_token
    assert token is not None and token.get_secret_value() == "scrape-me"
    assert "scrape-me" not in repr(load_settings())


@pytest.mark.parametrize(
    ("variable", "bad"),
    [("LOG_FORMAT", "xml"), ("LOG_LEVEL", "loud"), ("METRICS_ENABLED", "perhaps")],
)
def test_a_bad_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, bad: str
) -> None:
    monkeypatch.setenv(variable, bad)
    with pytest.raises(SettingsError, match=variable):
        load_settings()
    if variable.startswith("LOG_"):
        with pytest.raises(SettingsError, match=variable):
            load_log_settings()
