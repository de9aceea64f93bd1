"""How a batch's row changes fold into few statements, and the order they run in."""

from __future__ import annotations

from infrastructure.projections.writes import Run, Writes

KEYS = {"owners": ("id",), "items": ("id", "n")}
COUNT = "INSERT INTO {totals} (metric, value) VALUES (?, ?)"
RAW = "DELETE FROM {items} WHERE id = ?"


def runs(writes: Writes) -> list[tuple[str, list[tuple[object, ...]]]]:
    return [(run.template, run.rows) for run in writes.runs()]


def test_a_row_inserted_then_updated_is_inserted_once_in_its_final_state() -> None:
    writes = Writes(KEYS)
    writes.insert("owners", {"id": "a", "name": "x", "status": "new"})
    writes.update("owners", ("a",), {"status": "done"})
    writes.update("owners", ("a",), {"name": "y"})
    assert runs(writes) == [
        ("INSERT INTO {owners} (id, name, status) VALUES (?, ?, ?)", [("a", "y", "done")])
    ]


def test_a_row_inserted_and_deleted_in_one_batch_is_never_written() -> None:
    writes = Writes(KEYS)
    writes.insert("owners", {"id": "a", "status": "new"})
    writes.update("owners", ("a",), {"status": "busy"})
    writes.delete("owners", ("a",))
    assert runs(writes) == []
    assert len(writes) == 0


def test_updates_of_existing_rows_merge_and_group_by_the_columns_they_set() -> None:
    writes = Writes(KEYS)
    writes.update("owners", ("a",), {"status": "busy"})
    writes.update("owners", ("b",), {"status": "busy"})
    writes.update("owners", ("a",), {"status": "done", "error": None})
    assert runs(writes) == [
        ("UPDATE {owners} SET status = ?, error = ? WHERE id = ?", [("done", None, "a")]),
        ("UPDATE {owners} SET status = ? WHERE id = ?", [("busy", "b")]),
    ]


def test_a_deleted_row_stays_deleted_and_a_replaced_one_is_deleted_first() -> None:
    writes = Writes(KEYS)
    writes.update("owners", ("a",), {"status": "busy"})
    writes.delete("owners", ("a",))
    writes.update("owners", ("a",), {"status": "ignored: the row is gone"})
    writes.delete("owners", ("b",))
    writes.insert("owners", {"id": "b", "status": "again"})
    assert runs(writes) == [
        ("DELETE FROM {owners} WHERE id = ?", [("a",), ("b",)]),
        ("INSERT INTO {owners} (id, status) VALUES (?, ?)", [("b", "again")]),
    ]


def test_keyed_rows_then_statements_in_order_then_sums() -> None:
    writes = Writes(KEYS)
    writes.add_to(COUNT, ("n",), 2)
    writes.add(RAW, "x")
    writes.add(RAW, "y")
    writes.insert("items", {"id": "a", "n": 1})
    writes.insert("owners", {"id": "a"})
    writes.add_to(COUNT, ("n",), -2)  # sums to nothing: written all the same (the row exists)
    writes.add_to(COUNT, ("m",), 1)
    assert runs(writes) == [
        ("INSERT INTO {owners} (id) VALUES (?)", [("a",)]),  # tables in the order declared
        ("INSERT INTO {items} (id, n) VALUES (?, ?)", [("a", 1)]),
        (RAW, [("x",), ("y",)]),
        (COUNT, [("n", 0)]),
        (COUNT, [("m", 1)]),
    ]


def test_inserts_name_their_table_so_a_store_may_load_them_in_bulk() -> None:
    writes = Writes(KEYS)
    writes.insert("items", {"id": "a", "n": 1})
    writes.update("owners", ("b",), {"status": "x"})
    updated, inserted = list(writes.runs())  # owners first: declared first
    assert (inserted.table, inserted.columns) == ("items", ("id", "n"))
    assert updated == Run("UPDATE {owners} SET status = ? WHERE id = ?", [("x", "b")])
