"""The log read ahead of the replay by a child process, batches handed over as plain tuples."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Iterator, Sequence
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnProcess
from typing import Any

from eventsourcing.persistence import ApplicationRecorder

from application.audit.reading import (
    BATCH_SIZE,
    LoggedEvent,
    log_batches,
    notification_batches,
    read_ahead,
)
from infrastructure.audit.children import (
    ClosedOnExit,
    collector_paused,
    ignore_interrupts,
    start_child,
    stop_child,
)
from infrastructure.bootstrap import build_application
from infrastructure.settings import Settings

logger = logging.getLogger(__name__)

READY = b"ready"
END = pickle.dumps(None, pickle.HIGHEST_PROTOCOL)  # a range is over
AHEAD = 4  # batches received ahead of the replay
# A row made a LoggedEvent by tuple's own constructor: a third cheaper than `_make`.
as_logged = tuple.__new__


class ChildFailed(Exception):
    """The child said it could not read (its reason), or went away."""


class LogInChild(ClosedOnExit):
    """A log reader for `Atelier.audit(read_log=...)`, its child started now, ended by `close`."""

    def __init__(
        self, settings: Settings, recorder: ApplicationRecorder, batch_size: int = BATCH_SIZE
    ) -> None:
        self.recorder = recorder  # the audit's own: it reads here when the child cannot
        self.batch_size = batch_size
        self._process: SpawnProcess | None = None
        self._connection: Connection | None = None
        self._ready = False
        started = start_child(  # ranges go down the pipe, batches come up
            _serve, (settings, batch_size), "atelier-audit-log-reader", True, "read the log"
        )
        if started is not None:  # else the audit reads the log itself
            self._process, self._connection = started

    def __call__(self, after: int, upto: int) -> Iterator[Sequence[LoggedEvent]]:
        """The log's events in (after, upto], oldest first: here until the child is ready, then
        by the child, and here again from wherever the child fails."""
        here = log_batches(self.recorder, after, upto, self.batch_size, prefetch=False)
        position = after
        while not self._child_ready():
            batch = next(here, None)
            if batch is None:
                return
            yield batch
            position = batch[-1].id
        yield from self._from_child(position, upto)

    def _child_ready(self) -> bool:
        if self._ready:
            return True
        if self._connection is None:
            return False
        try:
            if not self._connection.poll():
                return False
            message = self._connection.recv_bytes()
        except (EOFError, OSError) as error:
            self._give_up(f"it ended before it was ready ({error!r})")
            return False
        if message != READY:
            self._give_up(str(_unpickle(message)))
            return False
        self._ready = True
        return True

    def _from_child(self, after: int, upto: int) -> Iterator[Sequence[LoggedEvent]]:
        connection = self._connection
        assert connection is not None
        position, finished, failure = after, False, ""
        # A thread takes each batch off the pipe at once, so the child reads on meanwhile.
        payloads = read_ahead(_payloads(connection), AHEAD, "audit-log-receiver")
        try:
            connection.send((after, upto))
            for payload in payloads:
                rows = _unpickle(payload)
                if rows is None:
                    finished = True
                    break
                if isinstance(rows, str):
                    raise ChildFailed(rows)
                batch = [as_logged(LoggedEvent, row) for row in rows]
                yield batch
                position = batch[-1].id
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
            yield from log_batches(self.recorder, position, upto, self.batch_size, prefetch=False)

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
            stop_child(self._process)
            self._process = None


def _payloads(connection: Connection) -> Iterator[bytes]:
    while True:
        payload = connection.recv_bytes()
        yield payload
        if payload == END:
            return


def _unpickle(payload: bytes) -> Any:
    return pickle.loads(payload)  # noqa: S301


def _serve(connection: Connection, settings: Settings, batch_size: int) -> None:
    """The child's whole life: open the store, then read each range asked for until stopped."""
    ignore_interrupts()
    try:
        atelier = build_application(settings, create_tables=False)
    except BaseException as error:  # reported to the parent, which reads the log itself
        connection.send_bytes(pickle.dumps(f"cannot open the store: {error!r}"))
        return
    try:
        connection.send_bytes(READY)
        with collector_paused():
            _answer(connection, atelier.recorder, batch_size)
    except (EOFError, OSError):
        return  # the parent has gone (or closed its end): nothing more to read for
    finally:
        atelier.close()


def _answer(connection: Connection, recorder: ApplicationRecorder, batch_size: int) -> None:
    """Each range asked for, batch by batch, then the end marker (a None request ends it)."""
    while (request := connection.recv()) is not None:
        after, upto = request
        try:
            for rows in _rows(recorder, after, upto, batch_size):
                connection.send_bytes(pickle.dumps(rows, pickle.HIGHEST_PROTOCOL))
        except Exception as error:  # the parent reads the rest of the range itself
            connection.send_bytes(pickle.dumps(f"cannot read the log: {error!r}"))
            return
        connection.send_bytes(END)


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
