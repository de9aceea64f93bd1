"""The Atelier application: every use case, over one event store."""

from __future__ import annotations

from application.accounts import AccountUseCases
from application.audit import AuditUseCases
from application.circuit import CircuitUseCases
from application.claims import ClaimUseCases
from application.endings import EndingUseCases
from application.history import HistoryUseCases
from application.submissions import SubmissionUseCases
from application.sweeps import SweepUseCases
from application.work import WorkUseCases


class Atelier(
    AccountUseCases,
    SubmissionUseCases,
    WorkUseCases,
    CircuitUseCases,
    ClaimUseCases,
    SweepUseCases,
    EndingUseCases,
    HistoryUseCases,
    AuditUseCases,
):
    """One instance per process, shared by its threads; build it after forking."""

    name = "Atelier"
