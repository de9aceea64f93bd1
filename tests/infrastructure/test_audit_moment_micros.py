"""The audit's event times in microseconds: the same integers the read models store, whether the
time is still in its stored form or already a datetime, and never a stale cached answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from application.audit.reading import moment_micros
from infrastructure.projections.sql import micros


def stored(moment: datetime) -> dict[str, str]:
    """A datetime as the library's JSON transcoder stores it."""
    return {"_type_": "datetime_iso", "_data_": moment.isoformat()}


MOMENTS = [
    datetime(2026, 1, 1, 0, 0, 6, 306723, tzinfo=UTC),
    datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),  # before the epoch: negative
    datetime(2026, 3, 29, 2, 30, tzinfo=timezone(timedelta(hours=2))),  # an offset
]


@pytest.mark.parametrize("moment", MOMENTS)
def test_as_the_read_models_store_it(moment: datetime) -> None:
    assert moment_micros(stored(moment)) == micros(moment)
    assert moment_micros(moment) == micros(moment)


def test_alternating_times_each_get_their_own_value() -> None:
    first, second = MOMENTS[0], MOMENTS[0] + timedelta(microseconds=1)
    for moment in (first, first, second, first, second, second):
        assert moment_micros(stored(moment)) == micros(moment)


def test_anything_else_is_refused() -> None:
    with pytest.raises(ValueError, match="not a stored datetime"):
        moment_micros({"_type_": "uuid_hex", "_data_": "0" * 32})


def test_the_cached_text_under_another_type_is_still_refused() -> None:
    moment_micros(stored(MOMENTS[0]))  # now the cached conversion
    with pytest.raises(ValueError, match="not a stored datetime"):
        moment_micros({"_type_": "uuid_hex", "_data_": MOMENTS[0].isoformat()})
