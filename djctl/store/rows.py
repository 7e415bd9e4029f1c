"""Read-only rows of a whole table, without ORM objects.

Year-end documents read every unit and branch several times (names, groups, secretaries, active periods). An
ORM object costs about ten times a Core row (identity map, state, pydantic attributes): at 5,000 units and
20,000 branches the loads alone took seconds (bench/run.py, step year-end). A Core row answers the same
attribute names (`u.code`, `u.name`, `u.active_from`), with the same Python types, but cannot be changed or
added to a session: use it only where nothing is written.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select


def plain_rows(session: Any, model: Any, *where: Any, order_by: Any = ()) -> list[Any]:
    """Every column of `model`'s rows matching `where`, as read-only rows (one fetchall)."""
    q = select(model.__table__).where(*where)
    if order_by != ():
        q = q.order_by(*(order_by if isinstance(order_by, (list, tuple)) else (order_by,)))
    return session.connection().execute(q).all()
