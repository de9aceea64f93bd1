"""SQL that runs unchanged on SQLite and PostgreSQL: placeholders, table names and time values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def micros(moment: datetime) -> int:
    """A timezone-aware moment as whole microseconds since the epoch (exact, no floats)."""
    return (moment - EPOCH) // MICROSECOND


def micros_in(duration: timedelta) -> int:
    return duration // MICROSECOND


def micros_or_none(moment: datetime | None) -> int | None:
    return None if moment is None else micros(moment)


def from_micros(value: int) -> datetime:
    return EPOCH + value * MICROSECOND


def from_micros_or_none(value: int | None) -> datetime | None:
    return None if value is None else from_micros(value)


def quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


@dataclass(frozen=True)
class Dialect:
    """How one store spells placeholders and table names."""

    placeholder: str  # "?" (sqlite3) or "%s" (psycopg)
    schema: str | None = None  # PostgreSQL schema that holds the tables

    def table(self, name: str) -> str:
        return name if self.schema is None else f"{quoted(self.schema)}.{quoted(name)}"

    def compile(self, template: str, tables: Mapping[str, str]) -> str:
        """`template` with `{name}` as the qualified `tables[name]` and `?` as the placeholder."""
        names = {name: self.table(real) for name, real in tables.items()}
        statement = template.format(**names)
        return statement if self.placeholder == "?" else statement.replace("?", self.placeholder)


SQLITE = Dialect(placeholder="?")


def postgres(schema: str) -> Dialect:
    return Dialect(placeholder="%s", schema=schema)
