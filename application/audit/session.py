"""One audit in progress (the replay, how far along the log it has read, who compares), and
`atelier audit` without the command line."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from application.audit.reading import (
    BATCH_SIZE,
    EventDecoder,
    JsonParser,
    LoggedEvent,
    LogReader,
    log_batches,
    moment_micros,
)
from application.audit.replay import Replay
from application.audit.report import AuditReport, Comparison
from application.base import AtelierBase


class ReplayObserver:
    """Follows the replay (`observe`), then compares what it followed (`compare`), which may
    replay further (`session.replay_to`) to meet a read model where it stands."""

    name = "observer"
    event_classes: frozenset[type[Any]] = frozenset()
    following = True
    comparison: Comparison | None = None  # what `compare` found, for the report

    def observe(self, position: int, key: int, cls: type[Any], data: dict[str, Any]) -> None:
        """One followed event, in log order, as the replay accepted it."""

    def compare(self, session: AuditSession) -> None:
        """Compare, once the log has been replayed."""


class AuditSession:
    def __init__(
        self,
        atelier: AtelierBase,
        observers: Sequence[ReplayObserver],
        progress: Callable[[int], None] | None,
        batch_size: int = BATCH_SIZE,
        parse_json: JsonParser = json.loads,
        read_log: LogReader | None = None,
    ) -> None:
        self.atelier = atelier
        self.replay = Replay(
            EventDecoder(atelier.mapper, parse_json),
            hourly_limit=atelier.policy.hourly_limit,
            queue_capacity=atelier.policy.queue_capacity,
            observers=observers,
            retry_schedule=atelier.policy.webhook_retry_schedule,
            audited_at=moment_micros(atelier.clock()),
        )
        self.position = 0
        self.progress = progress
        self.batch_size = batch_size
        self.read_log = read_log or self._read_here

    def head(self) -> int:
        return self.atelier.recorder.max_notification_id() or 0

    def replay_to(self, position: int) -> None:
        """Read and check every event after the current position, up to `position`."""
        if position <= self.position:
            return
        for batch in self.read_log(self.position, position):
            self.replay.apply_all(batch)
            self.replay.note_positions(batch[0].id, batch[-1].id)
            if self.progress is not None:
                self.progress(batch[-1].id)
        self.position = position

    def _read_here(self, after: int, upto: int) -> Iterator[Sequence[LoggedEvent]]:
        return log_batches(self.atelier.recorder, after, upto, self.batch_size)


class AuditUseCases(AtelierBase):
    def audit(
        self,
        observers: Sequence[ReplayObserver] = (),
        progress: Callable[[int], None] | None = None,
        batch_size: int = BATCH_SIZE,
        parse_json: JsonParser = json.loads,
        read_log: LogReader | None = None,
    ) -> AuditReport:
        """Replay the log up to its head now, then each observer compares. `progress` hears the
        position after each batch; `read_log` replaces the recorder (docs/audit.md)."""
        session = AuditSession(self, observers, progress, batch_size, parse_json, read_log)
        session.replay_to(session.head())
        for observer in observers:
            observer.compare(session)
        return session.replay.finish()
