"""The SQL one batch of events turns into: folded per row, so it runs in few statements."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

Params = tuple[Any, ...]
Row = dict[str, Any]


@dataclass(frozen=True)
class Run:
    """One statement and its rows; `table` and `columns` when it only inserts (for COPY)."""

    template: str
    rows: list[Params]
    table: str | None = None
    columns: tuple[str, ...] = ()


@dataclass
class RowChange:
    """What a batch does to one row: `delete` it, then insert `row`, or update `changes`."""

    row: Row | None = None
    changes: Row = field(default_factory=dict)
    delete: bool = False


class Writes:
    """A batch's writes, for one projection whose tables have the given key columns."""

    def __init__(self, tables: Mapping[str, tuple[str, ...]]) -> None:
        self._keys = tables
        self._rows: dict[str, dict[Params, RowChange]] = {table: {} for table in tables}
        self._statements: list[tuple[str, list[Params]]] = []
        self._sums: dict[tuple[str, Params], int] = {}
        # What a projection remembers while folding this batch (so threads never share it).
        self.folding: dict[str, Any] = {}

    def insert(self, table: str, row: Row) -> None:
        """A new row (the batch keeps `row` itself: pass a dict nobody else changes)."""
        key = tuple(row[column] for column in self._keys[table])
        change = self._rows[table].get(key)
        if change is None:
            self._rows[table][key] = RowChange(row=row)
        elif change.delete and change.row is None:
            change.row = row  # deleted earlier in the batch: replaced
        else:
            raise ValueError(f"{table} row {key} inserted twice in one batch")

    def update(self, table: str, key: Params, changes: Row) -> None:
        change = self._rows[table].setdefault(key, RowChange())
        if change.row is not None:
            change.row.update(changes)
        elif not change.delete:
            change.changes.update(changes)

    def delete(self, table: str, key: Params) -> None:
        change = self._rows[table].get(key)
        if change is not None and change.row is not None and not change.delete:
            del self._rows[table][key]  # inserted in this batch: never written at all
        else:
            self._rows[table][key] = RowChange(delete=True)

    def add(self, template: str, *params: Any) -> None:
        """A statement with `{table}` names and `?` placeholders, run in the order added."""
        if self._statements and self._statements[-1][0] == template:
            self._statements[-1][1].append(params)
        else:
            self._statements.append((template, [params]))

    def add_to(self, template: str, key: Params, amount: int) -> None:
        """Sum `amount` into the counter `key`; `template` takes (*key, total)."""
        self._sums[template, key] = self._sums.get((template, key), 0) + amount

    def runs(self) -> Iterator[Run]:
        """Keyed rows table by table as listed, then `add` statements as added, then sums."""
        for table, changes in self._rows.items():
            yield from self._table_runs(table, changes)
        for template, rows in self._statements:
            yield Run(template, rows)
        for (template, key), total in self._sums.items():
            # A zero sum too: a counter's row exists once anything touched it, however the
            # events were batched (a rebuild in other batches holds the same rows).
            yield Run(template, [(*key, total)])

    def _table_runs(self, table: str, changes: dict[Params, RowChange]) -> Iterator[Run]:
        keys = self._keys[table]
        where = " AND ".join(f"{column} = ?" for column in keys)
        deleted = [key for key, change in changes.items() if change.delete]
        if deleted:
            yield Run(f"DELETE FROM {{{table}}} WHERE {where}", deleted)  # noqa: S608 - constants
        inserts: dict[tuple[str, ...], list[Params]] = {}
        updates: dict[tuple[str, ...], list[Params]] = {}
        for key, change in changes.items():
            if change.row is not None:
                inserts.setdefault(tuple(change.row), []).append(tuple(change.row.values()))
            elif change.changes:
                values = (*change.changes.values(), *key)
                updates.setdefault(tuple(change.changes), []).append(values)
        for columns, rows in inserts.items():
            marks = ", ".join("?" * len(columns))
            names = ", ".join(columns)
            template = f"INSERT INTO {{{table}}} ({names}) VALUES ({marks})"  # noqa: S608
            yield Run(template, rows, table, columns)
        for columns, rows in updates.items():
            assignments = ", ".join(f"{column} = ?" for column in columns)
            yield Run(f"UPDATE {{{table}}} SET {assignments} WHERE {where}", rows)  # noqa: S608

    def __len__(self) -> int:
        rows = sum(len(changes) for changes in self._rows.values())
        return rows + sum(len(params) for _, params in self._statements) + len(self._sums)
