"""The audit's read-ahead thread (reading the log, or the log child's pipe): items in order,
errors raised to the consumer, at most `depth` items ahead, and a consumer that stops early
leaves no thread behind."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator

import pytest

from application.audit.reading import read_ahead


def test_items_arrive_in_order_and_the_sources_error_is_raised_to_the_consumer() -> None:
    def source() -> Iterator[int]:
        yield from range(5)
        raise ValueError("the log could not be read")

    received: list[int] = []
    with pytest.raises(ValueError, match="could not be read"):
        received.extend(read_ahead(source(), depth=2, name="test-ahead-error"))
    assert received == [0, 1, 2, 3, 4]


def test_a_consumer_that_stops_early_stops_the_thread_at_most_depth_ahead() -> None:
    produced: list[int] = []

    def source() -> Iterator[int]:
        for number in itertools.count():
            produced.append(number)
            yield number

    items = read_ahead(source(), depth=2, name="test-ahead-early-stop")
    assert next(items) == 0
    items.close()
    assert "test-ahead-early-stop" not in {thread.name for thread in threading.enumerate()}
    assert len(produced) <= 1 + 2 + 1  # the one taken, two queued, one in hand
