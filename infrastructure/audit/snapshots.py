"""Reading the read models in a child process while the replay reads the log.

A full audit does two independent things: it replays the log (in order, in one thread; the
log itself is read by another child, log_reader.py) and it reads every row of every read
model. Reading and fingerprinting the read models costs about a third of the replay, so
`atelier audit` hands it to a child process started as the audit begins: the child catches
each view up to the log's head as of that moment (as a runner would), then, one view at a time
and in the order the audit compares them, reads its position and content in one transaction,
reduces the content to what the comparison needs (per-key fingerprints for the large read
models), and sends that back. The replay then reads on to each view's position and compares.
The child yields the CPU to the replay (NICENESS), so on a large history it is still reading
when the replay ends: the audit's own process then reads the next views itself rather than
wait (see ViewSnapshots), and the two finish the reading side by side.

The child is a fresh interpreter (spawn, not fork: a forked child would share the parent's
database connections and SQLite's file locks). Whatever goes wrong with it (it cannot start,
it dies, it cannot catch a view up), each check reads its view in the audit's own process
instead, exactly as without a child: the child can make the audit faster, never change what
it finds. An audit that ends early stops the child.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnProcess
from typing import TYPE_CHECKING, Any

from infrastructure.audit.children import ClosedOnExit, start_child, stop_child
from infrastructure.audit.collector import collector_paused, ignore_interrupts
from infrastructure.audit.consistent_read import ViewReader, consistent_read
from infrastructure.audit.view_claims import (
    CHILD,
    CLAIM_SECONDS,
    HERE,
    claim,
    shared_claims,
    unclaimed,
)
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


# A view's snapshot, or why it could not be brought to the position asked for, or read ahead.
Outcome = Snapshot | str


class ViewSnapshots(ClosedOnExit):
    """The snapshots of some read models, being read by a child process from the moment this
    object is made; `take` hands each over, `close` (or leaving the `with` block) ends it.

    The audit compares the views in the order of `readers`, and the child reads them in that
    order, each claimed first (view_claims.py). When the audit needs a view the child is still
    reading, it does not wait idle: it claims the next view nobody has claimed and reads it
    itself with `read_here`, as the child would, and so on, taking the child's snapshots as they
    come; a view nobody has claimed when the audit comes to it, the audit claims and its check
    reads (`take` answers None). Views are read in the order they are compared, whoever reads
    them, so the positions compared rise even while runners move the views on. Without
    `read_here` the audit waits; without `share` (tests of the child, or no shared semaphores
    here) the child reads every view.
    """

    def __init__(
        self,
        settings: Settings,
        readers: Mapping[str, Reader],
        until: int,
        read_here: Callable[[str], Outcome] | None = None,
        share: bool = True,
    ) -> None:
        self._order = {name: index for index, name in enumerate(readers)}
        self._claims = shared_claims(len(self._order)) if share else None
        self._read_here = read_here
        self._arrived: dict[str, Outcome] = {}
        self._finished = False  # nothing more will come from the child: it ended, or was given up
        self._child_done = threading.Event()  # the child has said its last, or has gone
        self._process: SpawnProcess | None = None
        self._receiver: Connection | None = None
        self._inbox: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._listener: threading.Thread | None = None
        started = start_child(
            _serve,
            (settings, dict(readers), until, self._claims),
            "atelier-audit-read-models",
            False,
            "read the read models",
        )
        if started is None:  # the checks read in-process
            self._finished = True
            return
        self._process, self._receiver = started
        # Each snapshot is taken off the pipe as soon as it is sent, so that a large one waits
        # here, not in the pipe, and the child reads on (a thread of the child sending instead
        # would wait for the GIL behind the child's own reading, which runs at NICENESS).
        self._listener = threading.Thread(
            target=_listen,
            args=(self._receiver, self._inbox, self._child_done),
            name="audit-snapshot-receiver",
            daemon=True,
        )
        self._listener.start()

    def take(self, name: str) -> Outcome | None:
        """The view's outcome, once; None when its check is to read it (nobody has)."""
        while not self._finished:
            self._receive(wait=False)  # whatever the child has sent meanwhile
            if name in self._arrived:
                break
            owner = self._claim(self._order.get(name))
            if owner == HERE:
                return None  # the audit's: its check reads it now
            if owner == CHILD and not self._read_a_spare() and not self._finished:
                self._receive(wait=True)  # nothing left to read meanwhile: wait for the child
        return self._arrived.pop(name, None)

    def _claim(self, index: int | None) -> int | None:
        """Claim a view for the audit; its owner (None once the child is given up)."""
        if index is None:
            return HERE  # never given to the child
        if self._claims is None:
            return CHILD  # the child reads every view
        owner = claim(self._claims, index, HERE)
        if owner is None:
            self._give_up(f"the claims' lock was held for over {CLAIM_SECONDS} s")
        return owner

    def _read_a_spare(self) -> bool:
        """While the child reads, read here the next view nobody has claimed; False if none is
        left (or nothing can be read here)."""
        if self._read_here is None or self._claims is None:
            return False
        for name, index in self._order.items():
            if name in self._arrived or not unclaimed(self._claims, index):
                continue
            owner = self._claim(index)
            if owner == HERE:
                self._arrived[name] = self._read_here(name)
                return True
            if owner is None:
                return False
        return False

    def _receive(self, wait: bool) -> None:
        """The child's messages so far (with `wait`, at least one): views' outcomes, then its
        end or why it failed."""
        while not self._finished:
            try:
                message = self._inbox.get(block=wait)
            except queue.Empty:
                return
            if isinstance(message, tuple):
                name, outcome = message
                self._arrived[name] = outcome
            elif message is None:  # every view the child claimed has been sent
                self._finished = True
                self.close()
            else:
                self._give_up(str(message))
            wait = False

    def _give_up(self, why: str) -> None:
        """From now on every view not yet received is read here."""
        logger.warning(
            "reading the read models in a child process failed (%s); reading them in this one",
            why,
        )
        self._finished = True
        self._claims = None
        self.close()

    def close(self) -> None:
        """Stop the child unless it has said its last (the audit ended early, took every view it
        needed, or gave the child up) and reap it; then the receiving thread, which that ends,
        and the pipe."""
        if self._process is not None:
            stop_child(self._process, still_working=not self._child_done.is_set())
            self._process = None
        if self._listener is not None:
            self._listener.join()
            self._listener = None
        if self._receiver is not None:
            self._receiver.close()
            self._receiver = None


