"""Fingerprints of rows, summed per key, to compare a large read model in bounded memory.

For each key (a generation), the replay adds up the fingerprints of the rows the read model
should hold for it, and reading the read model adds up the fingerprints of the rows it does
hold: equal sums match. Sums (not XOR) so that a row held twice does not cancel out. Only an
integer per key is kept, never the rows, and the read model is read a page at a time.

A fingerprint is the 64-bit XXH3 hash of the row as canonical JSON (orjson, keys sorted): the
same in every process, which matters because the read model is read in a child process
(Python's own `hash` of a string is salted per process), and computed in C on both sides. XXH3
rather than a cryptographic digest: it finds drift and tampering as surely (a changed row misses
its sum by a random 64-bit amount) at a fifth of the cost per row, and the audit fingerprints
every generation and image twice. It does not stand against someone crafting a collision on
purpose, which 64 bits of BLAKE2b would not either (and whoever can write the read models to
that end can write the log itself).
"""

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
    """Per key: the sum of the fingerprints of its rows."""

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
