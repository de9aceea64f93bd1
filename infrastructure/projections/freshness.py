"""Read-your-writes: wait, within a bound, for views to reach the log's head before reading."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection

from eventsourcing.persistence import ApplicationRecorder

from infrastructure.projections.follower import Follower

FIRST_POLL_SECONDS = 0.002
MAX_POLL_SECONDS = 0.02
FAILING_RECHECK_SECONDS = 0.25


class Freshness:
    """Waits for views to catch up with the application's log, for at most `timeout` seconds."""

    def __init__(
        self,
        recorder: ApplicationRecorder,
        timeout: float,
        failing: Callable[[], Collection[str]] | None = None,
    ) -> None:
        self.recorder = recorder
        self.timeout = timeout
        self.failing = failing  # the names of views known to be failing: never waited for

    def head(self) -> int:
        """The position of the newest event in the log (0 when it is empty)."""
        return self.recorder.max_notification_id() or 0

    def wait(self, *views: Follower) -> bool:
        """True once every view has reached the head as of this call; False on timeout, or at
        once when a view still behind is known to be failing."""
        head = self.head()
        deadline = time.monotonic() + self.timeout
        delay = FIRST_POLL_SECONDS
        behind = list(views)
        recheck_at = 0.0  # looked up only once a view is behind, then now and then
        while True:
            behind = [view for view in behind if view.position() < head]
            now = time.monotonic()
            remaining = deadline - now
            if not behind or remaining <= 0:
                return not behind
            if self.failing is not None and now >= recheck_at:
                failing = self.failing()
                if any(view.name in failing for view in behind):
                    return False
                recheck_at = now + FAILING_RECHECK_SECONDS
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, MAX_POLL_SECONDS)
