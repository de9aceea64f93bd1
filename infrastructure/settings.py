"""Configuration from the environment, validated once at start-up."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, PositiveInt, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from application.policy import Policy
from domain.accounts import DEFAULT_HOURLY_LIMIT, DEFAULT_IDEMPOTENCY_TTL
from domain.generations import DEFAULT_LEASE, DEFAULT_LEASE_ATTEMPTS, DEFAULT_PENDING_TTL
from domain.prompts import DEFAULT_BANNED_WORDS
from domain.queue import DEFAULT_CAPACITY

MIN_SECRET_LENGTH = 32
CLOUD_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


class SettingsError(Exception):
    """The environment holds a value the service cannot start with."""


class Settings(BaseSettings):
    """Every variable of the contract's Configuration section, and the store's pool sizes."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

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
    banned_words: str = ",".join(DEFAULT_BANNED_WORDS)
    idempotency_ttl_seconds: PositiveInt = int(DEFAULT_IDEMPOTENCY_TTL.total_seconds())
    lease_seconds: PositiveInt = int(DEFAULT_LEASE.total_seconds())
    lease_max_attempts: PositiveInt = DEFAULT_LEASE_ATTEMPTS
    pending_ttl_seconds: PositiveInt = int(DEFAULT_PENDING_TTL.total_seconds())
    generator: Literal["openai", "dry-run"] = "dry-run"
    openai_api_key: SecretStr | None = None
    openai_base_url: str = "https://api.openai.com/v1"
    projections_in_process: bool = True
    projections_wait_seconds: float = Field(2.0, ge=0, le=60)
    projections_batch_size: int = Field(1000, ge=1, le=100_000)
    projections_poll_seconds: float = Field(0.02, gt=0, le=60)
    sweep_interval_seconds: float = Field(5.0, gt=0, le=3_600)

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

    @field_validator("openai_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

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
        )


def _comma_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment (and `overrides`), or SettingsError naming each variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        problems = []
        for item in error.errors():
            variable = str(item["loc"][0]).upper() if item["loc"] else "configuration"
            problems.append(f"{variable}: {item['msg']}")
        raise SettingsError("Invalid configuration: " + "; ".join(problems)) from None
