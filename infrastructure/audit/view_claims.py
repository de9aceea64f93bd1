"""Who reads which read model in a full audit: the audit's process or its read-models child.

The child reads the views in the order the audit compares them, and the audit, rather than
wait for the view the child is reading, reads the next ones itself (snapshots.py). Each view is
read by whichever process claims it first: one byte per view in memory the two processes
share, under its lock, so that a view is never read twice nor left unread.
"""

from __future__ import annotations

import logging
import multiprocessing
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.sharedctypes import SynchronizedArray

logger = logging.getLogger(__name__)

# Who reads a view: nobody yet, the child, or the audit's own process.
UNCLAIMED, CHILD, HERE = 0, 1, 2
# How long a claim may wait for the lock: it is held for a few instructions, so only a process
# killed while holding it (for good) makes a claim wait this long.
CLAIM_SECONDS = 10.0


def shared_claims(views: int) -> SynchronizedArray[int] | None:
    """One claim per view (UNCLAIMED to start), in memory shared with a child spawned after it,
    with a lock of its own; None where the platform has no shared semaphores (some containers),
    and the child then reads every view."""
    try:
        return multiprocessing.get_context("spawn").Array("b", views)
    except (OSError, ImportError):  # no working sem_open
        logger.warning("no shared memory for the read-models child: it reads every view")
        return None


def claim(claims: SynchronizedArray[int], index: int, who: int) -> int | None:
    """Claim the view at `index` for `who` unless it is claimed already; its owner now (None:
    the lock could not be had within CLAIM_SECONDS)."""
    lock = claims.get_lock()
    if not lock.acquire(timeout=CLAIM_SECONDS):
        return None
    try:
        owners = unlocked(claims)
        if owners[index] == UNCLAIMED:
            owners[index] = who
        return int(owners[index])
    finally:
        lock.release()


def unclaimed(claims: SynchronizedArray[int], index: int) -> bool:
    """A glance without the lock (only `claim` decides): True if nobody had the view then."""
    return bool(unlocked(claims)[index] == UNCLAIMED)


def unlocked(claims: SynchronizedArray[int]) -> Any:
    """The claims themselves, read and written without taking their lock (a ctypes array of
    bytes, indexed as ints)."""
    return claims.get_obj()
