"""The newest version of each account this process has saved, so a copy loaded a moment ago
can be trusted without reading it again.

It is a hint, never a rule: a copy newer than anything noted here may still be stale because
another process wrote since, and that is caught by the version check when it is saved. What it
saves is a read per submission in the group commit's single thread, where each read would
also wait for the interpreter lock behind every busy request thread.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from uuid import UUID

DEFAULT_SIZE = 10_000


class SavedVersions:
    """A bounded, thread-safe map of aggregate id to the newest version saved in-process."""

    def __init__(self, maxsize: int = DEFAULT_SIZE) -> None:
        self.maxsize = maxsize
        self._versions: OrderedDict[UUID, int] = OrderedDict()
        self._lock = threading.Lock()

    def note(self, aggregate_id: UUID, version: int) -> None:
        with self._lock:
            if version > self._versions.get(aggregate_id, 0):
                self._versions[aggregate_id] = version
            self._versions.move_to_end(aggregate_id)
            while len(self._versions) > self.maxsize:
                self._versions.popitem(last=False)

    def newest(self, aggregate_id: UUID) -> int:
        """The newest version saved here, 0 when none is remembered."""
        with self._lock:
            return self._versions.get(aggregate_id, 0)
