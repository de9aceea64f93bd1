"""Reading the read models in a second process while the replay reads the log.

A full audit does two independent things: it replays the log (which it must do in order, in
one thread) and it reads every row of every read model. Reading the read models takes as long
as a third of the replay, so `atelier audit` hands it to a child process started as the audit
begins: the child catches each view up to the log's head as of that moment (as a runner
would), reads its position and content in one transaction, reduces the content to what the
comparison needs (fingerprints per key, not rows), and sends that back. The replay then reads
on to each view's position and compares.

The child is a fresh interpreter (spawn, not fork: a forked child would share the parent's
database connections and SQLite's file locks). If it fails for any reason, each check reads
its view in the audit's own process instead, so the child can only make the audit faster,
never change what it finds.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from infrastructure.audit.consistent_read import ViewReader, consistent_read
from infrastructure.bootstrap import build_application, build_read_models
from infrastructure.projections.catch_up import catch_up
from infrastructure.projections.view import ProjectionView
from infrastructure.settings import Settings

logger = logging.getLogger(__name__)

Reader = Callable[[ViewReader], Any]


@dataclass(frozen=True)
class Snapshot:
    """A read model's content (as its check reduces it) at one log position."""

    position: int
    held: Any


# A view's snapshot, or why the view could not be brought to the position asked for.
Outcome = Snapshot | str


class ViewSnapshots:
    """The snapshots of some read models, being read by a child process from the moment this
    object is made; `take` waits for them."""

    def __init__(self, settings: Settings, readers: Mapping[str, Reader], until: int) -> None:
        self._executor = ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn")
        )
        self._future = self._executor.submit(read_views, settings, dict(readers), until)
        self._outcomes: dict[str, Outcome] | None = None

    def take(self, name: str) -> Outcome | None:
        """The view's outcome, once; None if the child could not read it (read it here)."""
        if self._outcomes is None:
            try:
                self._outcomes = self._future.result()
            except Exception:  # the child crashed or could not reach the store
                logger.warning(
                    "reading the read models in a child process failed; reading them in this one",
                    exc_info=True,
                )
                self._outcomes = {}
            finally:
                self._executor.shutdown()
        return self._outcomes.pop(name, None)


def read_views(settings: Settings, readers: dict[str, Reader], until: int) -> dict[str, Outcome]:
    """In the child: each view brought to `until` at least, then read by its reader."""
    atelier = build_application(settings)
    try:
        models = build_read_models(settings, atelier)
        assert models is not None, "a store without read models has nothing to snapshot"
        return {
            name: snapshot(atelier, models.views[name], read, until)
            for name, read in readers.items()
        }
    finally:
        atelier.close()


def snapshot(atelier: Any, view: ProjectionView, read: Reader, until: int) -> Outcome:
    """The view at `until` or beyond (caught up first if it is behind), read in one go."""
    try:
        catch_up(atelier, view, until=until)
    except Exception as error:  # a projection that cannot apply the log
        return f"cannot apply the log: {error}"
    with consistent_read(view) as reader:
        return Snapshot(reader.position(), read(reader))
