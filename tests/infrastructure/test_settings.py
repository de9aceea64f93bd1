"""Configuration: defaults from the contract, and a bad value names its variable."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from infrastructure.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "MAX_REQUESTS_PER_HOUR",
        "QUEUE_MAX_SIZE",
        "RATE_LIMIT_ENABLED",
        "AUTH_SECRET",
        "BANNED_WORDS",
        "CLOUDINARY_CLOUD_NAMES",
        "PERSISTENCE_MODULE",
        "DATA_DIR",
        "GENERATION_ENABLED",
        "MAX_REQUEST_BYTES",
        "IDEMPOTENCY_TTL_SECONDS",
    ):
        monkeypatch.delenv(name, raising=False)


def test_defaults_match_the_contract() -> None:
    settings = load_settings()
    policy = settings.policy()
    assert settings.persistence_module == "eventsourcing.sqlite"
    assert str(settings.sqlite_path) == "var/atelier.sqlite3"
    assert settings.max_request_bytes == 1024 * 1024
    assert (policy.hourly_limit, policy.queue_capacity) == (10, 50)
    assert policy.banned_words == ("explicit", "violent", "harmful")
    assert policy.cloud_names == frozenset()
    assert policy.idempotency_ttl == timedelta(days=1)
    assert (policy.lease, policy.pending_ttl) == (timedelta(seconds=600), timedelta(hours=1))
    assert policy.generation_enabled
    assert (settings.generator, settings.openai_image_model) == ("dry-run", "gpt-image-1")
    assert settings.cloudinary_delivery_url == "https://res.cloudinary.com"
    assert settings.cloudinary_url is None
    assert (settings.image_max_bytes, settings.worker_concurrency) == (20 * 1024 * 1024, 4)


def test_environment_values_are_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RATE_LIMIT_ENABLED", "false")
    monkeypatch.setenv("BANNED_WORDS", " nsfw , gore ,")
    monkeypatch.setenv("CLOUDINARY_CLOUD_NAMES", "demo,shop")
    monkeypatch.setenv("QUEUE_MAX_SIZE", "7")
    policy = load_settings().policy()
    assert policy.hourly_limit is None
    assert policy.banned_words == ("nsfw", "gore")
    assert policy.cloud_names == {"demo", "shop"}
    assert policy.queue_capacity == 7


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MAX_REQUESTS_PER_HOUR", "lots"),
        ("MAX_REQUESTS_PER_HOUR", "0"),
        ("QUEUE_MAX_SIZE", "-1"),
        ("RATE_LIMIT_ENABLED", "maybe"),
        ("PERSISTENCE_MODULE", "eventsourcing.mongodb"),
        ("MAX_REQUEST_BYTES", "1MB"),
        ("AUTH_SECRET", "short"),
        ("GENERATOR", "stable-diffusion"),
        ("OPENAI_BASE_URL", "ftp://x"),
        ("POSTGRES_PORT", "99999"),
        ("STREAM_KEEPALIVE_SECONDS", "16"),  # the contract: a comment at least every 15 s
        ("STREAM_KEEPALIVE_SECONDS", "0"),
        ("LIVE_POLL_SECONDS", "2"),  # changes must reach a waiter within 1 s
        ("CLOUDINARY_URL", "https://key:secret@cloud"),
        ("CLOUDINARY_URL", "cloudinary://only-a-cloud"),
        ("CLOUDINARY_DELIVERY_URL", "res.cloudinary.com"),
        ("IMAGE_MAX_BYTES", "0"),
        ("WORKER_CONCURRENCY", "0"),
        ("WORKER_CONCURRENCY", "many"),
        ("OPENAI_IMAGE_MODEL", ""),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        load_settings()


def test_a_data_dir_that_is_a_file_stops_start_up(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("x")
    monkeypatch.setenv("DATA_DIR", str(not_a_directory))
    with pytest.raises(SettingsError, match="DATA_DIR"):
        load_settings()


@pytest.mark.parametrize("value", ["bad/name", "demo,sp ace", "caf\u00e9"])
def test_cloud_names_that_no_url_could_carry_stop_start_up(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CLOUDINARY_CLOUD_NAMES", value)
    with pytest.raises(SettingsError, match="CLOUDINARY_CLOUD_NAMES"):
        load_settings()


def test_the_memory_store_is_not_a_server_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERSISTENCE_MODULE", "eventsourcing.popo")
    with pytest.raises(SettingsError, match="PERSISTENCE_MODULE"):
        load_settings()


def test_a_bad_cloudinary_url_is_named_without_its_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDINARY_URL", "https://key:top-secret-value@cloud")
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert "CLOUDINARY_URL" in str(refused.value)
    assert "top-secret-value" not in str(refused.value)
