"""The audit: replay the whole event log and prove every invariant of accounts and generations."""

from application.audit.replay import Replay, ReplayObserver
from application.audit.report import AuditReport, TokenTotals
from application.audit.use_cases import AuditSession, AuditUseCases
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
