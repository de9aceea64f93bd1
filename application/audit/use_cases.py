"""`atelier audit` without the command line: a report of every rule the history breaks."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from application.audit.reading import BATCH_SIZE, JsonParser, LogReader
from application.audit.report import AuditReport
from application.audit.session import AuditSession, ReplayObserver
from application.base import AtelierBase


class AuditUseCases(AtelierBase):
    def audit(
        self,
        observers: Sequence[ReplayObserver] = (),
        progress: Callable[[int], None] | None = None,
        batch_size: int = BATCH_SIZE,
        read_ahead: bool = False,
        parse_json: JsonParser = json.loads,
        read_log: LogReader | None = None,
    ) -> AuditReport:
        """Replay the log up to its head now, then each observer compares. `progress` hears the
        position after each batch; `read_log` replaces the recorder (docs/audit.md)."""
        session = AuditSession(
            self, observers, progress, batch_size, read_ahead, parse_json, read_log
        )
        session.replay_to(session.head())
        for observer in observers:
            observer.compare(session)
        return session.replay.finish()
