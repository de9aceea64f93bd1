"""Fingerprints of rows (XXH3 of canonical JSON), summed per key, to compare in bounded memory."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from xxhash import xxh3_64_intdigest

MASK = (1 << 64) - 1
SORTED = orjson.OPT_SORT_KEYS


def fingerprint(row: Sequence[Any]) -> int:
    """A 64-bit digest of a row of JSON-able values (lists and dicts compared by content)."""
    return xxh3_64_intdigest(orjson.dumps(row, option=SORTED))


class RowSums:
    def __init__(self) -> None:
        self.sums: dict[int, int] = {}

    def add(self, key: int, row: Sequence[Any]) -> None:
        # `fingerprint` written out: this runs for every row of the large read models, twice
        digest = xxh3_64_intdigest(orjson.dumps(row, option=SORTED))
        self.sums[key] = (self.sums.get(key, 0) + digest) & MASK


def differing(expected: dict[int, int], held: dict[int, int]) -> tuple[list[int], list[int]]:
    """Keys held but never expected, and keys expected whose rows are missing or differ."""
    unknown = sorted(key for key in held if key not in expected)
    different = sorted(key for key, total in expected.items() if held.get(key) != total)
    return unknown, different
