"""Queue positions in O(log n): pending counts per block of log positions, block inside block.

A pending generation's place is how many pending generations were accepted at or before it.
Its own block of 256 log positions is counted from the queue's index (at most 256 entries);
every earlier block is summed from `pending_counts`, a tree whose level-L node `seq >> 8L`
holds the pending count of its 256**L positions: at most 255 siblings a level, six levels.
"""

from __future__ import annotations

from collections.abc import Iterator

FANOUT_BITS = 8  # each node holds 256 children
LEVELS = 6  # log positions below 2**56
LIMIT = 1 << (FANOUT_BITS * (LEVELS + 1))

CREATE_COUNTS = (
    "CREATE TABLE IF NOT EXISTS {pending_counts} ("
    "level INTEGER NOT NULL, node BIGINT NOT NULL, n BIGINT NOT NULL, PRIMARY KEY (level, node))"
)
ADD_COUNT = (
    "INSERT INTO {pending_counts} AS counts (level, node, n) VALUES (?, ?, ?) "
    "ON CONFLICT (level, node) DO UPDATE SET n = counts.n + excluded.n"
)
DROP_EMPTY = "DELETE FROM {pending_counts} WHERE level = ? AND node = ? AND n = 0"


def nodes_of(seq: int) -> Iterator[tuple[int, int]]:
    """The (level, node) counters a pending generation accepted at `seq` is counted in."""
    if not 0 <= seq < LIMIT:
        raise ValueError(f"log position {seq} is outside the queue's rank tree")
    for level in range(1, LEVELS + 1):
        yield level, seq >> (FANOUT_BITS * level)


def rank_expression(me: str) -> str:
    """SQL for the 1-based place of the pending row aliased `me` (its own row counted).

    Only integers computed here enter the text; `me` is a constant alias.
    """
    block = 1 << FANOUT_BITS
    terms = [
        "(SELECT COUNT(*) FROM {pending_queue} ahead WHERE ahead.status = 'pending' "  # noqa: S608
        f"AND ahead.seq >= ({me}.seq / {block}) * {block} AND ahead.seq <= {me}.seq)"
    ]
    for level in range(1, LEVELS + 1):
        width = 1 << (FANOUT_BITS * level)
        terms.append(
            "(SELECT COALESCE(SUM(counts.n), 0) FROM {pending_counts} counts "  # noqa: S608
            f"WHERE counts.level = {level} "
            f"AND counts.node >= ({me}.seq / {width * block}) * {block} "
            f"AND counts.node < {me}.seq / {width})"
        )
    return "CAST(" + " + ".join(terms) + " AS BIGINT)"
