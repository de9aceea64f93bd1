"""Read-your-writes: wait, within a bound, for views to reach the log's head before reading."""

from __future__ import annotations

import time

from eventsourcing.persistence import ApplicationRecorder

from infrastructure.projections.follower import Follower

FIRST_POLL_SECONDS = 0.002
MAX_POLL_SECONDS = 0.02


class Freshness:
    """Waits for views to catch up with the application's log, for at most `timeout` seconds."""

    def __init__(self, recorder: ApplicationRecorder, timeout: float) -> None:
        self.recorder = recorder
        self.timeout = timeout

    def head(self) -> int:
        """The position of the newest event in the log (0 when it is empty)."""
        return self.recorder.max_notification_id() or 0

    def wait(self, *views: Follower) -> bool:
        """True once every view has reached the head as of this call; False on timeout."""
        head = self.head()
        deadline = time.monotonic() + self.timeout
        delay = FIRST_POLL_SECONDS
        behind = list(views)
        while True:
            behind = [view for view in behind if view.position() < head]
            remaining = deadline - time.monotonic()
            if not behind or remaining <= 0:
                return not behind
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, MAX_POLL_SECONDS)
