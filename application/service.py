"""The Atelier application: every use case, over one event store."""

from __future__ import annotations

from application.accounts import AccountUseCases
from application.audit import AuditUseCases
from application.history import HistoryUseCases
from application.lifecycle import LifecycleUseCases
from application.submissions import SubmissionUseCases


class Atelier(
    AccountUseCases, SubmissionUseCases, LifecycleUseCases, HistoryUseCases, AuditUseCases
):
    """Accounts and submissions (and, as they land, the lifecycle and the audit) in one app.

    One instance per process, shared by its threads; build it after forking.
    """

    name = "Atelier"
