"""Image generators, the adapters of the application's ImageGenerator port."""

from __future__ import annotations

from application.ports import ImageGenerator
from infrastructure.generators.cloudinary_results import CloudinaryAccount, CloudinaryResults
from infrastructure.generators.downloads import ImageDownloader
from infrastructure.generators.dry_run import DryRunGenerator
from infrastructure.generators.openai import OpenAIImageGenerator
from infrastructure.settings import Settings, SettingsError


def build_generator(settings: Settings) -> ImageGenerator:
    """The generator GENERATOR names; SettingsError when its configuration is incomplete."""
    if settings.generator == "dry-run":
        return DryRunGenerator()
    if settings.openai_api_key is None or not settings.openai_api_key.get_secret_value():
        raise SettingsError("Invalid configuration: OPENAI_API_KEY: required when GENERATOR=openai")
    if settings.cloudinary_url is None or not settings.cloudinary_url.get_secret_value():
        raise SettingsError(
            "Invalid configuration: CLOUDINARY_URL: required when GENERATOR=openai "
            "(results are stored on Cloudinary)"
        )
    account = CloudinaryAccount.from_url(settings.cloudinary_url.get_secret_value())
    return OpenAIImageGenerator(
        settings.openai_api_key.get_secret_value(),
        base_url=settings.openai_base_url,
        model=settings.openai_image_model,
        downloader=ImageDownloader(
            settings.cloudinary_delivery_url, settings.image_max_bytes, settings.cloud_names
        ),
        results=CloudinaryResults(account),
    )
