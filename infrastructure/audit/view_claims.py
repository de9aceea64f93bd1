"""Who reads which read model, the audit's process or its child: a byte per view, shared."""

from __future__ import annotations

import logging
import multiprocessing
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.sharedctypes import SynchronizedArray

logger = logging.getLogger(__name__)

# Who reads a view: nobody yet, the child, or the audit's own process.
UNCLAIMED, CHILD, HERE = 0, 1, 2
# How long a claim may wait for the lock (only a process killed holding it makes it wait).
CLAIM_SECONDS = 10.0


def shared_claims(views: int) -> SynchronizedArray[int] | None:
    """One claim per view, shared with a child spawned after it; None without shared semaphores
    (some containers: the child then reads every view)."""
    try:
        return multiprocessing.get_context("spawn").Array("b", views)
    except (OSError, ImportError):  # no working sem_open
        logger.warning("no shared memory for the read-models child: it reads every view")
        return None


def claim(claims: SynchronizedArray[int], index: int, who: int) -> int | None:
    """Claim the view at `index` for `who` unless claimed; its owner (None: no lock in time)."""
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
    return claims.get_obj()
