"""Deterministic identifiers, so an aggregate can be found from the product's own names."""

from __future__ import annotations

import re
from uuid import NAMESPACE_URL, UUID, uuid5

ATELIER_NAMESPACE = uuid5(NAMESPACE_URL, "https://atelier.example/")
USER_ID = re.compile(r"^[A-Za-z0-9_.@:-]{1,128}$")  # the contract's `sub`, and a worker's id


def account_id(user_id: str) -> UUID:
    """The TokenAccount of a user: one per user, found without a lookup table."""
    return uuid5(ATELIER_NAMESPACE, f"/accounts/{user_id}")


def queue_id() -> UUID:
    """The one GenerationQueue that holds the capacity rule for every user."""
    return uuid5(ATELIER_NAMESPACE, "/queue")
