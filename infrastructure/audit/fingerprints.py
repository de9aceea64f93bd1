"""Fingerprints of rows, summed per key, to compare a large read model in bounded memory.

For each key (a generation), the replay adds the fingerprint of every row the read model should
hold for it, and the comparison subtracts the fingerprint of every row the read model does hold:
a key left at zero matches. Sums (not XOR) so that a row held twice does not cancel out. Only an
integer per key is kept, never the rows, and the read model is read a page at a time.

A fingerprint is the hash of the row made immutable (lists as tuples, dicts as sorted items):
computed in C, stable within one process, which is all one audit needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

MASK = (1 << 64) - 1


def frozen(value: Any) -> Any:
    """`value` with every list a tuple and every dict its sorted items, so it can be hashed."""
    if isinstance(value, list | tuple):
        return tuple(frozen(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted((key, frozen(item)) for key, item in value.items()))
    return value


def fingerprint(row: Sequence[Any]) -> int:
    """A 64-bit digest of a row of plain values (lists and dicts compared by content).

    Rows built as tuples of scalars and of tuples (see `frozen`) hash directly, in C.
    """
    try:
        return hash(row) & MASK
    except TypeError:  # a list or a dict in the row: make it immutable first
        return hash(frozen(row)) & MASK


class RowSums:
    """Per key: the fingerprints of the rows expected, minus those found."""

    def __init__(self) -> None:
        self.sums: dict[int, int] = {}

    def expect(self, key: int, row: Sequence[Any]) -> None:
        self.sums[key] = (self.sums.get(key, 0) + fingerprint(row)) & MASK

    def found(self, key: int, row: Sequence[Any]) -> bool:
        """Take a row the read model holds off its key; False if the key was never expected."""
        if key not in self.sums:
            return False
        self.sums[key] = (self.sums[key] - fingerprint(row)) & MASK
        return True

    def unmatched(self) -> list[int]:
        """Keys whose rows were missing, extra or different."""
        return [key for key, total in self.sums.items() if total]
