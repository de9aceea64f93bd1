"""The audit: replay the whole event log and prove every invariant (docs/audit.md)."""

from application.audit.session import AuditUseCases

__all__ = ["AuditUseCases"]
