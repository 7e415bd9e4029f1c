"""Bulk rows (task scores, draw entries): one executemany of plain tuples.

Core's `conn.execute(table.insert(), [dict, ...])` processes every row's dict in Python before the driver
sees it, about three times the cost of the driver's own executemany (bench/run.py, step "store": 1.2
million task scores). Rows of plain values (int, str, bool, None) need none of that processing, so on
SQLite they go to the driver's executemany directly, on the same connection and in the same transaction;
other databases keep the Core statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.engine import Connection

_PLAIN = (int, str, type(None))  # bool is an int


def insert_rows(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    """Insert `rows` (sequences of plain values in the order of `columns`) into `table`; the row count.

    Values must be int, bool, str or None: they are stored as they are, with no type processing (dates,
    decimals and the like go through the ORM or Core, never through here).
    """
    if not rows:
        return 0
    cols = [table.c[name] for name in columns]  # KeyError for a column the table does not have
    for value in rows[0]:
        if not isinstance(value, _PLAIN):
            raise TypeError(f"insert_rows takes plain values only, not {type(value).__name__}")
    if conn.dialect.name != "sqlite":
        conn.execute(table.insert(), [dict(zip(columns, row)) for row in rows])
        return len(rows)
    q = conn.dialect.identifier_preparer
    sql = (f"INSERT INTO {q.format_table(table)} ({', '.join(q.format_column(c) for c in cols)}) "
           f"VALUES ({', '.join('?' * len(cols))})")
    params = rows if isinstance(rows, list) and isinstance(rows[0], tuple) else [tuple(r) for r in rows]
    conn.exec_driver_sql(sql, params)
    return len(rows)


def insert_ids(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert `rows` (dicts with the same keys; Core processes the values) in one executemany and return their
    new ids in the order of `rows`.

    SQLite returns RETURNING rows of an executemany in no promised order, and SQLAlchemy then falls back to one
    statement per row; the writer holds the database's write lock (BEGIN IMMEDIATE), so the ids are read back
    as the rows above the largest id before the insert, in id order. Other databases use RETURNING with
    SQLAlchemy's parameter-order guarantee.
    """
    if not rows:
        return []
    pk = table.c.id
    if conn.dialect.name != "sqlite":
        q = table.insert().returning(pk, sort_by_parameter_order=True)
        return [r[0] for r in conn.execute(q, list(rows))]
    before = conn.execute(select(func.max(pk))).scalar() or 0
    conn.execute(table.insert(), list(rows))
    ids = [r[0] for r in conn.execute(select(pk).where(pk > before).order_by(pk))]
    if len(ids) != len(rows):  # another writer inside our transaction cannot happen; refuse rather than guess
        raise RuntimeError(f"{table.name}: {len(rows)} rows inserted but {len(ids)} new ids found")
    return ids
