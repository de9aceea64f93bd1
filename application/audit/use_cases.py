"""The audit as a use case: replay the whole log, then let each observer compare what it follows.

The replay reads the log up to its head as the audit begins. A read model is compared with the
replay at the position the read model has reached, which may be further on if events arrived
meanwhile: the observer comparing it asks the session to replay further first (`replay_to`), so
each comparison is between two states of the same log position. The invariants are then
reported for everything replayed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence

from application.audit.reading import (
    BATCH_SIZE,
    EventDecoder,
    JsonParser,
    LoggedEvent,
    LogReader,
    log_batches,
)
from application.audit.replay import Replay, ReplayObserver
from application.audit.report import AuditReport
from application.base import AtelierBase


class AuditSession:
    """One audit in progress: the replay, and how far along the log it has read."""

    def __init__(
        self,
        atelier: AtelierBase,
        observers: Sequence[ReplayObserver],
        progress: Callable[[int], None] | None,
        batch_size: int,
        read_ahead: bool,
        parse_json: JsonParser = json.loads,
        read_log: LogReader | None = None,
    ) -> None:
        self.atelier = atelier
        self.replay = Replay(
            EventDecoder(atelier.mapper, parse_json),
            hourly_limit=atelier.policy.hourly_limit,
            queue_capacity=atelier.policy.queue_capacity,
            observers=observers,
        )
        self.position = 0
        self.progress = progress
        self.batch_size = batch_size
        self.read_ahead = read_ahead
        self.read_log = read_log or self._read_here

    def head(self) -> int:
        """The newest position in the log now."""
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
        return log_batches(self.atelier.recorder, after, upto, self.batch_size, self.read_ahead)


class AuditUseCases(AtelierBase):
    """`atelier audit` without the command line: a report of every rule the history breaks."""

    def audit(
        self,
        observers: Sequence[ReplayObserver] = (),
        progress: Callable[[int], None] | None = None,
        batch_size: int = BATCH_SIZE,
        read_ahead: bool = False,
        parse_json: JsonParser = json.loads,
        read_log: LogReader | None = None,
    ) -> AuditReport:
        """Replay every event up to the newest one now, checking the invariants as it goes.

        The limits checked are the current policy's (MAX_REQUESTS_PER_HOUR, QUEUE_MAX_SIZE).
        `observers` follow the same replay and then compare what they follow (the read
        models); `progress` is told the position reached after each batch. `batch_size` and
        `read_ahead` (the next batch fetched in a thread while the current one is checked)
        are for reading the recorder here, without `read_log`. `parse_json`
        decodes stored events on the fast path (a faster parser than the standard one may be
        handed in; whatever it refuses goes through the application's mapper). `read_log`
        reads the log in place of the recorder (another process may read it while this one
        checks); it must give every event in order.
        """
        session = AuditSession(
            self, observers, progress, batch_size, read_ahead, parse_json, read_log
        )
        session.replay_to(session.head())
        for observer in observers:
            observer.compare(session)
        return session.replay.finish()
