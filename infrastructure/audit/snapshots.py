"""Reading the read models in a child process while the replay reads the log.

A full audit does two independent things: it replays the log (in order, in one thread; the
log itself is read by another child, log_reader.py) and it reads every row of every read
model. Reading and fingerprinting the read models costs about a third of the replay, so
`atelier audit` hands it to a child process started as the audit begins: the child catches
each view up to the log's head as of that moment (as a runner would), then, one view at a time,
reads its position and content in one transaction, reduces the content to what the comparison
needs (per-key fingerprints for the large read models), and sends that back. The replay then
reads on to each view's position and compares. A view the child has not started by the time
the replay comes to compare it is read by the audit's own process instead (see ViewSnapshots):
the two processes finish the reading side by side.

The child is a fresh interpreter (spawn, not fork: a forked child would share the parent's
database connections and SQLite's file locks). Whatever goes wrong with it (it cannot start,
it dies, it cannot catch a view up), each check reads its view in the audit's own process
instead, exactly as without a child: the child can make the audit faster, never change what
it finds. An audit that ends early stops the child.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnProcess
from typing import TYPE_CHECKING, Any

from infrastructure.audit.children import STOP_SECONDS, ClosedOnExit, start_child, stop_child
from infrastructure.audit.collector import collector_paused, ignore_interrupts
from infrastructure.audit.consistent_read import ViewReader, consistent_read
from infrastructure.bootstrap import build_application, build_read_models
from infrastructure.projections.catch_up import catch_up
from infrastructure.projections.view import ProjectionView
from infrastructure.settings import Settings

if TYPE_CHECKING:
    from multiprocessing.sharedctypes import SynchronizedArray

logger = logging.getLogger(__name__)

Reader = Callable[[ViewReader], Any]

# Once its views are caught up (writes, under the views' write lock, which the service's own
# runners may be waiting for: done at full priority), the child yields the CPU to the replay and
# to the log's reader: its snapshots are needed only when the replay has reached the end of the
# log, while on two cores three processes sharing them evenly would keep the replay waiting for
# batches (on SQLite the full audit ran about 10% slower so). It still gets every cycle the
# other two leave, as their batches are handed on.
NICENESS = 19


@dataclass(frozen=True)
class Snapshot:
    """A read model's content (as its check reduces it) at one log position."""

    position: int
    held: Any


# A view's snapshot, or why the child could not bring the view to the position asked for.
Outcome = Snapshot | str


class ViewSnapshots(ClosedOnExit):
    """The snapshots of some read models, being read by a child process from the moment this
    object is made; `take` hands each over, `close` (or leaving the `with` block) ends it.

    The audit compares the views in the order of `readers`; the child reads them from the other
    end, each as soon as its turn comes, and says so first (a claim, in memory both processes
    share). When the audit comes to a view the child has not claimed, the audit claims it and
    reads it itself (`take` answers None): the child yields the CPU while the replay runs (see
    NICENESS), so it is often still reading when the replay ends, and the two then read the
    remaining views side by side, meeting in the middle, instead of the audit waiting idle.
    Without `share` (for tests of the child itself) the child reads every view.
    """

    def __init__(
        self, settings: Settings, readers: Mapping[str, Reader], until: int, share: bool = True
    ) -> None:
        self._order = {name: index for index, name in enumerate(readers)}
        self._claims = _shared_claims(len(self._order)) if share else None
        self._arrived: dict[str, Outcome] = {}
        self._finished = False  # the child has said all it will say
        self._process: SpawnProcess | None = None
        self._receiver: Connection | None = None
        started = start_child(
            _serve,
            (settings, dict(readers), until, self._claims),
            "atelier-audit-read-models",
            False,
            "read the read models",
        )
        if started is None:  # the checks read in-process
            self._finished = True
        else:
            self._process, self._receiver = started

    def take(self, name: str) -> Outcome | None:
        """The view's outcome, once; None when the child will not read it (read it here)."""
        while name not in self._arrived:
            if self._finished:
                return None
            if self._claims is not None and claim(self._claims, self._order.get(name), HERE):
                return None
            self._receive()
        return self._arrived.pop(name)

    def _receive(self) -> None:
        """The child's next message: one view's outcome, its end, or why it failed."""
        assert self._receiver is not None
        try:
            message = self._receiver.recv()
        except (EOFError, OSError):
            message = RuntimeError("the process reading the read models ended without a word")
        if isinstance(message, tuple):
            name, outcome = message
            self._arrived[name] = outcome
            return
        if isinstance(message, BaseException):
            logger.warning(
                "reading the read models in a child process failed (%s); reading them in this one",
                message,
            )
        self._finished = True  # `message` is None: every view claimed has been sent
        self.close()

    def close(self) -> None:
        """Stop the child if it is still at work (the audit ended early), and reap it."""
        if self._receiver is not None:
            self._receiver.close()
            self._receiver = None
        if self._process is not None:
            stop_child(self._process, still_working=not self._finished)
            self._process = None


