"""The audit's child processes: spawned (never forked), daemons, started and stopped alike."""

from __future__ import annotations

import gc
import logging
import multiprocessing
import signal
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnProcess
from types import TracebackType
from typing import Any, Self

logger = logging.getLogger(__name__)

STOP_SECONDS = 10.0  # how long a stopped child may take to go
# Several of the log reader's batches in flight (the kernel caps it at net.core.wmem_max).
SOCKET_BUFFER_BYTES = 4 * 1024 * 1024


def start_child(
    target: Callable[..., None], args: tuple[Any, ...], name: str, duplex: bool, purpose: str
) -> tuple[SpawnProcess, Connection] | None:
    """A child running `target(its end of a pipe, *args)`, and our end; None (with a warning)
    when no process can be started, so the caller does `purpose` itself."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe(duplex=duplex)  # without duplex: we read, the child writes
    if duplex:  # a socket pair
        for end in (ours, theirs):
            _widen(end)
    process = context.Process(target=target, args=(theirs, *args), name=name, daemon=True)
    try:
        process.start()
    except Exception:
        logger.warning("cannot start a process to %s", purpose, exc_info=True)
        ours.close()
        return None
    finally:
        theirs.close()  # the child holds the only other end: its death ends our `recv`
    return process, ours


def _widen(end: Connection) -> None:
    try:
        with socket.fromfd(end.fileno(), socket.AF_UNIX, socket.SOCK_STREAM) as duplicate:
            duplicate.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_BUFFER_BYTES)
    except OSError:
        logger.debug("cannot widen the pipe to a child", exc_info=True)


def stop_child(process: SpawnProcess, still_working: bool = True) -> None:
    """Terminate the child if it may still be at work, and reap it."""
    if still_working and process.is_alive():
        process.terminate()
    process.join(STOP_SECONDS)
    if process.is_alive():
        process.kill()
        process.join()


class ClosedOnExit:
    """What holds a child: leaving a `with` block around it closes it (stops the child)."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


@contextmanager
def collector_paused() -> Iterator[None]:
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
