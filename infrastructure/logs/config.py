"""The logging configuration of every `atelier` command, and of each `atelier serve` worker
(uvicorn applies it in each process it starts)."""

from __future__ import annotations

import logging.config
from typing import Any

from infrastructure.settings import LogSettings

REQUEST_LOGGER = "atelier.access"  # the one line per request (infrastructure/logs/request_log.py)


def logging_config(settings: LogSettings, request_lines: bool = True) -> dict[str, Any]:
    """A `logging.config.dictConfig` dict: the root logger, uvicorn's loggers included, write
    through our formatter to stderr at LOG_LEVEL; `request_lines` off drops the request lines."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "atelier": {
                "()": "infrastructure.logs.formatter.log_formatter",
                "log_format": settings.log_format,
            }
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "atelier",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": settings.log_level},
        "loggers": {
            # uvicorn's own handlers and formats give way to ours; its access line to ours.
            "uvicorn": {"handlers": [], "propagate": True, "level": "NOTSET"},
            "uvicorn.error": {"handlers": [], "propagate": True, "level": "NOTSET"},
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
            REQUEST_LOGGER: {"level": "NOTSET" if request_lines else "CRITICAL"},
        },
    }


def configure_logging(settings: LogSettings, request_lines: bool = True) -> None:
    logging.config.dictConfig(logging_config(settings, request_lines))
