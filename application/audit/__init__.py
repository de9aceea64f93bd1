"""The audit: replay the whole event log and prove every invariant (docs/audit.md)."""

from application.audit.replay import Replay
from application.audit.report import AuditReport, TokenTotals
from application.audit.session import AuditSession, ReplayObserver
from application.audit.use_cases import AuditUseCases
from application.audit.violations import Violation, Violations

__all__ = [
    "AuditReport",
    "AuditSession",
    "AuditUseCases",
    "Replay",
    "ReplayObserver",
    "TokenTotals",
    "Violation",
    "Violations",
]
