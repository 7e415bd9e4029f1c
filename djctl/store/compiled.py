"""Statements compiled once per process (SQLite), for the few that run on every draw."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.sql import Executable

_COMPILED: dict[tuple[str, str, str], tuple[str, tuple[str, ...], tuple[Any, ...], tuple[Any, ...]]] = {}


def exec_cached(conn: Connection, name: str, build: Callable[[], Executable], **params: Any) -> CursorResult:
    """Execute the Core statement `build()` with `params` (its `bindparam` names).

    SQLAlchemy compiles a statement once per engine, and every `open_store` makes a new engine: a draw ran a
    dozen statements through that compiler each time, a few milliseconds (bench/run.py, step sample). On
    SQLite the statement is compiled once per process under `name` and its SQL text goes to the driver, the
    parameters through the same bind processors (dates as ISO text and the like); other databases take the
    statement as it is. Results are the driver's own values (SQLite: booleans 0/1, dates as text), so select
    plain columns and apply `bool()` to flags. A parameter not given keeps the statement's own value.
    """
    dialect = conn.dialect
    if dialect.name != "sqlite":
        return conn.execute(build(), params)
    key = (name, dialect.driver, dialect.paramstyle)
    entry = _COMPILED.get(key)
    if entry is None:
        compiled = build().compile(dialect=dialect)
        order = tuple(compiled.positiontup or ())
        binds = [compiled.binds[n] for n in order]
        entry = (compiled.string, order, tuple(b.effective_value for b in binds),
                 tuple(b.type.dialect_impl(dialect).bind_processor(dialect) for b in binds))
        _COMPILED[key] = entry
    sql, order, defaults, processors = entry
    values = []
    for n, default, proc in zip(order, defaults, processors):
        value = params[n] if n in params else default
        values.append(value if proc is None else proc(value))
    return conn.exec_driver_sql(sql, tuple(values))
