"""The audit as `atelier audit` runs it: the log read by a child while the replay checks."""

from __future__ import annotations

from collections.abc import Callable

import orjson

from application.audit.reading import JsonParser
from application.audit.registry import VIEWS
from application.audit.report import AuditReport
from application.service import Atelier
from infrastructure.audit.checks import CHECKS
from infrastructure.audit.checks.generation_rows import GenerationRows, GenerationRowsCheck
from infrastructure.audit.checks.view_check import ViewCheck
from infrastructure.audit.log_reader import LogInChild, collector_paused
from infrastructure.bootstrap import build_read_models
from infrastructure.settings import Settings

parse_json: JsonParser = orjson.loads  # what it refuses goes through the application's mapper


def audit_in_parallel(
    settings: Settings, atelier: Atelier, progress: Callable[[int], None] | None = None
) -> AuditReport:
    """Every invariant and every read model, the log read by a child, the collector paused."""
    with collector_paused(), LogInChild(settings, atelier.recorder) as read_log:
        return atelier.audit(
            observers=view_checks(settings, atelier),
            progress=progress,
            parse_json=parse_json,
            read_log=read_log,
        )


def view_checks(settings: Settings, atelier: Atelier) -> list[ViewCheck]:
    """One check per read model in VIEWS (none on a memory store)."""
    models = build_read_models(settings, atelier)
    if models is None:
        return []
    rows = GenerationRows()  # followed once for the two read models made of generations' rows
    checks: list[ViewCheck] = []
    for name, view in models.views.items():
        if name in VIEWS:  # else outside the audit (registry.py)
            check = CHECKS[name]
            if issubclass(check, GenerationRowsCheck):
                checks.append(check(atelier, view, rows))
            else:
                checks.append(check(atelier, view))
    return checks
