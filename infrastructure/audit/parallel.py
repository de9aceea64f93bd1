"""The audit as `atelier audit` runs it: three processes on the one history.

The audit's own process replays the log and checks every invariant and read model; a child
reads the log ahead of it (log_reader.py) and another reads the read models (snapshots.py).
Either child failing leaves its work to the audit's own process: the report is the same,
only slower.
"""

from __future__ import annotations

from collections.abc import Callable

from application.audit.report import AuditReport
from application.service import Atelier
from infrastructure.audit.json_parser import parse_json
from infrastructure.audit.log_reader import LogInChild
from infrastructure.audit.projections import view_checks_in_child
from infrastructure.settings import Settings


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
