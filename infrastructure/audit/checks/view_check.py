"""One read model compared with the replay at the same log position (caught up, or met)."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from application.audit import violations as rule
from application.audit.replay import Replay
from application.audit.report import Comparison
from application.audit.session import AuditSession, ReplayObserver
from application.audit.state import unpack
from application.service import Atelier
from infrastructure.audit.consistent_read import ViewReader, consistent_read
from infrastructure.projections.catch_up import catch_up
from infrastructure.projections.view import ProjectionView

MAX_ROUNDS = 20  # a view that moves on every round belongs to a store too busy to audit


class ViewCheck(ReplayObserver):
    def __init__(self, atelier: Atelier, view: ProjectionView) -> None:
        self.atelier = atelier
        self.view = view
        self.name = view.name

    @staticmethod
    @abstractmethod
    def read(reader: ViewReader) -> Any:
        """What the view holds, reduced to what `differences` compares."""

    @abstractmethod
    def differences(self, held: Any, replay: Replay) -> int:
        """A violation for each difference from the replay (`mismatch`); how many."""

    def mismatch(self, replay: Replay, why: str, *positions: int) -> None:
        replay.found.add(rule.PROJECTION_MISMATCH, f"read model {self.name}", why, *positions)

    def compare(self, session: AuditSession) -> None:
        """Read the view where the replay stands: catch it up if behind, replay on if ahead."""
        for _ in range(MAX_ROUNDS):
            with consistent_read(self.view) as reader:
                position = reader.position()
                if position == session.position:
                    self.following = False
                    differences = self.differences(self.read(reader), session.replay)
                    self.comparison = Comparison(self.name, position, differences)
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