# Who reads a view: nobody yet, the child, or the audit's own process.
UNCLAIMED, CHILD, HERE = 0, 1, 2


def _shared_claims(views: int) -> SynchronizedArray[int] | None:
    """One claim per view (UNCLAIMED to start), in memory shared with the child and with a lock
    of its own; None where the platform has no shared semaphores: the child then reads every
    view, as without `share`."""
    try:
        return multiprocessing.get_context("spawn").Array("b", views)
    except (OSError, ImportError):  # no working sem_open (some containers)
        logger.warning("no shared memory for the read-models child: it reads every view")
        return None


def claim(claims: SynchronizedArray[int], index: int | None, who: int) -> bool:
    """Take the view at `index` for `who` unless the other process has it (None: a view never
    given to the child, which only the audit's process reads).

    A process killed while it held the lock would hold it for good: after STOP_SECONDS the
    audit's process reads the view itself and the child leaves it, so neither waits forever
    (at worst both read it, and the audit uses its own reading).
    """
    lock = claims.get_lock()
    if index is None or not lock.acquire(timeout=STOP_SECONDS):
        return who == HERE
    try:
        if claims[index] != UNCLAIMED:
            return bool(claims[index] == who)
        claims[index] = who
        return True
    finally:
        lock.release()


def _serve(
    sender: Connection,
    settings: Settings,
    readers: dict[str, Reader],
    until: int,
    claims: SynchronizedArray[int] | None,
) -> None:
    """The child's whole life: read the views it claims, sending each outcome as it is ready,
    then None (or what went wrong)."""
    ignore_interrupts()
    end: BaseException | None = None
    try:
        with collector_paused():
            for outcome in read_views(settings, readers, until, NICENESS, claims):
                sender.send(outcome)
    except BaseException as error:  # reported to the parent, which reads in-process instead
        end = RuntimeError(f"{type(error).__name__}: {error}")
    sender.send(end)
    sender.close()


def read_views(
    settings: Settings,
    readers: dict[str, Reader],
    until: int,
    niceness: int = 0,
    claims: SynchronizedArray[int] | None = None,
) -> Iterator[tuple[str, Outcome]]:
    """Each view brought to `until` at least, then read by its reader, last first (the process
    made `niceness` nicer first: for the child, see NICENESS); with `claims`, only the views
    this process claims before the audit's own process does."""
    atelier = build_application(settings, create_tables=False)  # the audit's process made them
    try:
        models = build_read_models(settings, atelier)
        assert models is not None, "a store without read models has nothing to snapshot"
        failures = {name: caught_up(atelier, models.views[name], until) for name in readers}
        if niceness:
            os.nice(niceness)
        for index, (name, read) in reversed(list(enumerate(readers.items()))):
            if claims is None or claim(claims, index, CHILD):
                yield name, failures[name] or snapshot(models.views[name], read)
    finally:
        atelier.close()


def caught_up(atelier: Any, view: ProjectionView, until: int) -> str:
    """Bring the view to `until` if it is behind; why it cannot be, or "" once it is."""
    try:
        catch_up(atelier, view, until=until)
    except Exception as error:  # the audit's own process will try again, and report it
        return f"cannot apply the log: {error}"
    return ""


def snapshot(view: ProjectionView, read: Reader) -> Snapshot:
    """The view as it stands, position and content read in one go."""
    with consistent_read(view) as reader:
        return Snapshot(reader.position(), read(reader))
