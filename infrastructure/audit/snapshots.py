"""The read models read by a child process while the replay reads the log; views shared out."""

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

from infrastructure.audit.children import (
    ClosedOnExit,
    collector_paused,
    ignore_interrupts,
    start_child,
    stop_child,
)
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

# Once its views are caught up, the child yields the CPU to the replay and the log's reader.
NICENESS = 19


@dataclass(frozen=True)
class Snapshot:
    """A read model's content (as its check reduces it) at one log position."""

    position: int
    held: Any


# A view's snapshot, or why it could not be caught up or read.
Outcome = Snapshot | str


class ViewSnapshots(ClosedOnExit):
    """Snapshots of read models, read by a child from now on; `take` hands each over once.
    Rather than wait, the audit reads the next unclaimed view itself (`read_here`)."""

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
        # Each snapshot is taken off the pipe at once, so that the child reads on.
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
        """While the child reads, read here the next view nobody has claimed (False: none)."""
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
        """The child's messages so far (with `wait`, at least one)."""
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
        logger.warning(
            "reading the read models in a child process failed (%s); reading them in this one",
            why,
        )
        self._finished = True
        self._claims = None
        self.close()

    def close(self) -> None:
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
    """Hand on the child's messages up to its last: its end (None), or why it failed."""
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
    """One view brought to `until` at least, then read (as the child reads each); or why not."""
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
    """The child's whole life: each view it claims sent as it is read, then None (or why)."""
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
    """Each view brought to `until`, then read in order (after `os.nice(niceness)`); with
    `claims`, only the views this process claims first."""
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
    with consistent_read(view) as reader:
        return Snapshot(reader.position(), read(reader))
