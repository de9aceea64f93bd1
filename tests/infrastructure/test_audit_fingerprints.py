"""Row fingerprints: equal content, equal fingerprint, in every process; any change shows."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from infrastructure.audit.fingerprints import RowSums, differing, fingerprint

ROW: tuple[Any, ...] = (
    "alice",
    42,
    "pending",
    ["https://res.cloudinary.com/demo/image/upload/a.jpg"],
    {"style": "realistic", "quality": "high", "nested": {"b": 1, "a": [1, 2]}},
    None,
    True,
)


def test_a_fingerprint_is_the_same_in_another_process() -> None:
    """The read models are fingerprinted in a child process: a per-process salt would make
    every row differ."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as child:
        assert child.submit(fingerprint, ROW).result() == fingerprint(ROW)


def test_content_decides_not_form() -> None:
    reordered = {"quality": "high", "nested": {"a": [1, 2], "b": 1}, "style": "realistic"}
    as_tuples = (*ROW[:3], tuple(ROW[3]), reordered, *ROW[5:])
    assert fingerprint(as_tuples) == fingerprint(ROW)


def test_every_changed_value_changes_the_fingerprint() -> None:
    changes: list[tuple[int, Any]] = [
        (0, "bob"),
        (1, 43),
        (2, "processing"),
        (3, []),
        (4, {"style": "realistic"}),
        (5, ""),
        (6, False),
    ]
    for at, value in changes:
        changed = list(ROW)
        changed[at] = value
        assert fingerprint(changed) != fingerprint(ROW), at


def test_sums_per_key_catch_a_missing_an_extra_and_a_twice_held_row() -> None:
    expected, held = RowSums(), RowSums()
    for key in (1, 2, 3):
        expected.add(key, ("owner", key))
        expected.add(key, ("file", key, 0))
    held.add(1, ("owner", 1))
    held.add(1, ("file", 1, 0))  # key 1 matches
    held.add(2, ("owner", 2))  # key 2 misses its file
    held.add(3, ("owner", 3))
    held.add(3, ("file", 3, 0))
    held.add(3, ("file", 3, 0))  # key 3 holds its file twice
    held.add(4, ("owner", 4))  # key 4 was never expected
    unknown, different = differing(expected.sums, held.sums)
    assert unknown == [4]
    assert different == [2, 3]
