"""prometheus-client's multi-process mode under `atelier serve`: a fresh directory of metric
files per run, which every worker writes and any worker's /metrics reads and sums."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prometheus_client import values
from prometheus_client.multiprocess import mark_process_dead

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def metrics_directory() -> Iterator[Path]:
    """Set before the workers start (prometheus-client picks its mode when first imported),
    removed when the server stops, so no run counts another's requests."""
    path = tempfile.mkdtemp(prefix="atelier-metrics-")
    previous = os.environ.get(MULTIPROCESS_VARIABLE)
    os.environ[MULTIPROCESS_VARIABLE] = path
    try:
        yield Path(path)
    finally:
        if previous is None:
            os.environ.pop(MULTIPROCESS_VARIABLE, None)
        else:
            os.environ[MULTIPROCESS_VARIABLE] = previous
        shutil.rmtree(path, ignore_errors=True)


def multiprocess_directory() -> str | None:
    """The directory this process's metric values live in, or None when they live in memory."""
    path = os.environ.get(MULTIPROCESS_VARIABLE)
    if path and getattr(values.ValueClass, "_multiprocess", False):
        return path
    return None


def forget_dead_processes(path: str) -> None:
    """A worker that died (and was replaced) leaves its counters, which still count, and its
    live gauges, which must not: `mark_process_dead` removes the latter."""
    for file in Path(path).glob("gauge_live*_*.db"):
        pid_text = file.stem.rsplit("_", 1)[-1]
        if pid_text.isdigit() and not _alive(int(pid_text)):
            mark_process_dead(int(pid_text), path)  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
