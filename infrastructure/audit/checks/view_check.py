"""One read model compared with the replay at the same log position (caught up, or met)."""

from __future__ import annotations

import logging
from abc import abstractmethod
from typing import Any

from application.audit import violations as rule
from application.audit.replay import Replay
from application.audit.report import Comparison
from application.audit.session import AuditSession, ReplayObserver
from application.audit.state import unpack
from application.service import Atelier
from infrastructure.audit.consistent_read import ViewReader, consistent_read
from infrastructure.audit.snapshots import Snapshot, ViewSnapshots
from infrastructure.projections.catch_up import catch_up
from infrastructure.projections.view import ProjectionView

logger = logging.getLogger(__name__)
MAX_ROUNDS = 20  # a view that moves on every round belongs to a store too busy to audit


class ViewCheck(ReplayObserver):
    def __init__(
        self, atelier: Atelier, view: ProjectionView, snapshots: ViewSnapshots | None = None
    ) -> None:
        self.atelier = atelier
        self.view = view
        self.name = view.name
        self.snapshots = snapshots

    @staticmethod
    @abstractmethod
    def read(reader: ViewReader) -> Any:
        """What the view holds, reduced to what `differences` compares (picklable)."""

    @abstractmethod
    def differences(self, held: Any, replay: Replay) -> int:
        """A violation for each difference from the replay (`mismatch`); how many."""

    def mismatch(self, replay: Replay, why: str, *positions: int) -> None:
        replay.found.add(rule.PROJECTION_MISMATCH, f"read model {self.name}", why, *positions)

    def compare(self, session: AuditSession) -> None:
        snapshot = self.snapshots.take(self.name) if self.snapshots is not None else None
        if isinstance(snapshot, str):  # the view could not be brought up to date
            logger.warning("read model %s, read ahead of its comparison: %s", self.name, snapshot)
        elif snapshot is not None and snapshot.position >= session.position:
            session.replay_to(snapshot.position)
            self._compared(snapshot, session.replay)
            return
        # No snapshot, a failed one, or one the replay has gone past: read the view here.
        self._compare_here(session)

    def _compared(self, snapshot: Snapshot, replay: Replay) -> None:
        self.following = False
        differences = self.differences(snapshot.held, replay)
        self.comparison = Comparison(self.name, snapshot.position, differences)

    def _compare_here(self, session: AuditSession) -> None:
        for _ in range(MAX_ROUNDS):
            with consistent_read(self.view) as reader:
                position = reader.position()
                if position == session.position:
                    self._compared(Snapshot(position, self.read(reader)), session.replay)
                    return
            if position < session.position:
                try:
                    catch_up(self.atelier, self.view, until=session.position)
                except Exception as error:  # a projection that cannot apply the log
                    self._unverified(session.replay, f"cannot apply the log: {error}")
                    return
            else:
                session.replay_to(position)
        self._unverified(session.replay, "kept moving on; audit again when writes pause")

    def _unverified(self, replay: Replay, why: str) -> None:
        self.following = False
        subject = f"read model {self.name}"
        replay.found.add(rule.PROJECTION_UNVERIFIED, subject, f"not compared: {why}")
        self.comparison = Comparison(self.name, None, 0, why)


def unequal(held: dict[Any, Any], expected: dict[Any, Any], absent: Any = None) -> list[Any]:
    """The keys, sorted, whose values differ (a missing key's value is `absent`)."""
    keys = sorted(set(held) | set(expected))
    return [key for key in keys if held.get(key, absent) != expected.get(key, absent)]


def generation_positions(replay: Replay, key: int) -> tuple[int, ...]:
    """Log positions that show what the replay knows of a generation: its request, its end."""
    life = replay.generations.get(key)
    if life is None:
        return ()
    if isinstance(life, int):
        return (unpack(life)[1],)
    return tuple(position for position in (life.requested, life.ended) if position)


def replayed_status(replay: Replay, key: int) -> str | None:
    life = replay.generations.get(key)
    if life is None:
        return None
    return unpack(life)[0] if isinstance(life, int) else life.status
