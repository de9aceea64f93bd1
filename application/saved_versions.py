"""The newest account versions this process saved: a hint that spares the group commit a read
(docs/architecture.md, "Submission")."""

from __future__ import annotations

import threading
from collections import OrderedDict
from uuid import UUID

DEFAULT_SIZE = 10_000


class SavedVersions:
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
        with self._lock:
            return self._versions.get(aggregate_id, 0)
