"""The secret that signs bearer tokens: AUTH_SECRET, or a development secret in DATA_DIR."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from infrastructure.settings import Settings

logger = logging.getLogger(__name__)

DEV_SECRET_FILE = "auth-secret"  # noqa: S105 - a file name, not a secret


def auth_secret(settings: Settings, warn: bool = False) -> str:
    """AUTH_SECRET if set; otherwise the data directory's development secret, made once. The
    warning is given when it is made, and when `warn` asks (once, as `atelier serve` starts)."""
    if settings.auth_secret is not None:
        return settings.auth_secret.get_secret_value()
    path = settings.data_dir / DEV_SECRET_FILE
    if not path.exists():
        _create_secret_file(path)
        warn = True
    if warn:
        _warn_of(path)
    return path.read_text().strip()


def _warn_of(path: Path) -> None:
    logger.warning(
        "AUTH_SECRET is not set: using the development secret in %s. Set AUTH_SECRET in "
        "production.",
        path,
    )


def _create_secret_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(secrets.token_hex(32))
    try:
        os.link(aside, path)
    except FileExistsError:
        pass  # another process won the race; its secret is the one
    finally:
        aside.unlink()
