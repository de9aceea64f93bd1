"""Python's cycle collector paused for a whole-log replay, and Ctrl-C left to the audit."""

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
    """For the audit's children: Ctrl-C is the audit's own process's to handle."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
