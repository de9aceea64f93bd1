"""How a long-running command learns it should stop."""

from __future__ import annotations

import signal
import threading
from types import FrameType


def stopping_on_signals() -> threading.Event:
    """An event that SIGTERM or SIGINT (Ctrl-C) sets: the command's cue to stop."""
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return stopping
