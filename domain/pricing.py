"""What a generation costs and how long it is expected to take, by quality (the plan's table)."""

from __future__ import annotations

import math

from domain.requests import Quality

BASE_COST = 1
QUALITY_MULTIPLIERS: dict[Quality, float] = {"standard": 1.0, "high": 1.5, "ultra": 2.0}
ESTIMATED_TIMES: dict[Quality, str] = {
    "standard": "30-60 seconds",
    "high": "1-2 minutes",
    "ultra": "2-3 minutes",
}


def token_cost(quality: Quality) -> int:
    """Tokens reserved for one generation: ceil(base x quality multiplier), so 1, 2, 2."""
    return math.ceil(BASE_COST * QUALITY_MULTIPLIERS[quality])


def estimated_time(quality: Quality) -> str:
    """The human-readable time estimate returned with a receipt."""
    return ESTIMATED_TIMES[quality]
