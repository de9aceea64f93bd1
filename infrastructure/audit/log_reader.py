"""Reading the event log in a second process while the audit checks it.

Reading the log is half of what an audit of the invariants costs: `select_notifications` builds
a notification, with a UUID, for every row, and the replay then has the rest of its work to do
on the same core. `atelier audit` therefore has a child process read the log, batch by batch,
and pass each batch down a pipe as plain tuples (one `pickle` per batch, in C at both ends),
so that the reading of one batch overlaps the checking of the one before, on the other core.

The child is a fresh interpreter (spawn, not fork: a forked child would share the parent's
database connections and SQLite's file locks). Until it is ready (it has to import and open the
store) the audit reads here; whatever goes wrong with it later (it dies, it cannot read), the
audit reads the rest here from the last batch it was given: the child can make the audit
faster, never change what it reads. An audit that ends early stops it.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Iterator, Sequence
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnProcess
from typing import Any

from eventsourcing.persistence import ApplicationRecorder

from application.audit.reading import BATCH_SIZE, LoggedEvent, log_batches, read_ahead
from infrastructure.audit.children import ClosedOnExit, start_child, stop_child
from infrastructure.audit.collector import collector_paused, ignore_interrupts
from infrastructure.bootstrap import build_application
from infrastructure.settings import Settings

logger = logging.getLogger(__name__)

READY = b"ready"
END = pickle.dumps(None, pickle.HIGHEST_PROTOCOL)  # a range is over
AHEAD = 4  # batches received ahead of the replay
# A row's tuple made a LoggedEvent by tuple's own constructor: a third cheaper than
# `LoggedEvent._make`, which checks the length (the child sends what `_rows` builds).
as_logged = tuple.__new__


class ChildFailed(Exception):
    """The child said it could not read (its reason), or went away."""


class LogInChild(ClosedOnExit):
    """A log reader for `Atelier.audit(read_log=...)`, reading in a child process started when
    this object is made; `close` (or leaving the `with` block) ends it."""

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
        """The log's events in (after, upto], oldest first: read here until the child is ready,
        then by the child, and here again from wherever the child fails."""
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
        # A thread takes each batch off the pipe as soon as it is sent, so the child reads on
        # while this process checks, however little the pipe holds (children.py asks for room
        # for several batches; a kernel with a low cap may give less than one).
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
                # Failed, or left before the end of the range (the audit stopped): what the
                # child would still send belongs to this range, so it cannot answer another.
                # Stopped before the receiving thread is joined, and the pipe closed after.
                self._stop_child()
            payloads.close()
            if not finished:
                self.close()
        if failure:
            self._give_up(failure)  # already stopped and closed: this says so
        if position < upto:
            # The rest of the range: after a failure; otherwise, nothing if the child read the
            # same log as the recorder (a gap at the end), and it is the recorder that decides.
            yield from log_batches(self.recorder, position, upto, self.batch_size, prefetch=False)

    def _give_up(self, why: str) -> None:
        """From now on the log is read here."""
        logger.warning("reading the log in a child process failed (%s); reading it here", why)
        self.close()

    def close(self) -> None:
        """Stop the child (it may be blocked sending a batch nobody will read), reap it, and
        close the pipe; the log is read here from then on."""
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
    """The messages of one range, up to its end marker (a failure ends in EOFError: the child
    exits after saying what went wrong)."""
    while True:
        payload = connection.recv_bytes()
        yield payload
        if payload == END:
            return


def _unpickle(payload: bytes) -> Any:
    """A message of our own child, down a pipe only the two ends hold (as `Connection.recv`
    would unpickle it, without the extra copy)."""
    return pickle.loads(payload)  # noqa: S301


def _serve(connection: Connection, settings: Settings, batch_size: int) -> None:
    """The child's whole life: open the store, then read each range asked for until the parent
    stops it (it is terminated, or its end of the pipe closes)."""
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
    position = after
    while position < upto:
        batch = recorder.select_notifications(
            start=position, limit=batch_size, stop=upto, inclusive_of_start=False
        )
        if not batch:
            return
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
        position = batch[-1].id
