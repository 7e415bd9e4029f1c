"""Business dates on every fact, and each rectification item's dated history

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

New columns: rectification.found_on, draw.as_of, check_report.checked_on, lookback_result.checked_on,
vote.decided_on, adjustment.decided_on, negative_entry.decided_on; new table rectification_event (one row per
change of an item's status or deadline, effective on its business date).

Existing rows are filled from what the store knows, and every date that had to be inferred is listed in ONE
audit event, `store.dates` (payload `inferred`: table, column, rule, row ids), which also carries the row
digests of the rectification items and of the events made here, so `audit verify` covers them. Rules:

- draw.as_of: a look-back draw's `as_of` from its audit event (known); otherwise the period's last day.
- check_report.checked_on: the last day of the month checked (the worksheet's default 核查日期).
- lookback_result.checked_on: the `date` of its `lookback.import` event (known); otherwise 31 December.
- vote / adjustment / negative_entry: 31 December of their year.
- rectification.found_on: a spot-check item: the check date of its month (month's end); a look-back item:
  the `date` of the import that made it (known); any other: the deadline it was added with (its
  `rectify.add` event) less 30 days (the default `lookback.rectify_days`). Never later than the deadline.
- rectification_event: "found" on found_on; an item in progress: "progress" on found_on (inferred); a closed
  item: "close" on its closed_on (known; its deadline when empty).
An empty store gets no event.
"""

import calendar
import json
from datetime import date, timedelta

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

RECT_COLUMNS = ("org_code", "org_kind", "problem", "source", "source_ref", "due", "status", "feedback",
                "closed_on", "created_at", "found_on")
EVENT_COLUMNS = ("item_id", "action", "status", "on_date", "due", "note", "detail")


