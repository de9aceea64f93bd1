"""The log read ahead of the replay by a child process, batches handed over as plain tuples."""

from __future__ import annotations

import gc
import logging
import multiprocessing
import pickle
import signal
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnProcess
from typing import Self

from eventsourcing.persistence import ApplicationRecorder

from application.audit.reading import (
    BATCH_SIZE,
    LoggedEvent,
    log_batches,
    notification_batches,
    read_ahead,
)
from infrastructure.bootstrap import build_application
from infrastructure.settings import Settings

logger = logging.getLogger(__name__)

READY = b"ready"
END = pickle.dumps(None, pickle.HIGHEST_PROTOCOL)  # a range is over
AHEAD = 4  # batches received ahead of the replay
STOP_SECONDS = 10.0  # how long a stopped child may take to go
SOCKET_BUFFER_BYTES = 4 * 1024 * 1024  # several batches in flight (capped: net.core.wmem_max)
as_logged = tuple.__new__  # a row made a LoggedEvent: a third cheaper than `_make`


class ChildFailed(Exception):
    """The child said it could not read (its reason), or went away."""


class LogInChild:
    """A log reader for `Atelier.audit(read_log=...)`, its child started now, ended by `close`."""

    def __init__(
        self, settings: Settings, recorder: ApplicationRecorder, batch_size: int = BATCH_SIZE
    ) -> None:
        self.recorder = recorder  # the audit's own: it reads here when the child cannot
        self.batch_size = batch_size
        self._ready = False
        context = multiprocessing.get_context("spawn")
        self._connection: Connection | None
        self._connection, theirs = context.Pipe()  # ranges go down, batches come up
        for end in (self._connection, theirs):
            _widen(end)
        self._process: SpawnProcess | None = context.Process(
            target=_serve,
            args=(theirs, settings, batch_size),
            name="atelier-audit-log-reader",
            daemon=True,
        )
        try:
            self._process.start()
        except Exception:
            logger.warning("cannot start a process to read the log", exc_info=True)
            self._process = None
            self.close()
        finally:
            theirs.close()  # the child holds the only other end: its death ends our `recv`

    def __call__(self, after: int, upto: int) -> Iterator[Sequence[LoggedEvent]]:
        """The log's events in (after, upto], oldest first: here until the child is ready, then
        by the child, and here again from wherever the child fails."""
        here = log_batches(self.recorder, after, upto, self.batch_size)
        position = after
        while not self._child_ready():
            batch = next(here, None)
            if batch is None:
                return
            yield batch
            position = batch[-1].id
        yield from self._from_child(position, upto)

    def _child_ready(self) -> bool:
        if self._ready or self._connection is None:
            return self._ready
        try:
            if not self._connection.poll():
                return False
            message = self._connection.recv_bytes()
        except (EOFError, OSError) as error:
            self._give_up(f"it ended before it was ready ({error!r})")
            return False
        if message != READY:
            self._give_up(str(pickle.loads(message)))  # noqa: S301 - from our own child
            return False
        self._ready = True
        return True

    def _from_child(self, after: int, upto: int) -> Iterator[Sequence[LoggedEvent]]:
        connection = self._connection
        assert connection is not None
        position, finished, failure = after, False, ""
        # A thread takes each batch off the pipe at once, so the child reads on meanwhile.
        payloads = read_ahead(iter(connection.recv_bytes, END), AHEAD, "audit-log-receiver")
        try:
            connection.send((after, upto))
            for payload in payloads:
                rows = pickle.loads(payload)  # noqa: S301 - from our own child
                if isinstance(rows, str):
                    raise ChildFailed(rows)
                batch = [as_logged(LoggedEvent, row) for row in rows]
                yield batch
                position = batch[-1].id
            finished = True  # the child's end marker
        except (EOFError, OSError, ChildFailed) as error:
            failure = str(error) or repr(error)
        finally:
            if not finished:
                # What the child would still send belongs to this range: it cannot serve another.
                self._stop_child()
            payloads.close()
            if not finished:
                self.close()
        if failure:
            self._give_up(failure)  # already stopped and closed: this says so
        if position < upto:
            # The rest of the range (after a failure, or a gap at its end): the recorder decides.
            yield from log_batches(self.recorder, position, upto, self.batch_size)

    def _give_up(self, why: str) -> None:
        logger.warning("reading the log in a child process failed (%s); reading it here", why)
        self.close()

    def close(self) -> None:
        """Stop the child, reap it, close the pipe: the log is read here from then on."""
        self._stop_child()
        self._ready = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _stop_child(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.join(STOP_SECONDS)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
            self._process = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exception: object) -> None:
        self.close()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off: the audit's objects are freed by reference counting."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        gc.collect()


def _widen(end: Connection) -> None:
    try:
        with socket.fromfd(end.fileno(), socket.AF_UNIX, socket.SOCK_STREAM) as duplicate:
            duplicate.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_BUFFER_BYTES)
    except OSError:
        logger.debug("cannot widen the pipe to a child", exc_info=True)


def _serve(connection: Connection, settings: Settings, batch_size: int) -> None:
    """The child's whole life: open the store, then read each range asked for until stopped."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the audit's own process's
    try:
        atelier = build_application(settings, create_tables=False)
    except BaseException as error:  # reported to the parent, which reads the log itself
        connection.send_bytes(pickle.dumps(f"cannot open the store: {error!r}"))
        return
    try:
        connection.send_bytes(READY)
        with collector_paused():
            while (request := connection.recv()) is not None:
                after, upto = request
                try:
                    for rows in _rows(atelier.recorder, after, upto, batch_size):
                        connection.send_bytes(pickle.dumps(rows, pickle.HIGHEST_PROTOCOL))
                except Exception as error:  # the parent reads the rest of the range itself
                    connection.send_bytes(pickle.dumps(f"cannot read the log: {error!r}"))
                    return
                connection.send_bytes(END)
    except (EOFError, OSError):
        return  # the parent has gone (or closed its end): nothing more to read for
    finally:
        atelier.close()


def _rows(
    recorder: ApplicationRecorder, after: int, upto: int, batch_size: int
) -> Iterator[list[tuple[int, int, int, str, bytes]]]:
    """Batches of the log in (after, upto] as LoggedEvent's fields, in plain tuples."""
    topics: dict[str, str] = {}  # one string per topic: pickled once per batch, not per event
    for batch in notification_batches(recorder, after, upto, batch_size):
        yield [
            (
                n.id,
                n.originator_id.int,  # type: ignore[union-attr]
                n.originator_version,
                topics.setdefault(n.topic, n.topic),
                n.state,
            )
            for n in batch
        ]
