"""Reading the read models in a child process while the replay reads the log.

A full audit does two independent things: it replays the log (in order, in one thread; the
log itself is read by another child, log_reader.py) and it reads every row of every read
model. Reading and fingerprinting the read models costs about a third of the replay, so
`atelier audit` hands it to a child process started as the audit begins: the child catches
each view up to the log's head as of that moment (as a runner would), reads its position and
content in one transaction, reduces the content to what the comparison needs (per-key
fingerprints for the large read models), and sends that back. The replay then reads on to
each view's position and compares.

The child is a fresh interpreter (spawn, not fork: a forked child would share the parent's
database connections and SQLite's file locks). Whatever goes wrong with it (it cannot start,
it dies, it cannot catch a view up), each check reads its view in the audit's own process
instead, exactly as without a child: the child can make the audit faster, never change what
it finds. An audit that ends early stops the child.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnProcess
from typing import Any

from infrastructure.audit.children import ClosedOnExit, start_child, stop_child
from infrastructure.audit.collector import collector_paused, ignore_interrupts
from infrastructure.audit.consistent_read import ViewReader, consistent_read
from infrastructure.bootstrap import build_application, build_read_models
from infrastructure.projections.catch_up import catch_up
from infrastructure.projections.view import ProjectionView
from infrastructure.settings import Settings

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
    object is made; `take` waits for them, `close` (or leaving the `with` block) ends it."""

    def __init__(self, settings: Settings, readers: Mapping[str, Reader], until: int) -> None:
        self._outcomes: dict[str, Outcome] | None = None
        self._process: SpawnProcess | None = None
        self._receiver: Connection | None = None
        started = start_child(
            _serve,
            (settings, dict(readers), until),
            "atelier-audit-read-models",
            False,
            "read the read models",
        )
        if started is None:  # the checks read in-process
            self._outcomes = {}
        else:
            self._process, self._receiver = started

    def take(self, name: str) -> Outcome | None:
        """The view's outcome, once; None when the child has not read it (read it here)."""
        if self._outcomes is None:
            self._outcomes = self._receive()
        return self._outcomes.pop(name, None)

    def _receive(self) -> dict[str, Outcome]:
        assert self._receiver is not None
        try:
            received = self._receiver.recv()
        except (EOFError, OSError):
            received = RuntimeError("the process reading the read models ended without a word")
        finally:
            self.close()
        if isinstance(received, BaseException):
            logger.warning(
                "reading the read models in a child process failed (%s); reading them in this one",
                received,
            )
            return {}
        return received  # type: ignore[no-any-return]

    def close(self) -> None:
        """Stop the child if it is still at work (the audit ended early), and reap it."""
        if self._receiver is not None:
            self._receiver.close()
            self._receiver = None
        if self._process is not None:
            stop_child(self._process, still_working=self._outcomes is None)
            self._process = None


def _serve(sender: Connection, settings: Settings, readers: dict[str, Reader], until: int) -> None:
    """The child's whole life: read the views, send the outcomes (or what went wrong)."""
    ignore_interrupts()
    try:
        with collector_paused():
            result: dict[str, Outcome] | BaseException = read_views(
                settings, readers, until, NICENESS
            )
    except BaseException as error:  # reported to the parent, which reads in-process instead
        result = RuntimeError(f"{type(error).__name__}: {error}")
    sender.send(result)
    sender.close()


def read_views(
    settings: Settings, readers: dict[str, Reader], until: int, niceness: int = 0
) -> dict[str, Outcome]:
    """Each view brought to `until` at least, then read by its reader (the process made
    `niceness` nicer first: for the child, see NICENESS)."""
    atelier = build_application(settings, create_tables=False)  # the audit's process made them
    try:
        models = build_read_models(settings, atelier)
        assert models is not None, "a store without read models has nothing to snapshot"
        failures = {name: caught_up(atelier, models.views[name], until) for name in readers}
        if niceness:
            os.nice(niceness)
        return {
            name: failures[name] or snapshot(models.views[name], read)
            for name, read in readers.items()
        }
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
