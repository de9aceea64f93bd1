"""The audit as `atelier audit` runs it: three processes on the one history."""

from __future__ import annotations

from collections.abc import Callable

import orjson

from application.audit.reading import JsonParser
from application.audit.report import AuditReport
from application.service import Atelier
from infrastructure.audit.log_reader import LogInChild
from infrastructure.audit.read_models import view_checks_in_child
from infrastructure.settings import Settings

parse_json: JsonParser = orjson.loads  # what it refuses goes through the application's mapper


def audit_in_parallel(
    settings: Settings, atelier: Atelier, progress: Callable[[int], None] | None = None
) -> AuditReport:
    """Every invariant and every read model, the log and the read models read by children."""
    with (
        LogInChild(settings, atelier.recorder) as read_log,
        view_checks_in_child(settings, atelier) as checks,
    ):
        return atelier.audit(
            observers=checks, progress=progress, parse_json=parse_json, read_log=read_log
        )
