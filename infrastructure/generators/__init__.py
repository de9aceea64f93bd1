"""Image generators, the adapters of the application's ImageGenerator port."""

from __future__ import annotations

from application.ports import ImageGenerator
from infrastructure.generators.dry_run import DryRunGenerator
from infrastructure.generators.openai import OpenAIImageGenerator
from infrastructure.settings import Settings, SettingsError


def build_generator(settings: Settings) -> ImageGenerator:
    """The generator GENERATOR names; SettingsError when its configuration is incomplete."""
    if settings.generator == "dry-run":
        return DryRunGenerator()
    if settings.openai_api_key is None or not settings.openai_api_key.get_secret_value():
        raise SettingsError("Invalid configuration: OPENAI_API_KEY: required when GENERATOR=openai")
    return OpenAIImageGenerator(
        settings.openai_api_key.get_secret_value(), base_url=settings.openai_base_url
    )