def upgrade() -> None:
    op.add_column('rectification', sa.Column('found_on', sa.Date(), nullable=True))
    op.add_column('draw', sa.Column('as_of', sa.Date(), nullable=True))
    op.add_column('check_report', sa.Column('checked_on', sa.Date(), nullable=True))
    op.add_column('lookback_result', sa.Column('checked_on', sa.Date(), nullable=True))
    op.add_column('vote', sa.Column('decided_on', sa.Date(), nullable=True))
    op.add_column('adjustment', sa.Column('decided_on', sa.Date(), nullable=True))
    op.add_column('negative_entry', sa.Column('decided_on', sa.Date(), nullable=True))
    op.create_table('rectification_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('on_date', sa.Date(), nullable=False),
    sa.Column('due', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.Column('detail', sa.Text(), server_default='', nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['rectification.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rectification_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rectification_event_item_id'), ['item_id'], unique=False)
    _fill(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table('rectification_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rectification_event_item_id'))
    op.drop_table('rectification_event')
    for table, column in (('negative_entry', 'decided_on'), ('adjustment', 'decided_on'), ('vote', 'decided_on'),
                          ('lookback_result', 'checked_on'), ('check_report', 'checked_on'), ('draw', 'as_of'),
                          ('rectification', 'found_on')):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(column)


# --------------------------------------------------------------------------- filling existing rows


def _month_end(month: str) -> date:
    y, m = int(month[:4]), int(month[5:7])
    return date(y, m, calendar.monthrange(y, m)[1])


def _period_end(period: str) -> date:
    return _month_end(period) if len(period) >= 7 else date(int(period[:4]), 12, 31)


def _payloads(conn, action: str) -> list[dict]:
    out = []
    for (text,) in conn.execute(sa.text("SELECT payload FROM audit_event WHERE action = :a ORDER BY seq"), {"a": action}):
        try:
            doc = json.loads(text)
        except ValueError:
            continue
        if isinstance(doc, dict):
            out.append(doc)
    return out


def _iso(value) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _fill(conn) -> None:
    inferred: list[dict] = []

    def note(table: str, column: str, rule: str, ids: list[int]) -> None:
        if ids:
            inferred.append({"table": table, "column": column, "rule": rule, "ids": sorted(ids)})

    def set_dates(table: str, column: str, values: dict[int, date]) -> None:
        stmt = sa.text(f"UPDATE {table} SET {column} = :d WHERE id = :i")
        by_day: dict[date, list[int]] = {}
        for rid, d in values.items():
            by_day.setdefault(d, []).append(rid)
        for d, ids in sorted(by_day.items()):
            conn.execute(stmt, [{"d": d, "i": i} for i in ids])

    # draws
    lookback_as_of = {p.get("draw_id"): _iso(p.get("as_of")) for p in _payloads(conn, "lookback.draw")}
    known, guessed, values = [], [], {}
    for rid, kind, period in conn.execute(sa.text("SELECT id, kind, period FROM draw")):
        d = lookback_as_of.get(rid) if kind == "lookback" else None
        (known if d else guessed).append(rid)
        values[rid] = d or _period_end(period)
    set_dates("draw", "as_of", values)
    note("draw", "as_of", "所属期间的最后一天（月度抽查为当月末，回头看为 12 月 31 日）", guessed)

    # checks
    check_day: dict[tuple[str, str], date] = {}
    values = {}
    for rid, unit, month in conn.execute(sa.text("SELECT id, unit_code, month FROM check_report")):
        values[rid] = _month_end(month)
        check_day[(unit, month)] = values[rid]
    set_dates("check_report", "checked_on", values)
    note("check_report", "checked_on", "所核查月份的最后一天", list(values))

    # look-backs
    import_day = {p.get("import_id"): _iso(p.get("date")) for p in _payloads(conn, "lookback.import")}
    rect_day: dict[int, date] = {}
    for p in _payloads(conn, "lookback.import"):
        d = _iso(p.get("date"))
        for rid in p.get("rectifications") or []:
            if d and isinstance(rid, int):
                rect_day[rid] = d
    values, guessed = {}, []
    for rid, import_id, period in conn.execute(sa.text(
            "SELECT r.id, r.import_id, d.period FROM lookback_result r JOIN draw d ON d.id = r.draw_id")):
        d = import_day.get(import_id)
        if d is None:
            guessed.append(rid)
        values[rid] = d or date(int(period[:4]), 12, 31)
    set_dates("lookback_result", "checked_on", values)
    note("lookback_result", "checked_on", "该年度 12 月 31 日", guessed)

    # decided once a year
    for table in ("vote", "adjustment", "negative_entry"):
        values = {rid: date(int(year), 12, 31) for rid, year in conn.execute(sa.text(f"SELECT id, year FROM {table}"))}
        set_dates(table, "decided_on", values)
        note(table, "decided_on", "该年度 12 月 31 日", list(values))

    # rectification items and their dated changes
    items = conn.execute(sa.text("SELECT id, org_code, source, source_ref, due, status, closed_on FROM rectification "
                                 "ORDER BY id")).all()
    if not items and not inferred:
        return
    added_due: dict[int, date] = {}  # the deadline an item was added with (rectify.add), before any change
    for p in _payloads(conn, "rectify.add"):
        if isinstance(p.get("id"), int) and _iso(p.get("due")):
            added_due[p["id"]] = _iso(p.get("due"))
    found: dict[int, date] = {}
    rules: dict[str, list[int]] = {}
    for rid, org, source, ref, due, status, closed_on in items:
        due = _iso(due)
        d, rule = None, None
        if rid in rect_day:
            d = rect_day[rid]
        elif source == "spotcheck" and len(ref or "") >= 7 and ref[4] == "-":
            d = check_day.get((org, ref[:7])) or _month_end(ref[:7])
            rule = "所核查月份的核查日期（当月末）"
        if d is None:
            d, rule = added_due.get(rid, due) - timedelta(days=30), "登记时的整改期限前 30 天"
        if d > due:
            d, rule = due, "整改期限当天（推定的发现日期晚于期限）"
        found[rid] = d
        if rule:
            rules.setdefault(rule, []).append(rid)
    set_dates("rectification", "found_on", found)
    for rule, ids in rules.items():
        note("rectification", "found_on", rule, ids)

    from djctl.store.engine import now
    from djctl.store.tables import Rectification, RectificationEvent

    ev_table = RectificationEvent.__table__
    progress_ids, close_guess = [], []
    rows = []
    for rid, _org, _source, _ref, due, status, closed_on in items:
        due, closed_on = _iso(due), _iso(closed_on)
        rows.append({"item_id": rid, "action": "found", "status": "open", "on_date": found[rid], "due": due})
        if status == "in_progress":
            rows.append({"item_id": rid, "action": "progress", "status": "in_progress", "on_date": found[rid], "due": due})
            progress_ids.append(rid)
        elif status == "closed":
            if closed_on is None:
                close_guess.append(rid)
            rows.append({"item_id": rid, "action": "close", "status": "closed",
                         "on_date": max(closed_on or due, found[rid]), "due": due})
    t = now()
    for r in rows:
        r.update({"note": "", "detail": "", "created_at": t})
        conn.execute(ev_table.insert().values(**r))
    note("rectification_event", "on_date", "整改中的事项：开始整改的日期按发现日期", progress_ids)
    note("rectification_event", "on_date", "已销号但无销号日期的事项：按整改期限", close_guess)

    from djctl.store.audit import append
    from djctl.store.content import row_digest

    rt = Rectification.__table__
    digests: dict[str, list[list]] = {}
    for name, table, label, cols in (("rectification", rt, "org_code", RECT_COLUMNS),
                                     ("rectification_event", ev_table, "item_id", EVENT_COLUMNS)):
        q = sa.select(table.c.id, table.c[label], *[table.c[c] for c in cols]).order_by(table.c.id)
        digests[name] = [[r[0], r[1], row_digest(r[2:])] for r in conn.execute(q)]
    append(conn, "store.dates", {"migration": "0003", "what": "业务日期：补填已有记录的业务日期，并为整改事项建立变动记录",
                                   "inferred": inferred, "row_digests": {k: v for k, v in digests.items() if v}})