def _listen(receiver: Connection, inbox: queue.SimpleQueue[object], done: threading.Event) -> None:
    """Hand on the child's messages up to its last: its end (None), why it failed, or, if it
    went away without either, that; or why a message could not be received (then the child may
    still be at work: `close` stops it)."""
    try:
        while isinstance(message := receiver.recv(), tuple):
            inbox.put(message)
        done.set()
    except (EOFError, OSError):
        done.set()
        message = RuntimeError("the process reading the read models ended without a word")
    except BaseException as error:  # a snapshot that cannot be unpickled (memory, a bad class)
        message = RuntimeError(f"cannot receive a snapshot: {error!r}")
    inbox.put(message)


def read_view(atelier: Any, view: ProjectionView, read: Reader, until: int) -> Outcome:
    """One view brought to `until` at least, then read (as the child reads each); why not, if
    it cannot be (its check will try again, and report it)."""
    try:
        return caught_up(atelier, view, until) or snapshot(view, read)
    except Exception as error:  # a failed read, of this view only: its check reads it again
        return f"cannot read it: {error!r}"


def _serve(
    sender: Connection,
    settings: Settings,
    readers: dict[str, Reader],
    until: int,
    claims: SynchronizedArray[int] | None,
) -> None:
    """The child's whole life: read the views it claims, each outcome sent as it is ready, then
    None (or what went wrong)."""
    ignore_interrupts()
    end: BaseException | None = None
    try:
        with collector_paused():
            for outcome in read_views(settings, readers, until, NICENESS, claims):
                sender.send(outcome)
    except BaseException as error:  # reported to the parent, which reads in-process instead
        end = RuntimeError(f"{type(error).__name__}: {error}")
    with suppress(OSError):  # the audit has closed its end: it needs nothing more
        sender.send(end)
    sender.close()


def read_views(
    settings: Settings,
    readers: dict[str, Reader],
    until: int,
    niceness: int = 0,
    claims: SynchronizedArray[int] | None = None,
) -> Iterator[tuple[str, Outcome]]:
    """Each view brought to `until` at least, then read by its reader, in order (the process
    made `niceness` nicer first: for the child, see NICENESS); with `claims`, only the views
    this process claims before the audit's own process does."""
    atelier = build_application(settings, create_tables=False)  # the audit's process made them
    try:
        models = build_read_models(settings, atelier)
        assert models is not None, "a store without read models has nothing to snapshot"
        failures = {name: caught_up(atelier, models.views[name], until) for name in readers}
        if niceness:
            os.nice(niceness)
        for index, (name, read) in enumerate(readers.items()):
            if claims is None or claim(claims, index, CHILD) == CHILD:
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
