"""Configuration from the environment, validated once at start-up."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, PositiveInt, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from application.policy import Policy
from domain.accounts import DEFAULT_HOURLY_LIMIT, DEFAULT_IDEMPOTENCY_TTL
from domain.generations import DEFAULT_LEASE, DEFAULT_LEASE_ATTEMPTS, DEFAULT_PENDING_TTL
from domain.prompts import DEFAULT_BANNED_WORDS
from domain.queue import DEFAULT_CAPACITY
from domain.webhook_messages import DEFAULT_RETRY_SCHEDULE

MIN_SECRET_LENGTH = 32
MAX_RETRY_DELAY = 30 * 24 * 3600  # a month
DELAY = re.compile(r"^[0-9]{1,8}$")
CLOUD_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
LogFormat = Literal["json", "text"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class SettingsError(Exception):
    """The environment holds a value the service cannot start with."""


class LogSettings(BaseSettings):
    """LOG_FORMAT and LOG_LEVEL: read first, by every command, before anything logs."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    log_format: LogFormat = "text"
    log_level: LogLevel = "INFO"

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value


class Settings(LogSettings):
    """Every variable of the contract's Configuration section, and the store's pool sizes."""

    data_dir: Path = Path("./var")
    persistence_module: Literal["eventsourcing.sqlite", "eventsourcing.postgres"] = (
        "eventsourcing.sqlite"
    )
    postgres_dbname: str = "atelier"
    postgres_host: str = "127.0.0.1"
    postgres_port: int = Field(5432, ge=1, le=65535)
    postgres_user: str = "postgres"
    postgres_password: SecretStr = SecretStr("")
    postgres_schema: str = Field("public", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    postgres_pool_size: PositiveInt = 5
    postgres_max_overflow: int = Field(10, ge=0)
    postgres_connect_timeout: PositiveInt = 10
    aggregate_cache_size: PositiveInt = 10_000

    auth_secret: SecretStr | None = None
    max_requests_per_hour: PositiveInt = DEFAULT_HOURLY_LIMIT
    rate_limit_enabled: bool = True
    queue_max_size: PositiveInt = DEFAULT_CAPACITY
    generation_enabled: bool = True
    verify_image_urls: bool = False
    cloudinary_cloud_names: str = ""
    max_request_bytes: PositiveInt = 1024 * 1024
    request_timeout_seconds: float = Field(30.0, gt=0, le=3_600)
    request_threads: int = Field(4, ge=1, le=256)  # run the requests' store calls
    banned_words: str = ",".join(DEFAULT_BANNED_WORDS)
    idempotency_ttl_seconds: PositiveInt = int(DEFAULT_IDEMPOTENCY_TTL.total_seconds())
    lease_seconds: PositiveInt = int(DEFAULT_LEASE.total_seconds())
    lease_max_attempts: PositiveInt = DEFAULT_LEASE_ATTEMPTS
    pending_ttl_seconds: PositiveInt = int(DEFAULT_PENDING_TTL.total_seconds())
    generator: Literal["openai", "dry-run"] = "dry-run"
    openai_api_key: SecretStr | None = None
    openai_base_url: str = "https://api.openai.com/v1"
    openai_image_model: str = Field("gpt-image-1", min_length=1, max_length=100)
    cloudinary_url: SecretStr | None = None
    cloudinary_delivery_url: str = "https://res.cloudinary.com"
    image_max_bytes: PositiveInt = 20 * 1024 * 1024
    worker_concurrency: int = Field(4, ge=1, le=64)
    projections_in_process: bool = True
    projections_wait_seconds: float = Field(2.0, ge=0, le=60)
    projections_batch_size: int = Field(1000, ge=1, le=100_000)
    projections_poll_seconds: float = Field(0.02, gt=0, le=60)
    sweep_interval_seconds: float = Field(5.0, gt=0, le=3_600)
    stream_keepalive_seconds: float = Field(15.0, gt=0, le=15)  # a stream's longest silence
    live_poll_seconds: float = Field(0.2, gt=0, le=0.5)  # reads of the log head, while waited on
    metrics_token: SecretStr | None = None
    metrics_enabled: bool = True

    @field_validator("metrics_token")
    @classmethod
    def _empty_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        return None if value is None or not value.get_secret_value() else value

    webhook_allow_private: bool = False
    webhook_timeout_seconds: float = Field(10.0, gt=0, le=600)
    webhook_retry_schedule: str = ",".join(map(str, DEFAULT_RETRY_SCHEDULE))

    @field_validator("auth_secret")
    @classmethod
    def _secret_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(f"must be at least {MIN_SECRET_LENGTH} characters")
        return value

    @field_validator("data_dir")
    @classmethod
    def _a_directory(cls, value: Path) -> Path:
        if value.exists() and not value.is_dir():
            raise ValueError(f"{value} exists and is not a directory")
        return value

    @field_validator("cloudinary_cloud_names")
    @classmethod
    def _cloud_names(cls, value: str) -> str:
        bad = [name for name in _comma_list(value) if not CLOUD_NAME.match(name)]
        if bad:
            raise ValueError("not Cloudinary cloud names: " + ", ".join(bad))
        return value

    @field_validator("cloudinary_url")
    @classmethod
    def _cloudinary_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value():
            parts = urlsplit(value.get_secret_value())
            if parts.scheme != "cloudinary" or not (
                parts.username and parts.password and parts.hostname
            ):
                raise ValueError("must be cloudinary://KEY:SECRET@CLOUD")
        return value

    @field_validator("openai_base_url", "cloudinary_delivery_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _delays(cls, value: str) -> str:
        delays = _comma_list(value)
        if any(not DELAY.match(delay) or int(delay) > MAX_RETRY_DELAY for delay in delays):
            raise ValueError(f"must be a comma list of whole seconds up to {MAX_RETRY_DELAY}")
        return value

    @property
    def retry_schedule(self) -> tuple[int, ...]:
        return tuple(int(delay) for delay in _comma_list(self.webhook_retry_schedule))

    @property
    def cloud_names(self) -> frozenset[str]:
        return frozenset(_comma_list(self.cloudinary_cloud_names))

    @property
    def banned_word_list(self) -> tuple[str, ...]:
        return tuple(_comma_list(self.banned_words))

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "atelier.sqlite3"

    def policy(self) -> Policy:
        """The limits the use cases enforce."""
        return Policy(
            hourly_limit=self.max_requests_per_hour if self.rate_limit_enabled else None,
            queue_capacity=self.queue_max_size,
            banned_words=self.banned_word_list,
            cloud_names=self.cloud_names,
            generation_enabled=self.generation_enabled,
            idempotency_ttl=timedelta(seconds=self.idempotency_ttl_seconds),
            lease=timedelta(seconds=self.lease_seconds),
            lease_max_attempts=self.lease_max_attempts,
            pending_ttl=timedelta(seconds=self.pending_ttl_seconds),
            webhook_retry_schedule=self.retry_schedule,
        )


def _comma_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment (and `overrides`), or SettingsError naming each variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise _settings_error(error) from None


def load_log_settings() -> LogSettings:
    """LOG_FORMAT and LOG_LEVEL alone, or SettingsError naming the variable."""
    try:
        return LogSettings()
    except ValidationError as error:
        raise _settings_error(error) from None


def _settings_error(error: ValidationError) -> SettingsError:
    problems = []
    for item in error.errors():
        variable = str(item["loc"][0]).upper() if item["loc"] else "configuration"
        problems.append(f"{variable}: {item['msg']}")
    return SettingsError("Invalid configuration: " + "; ".join(problems))
