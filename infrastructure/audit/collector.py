"""How the audit's processes run: Python's cycle collector paused for a whole-log replay, and
Ctrl-C left to the audit's own process.

A replay creates and drops several objects per event (notifications and UUIDs where the log is
read, decoded dicts), none of them in reference cycles, so reference counting frees them all; the
cycle collector only re-scans the survivors, again and again, which at a million events costs
about a fifth of the audit's time. The audit's process does nothing else, so the collector is
paused for the replay and run once at the end. Its two children pause it too: the one reading
the log allocates the same notifications (and is as much on the critical path as the replay),
and the one reading the read models shares the same two cores.
"""

from __future__ import annotations

import gc
import signal
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cycle collector off inside the block (as it was before, afterwards)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        gc.collect()


def ignore_interrupts() -> None:
    """For the audit's children: Ctrl-C reaches the whole process group, and it is the audit's
    own process that handles it (by stopping its children), without a traceback from each."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
