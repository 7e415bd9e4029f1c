"""draw_entry keeps only the members that matter; self_report keeps its month's result

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

1. A draw's canonical record (`draw.record`) holds the whole population and every key; its `draw_entry` rows
   now cover only the members that matter (selected, mandatory, excluded: DESIGN §3), so a province's draw
   writes a thousand rows instead of five thousand. Here the other rows of existing draws are deleted, but
   only where the row says exactly what the record says (its key, not selected, no order, no reasons): a row
   that disagrees is kept, so that `audit verify` and `sample verify` still name it. The audit events of these
   draws keep their digest of every member's row; `audit verify` rebuilds the deleted rows from the record
   (`djctl.store.content.draw_entry_full_rows`) to check it.
2. Each self report keeps its month's result (final points, the rate in hundredths, the check's deduction,
   whether checked, the tasks found false: `djctl.domain.scoring.month_result`), written by the import and
   again by the check or scheme change that changes it; `score --quarter/--year` read it instead of
   recomputing every unit-month, and `audit verify` recomputes it from the rows. Existing reports are filled
   in here: unchecked ones in SQL (final = total, rate = final / full × 100 rounded half-up), those with an
   active check with the rule of `djctl.domain.scoring` and their year's scheme.
"""

import json

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

_CHUNK = 500


def _prune_draw_entries(conn) -> None:
    draw = sa.table('draw', sa.column('id', sa.Integer), sa.column('record', sa.Text))
    entry = sa.table('draw_entry', sa.column('id', sa.Integer), sa.column('draw_id', sa.Integer),
                     sa.column('code', sa.String), sa.column('key', sa.String), sa.column('selected', sa.Boolean),
                     sa.column('order_no', sa.Integer), sa.column('mandatory_reason', sa.String),
                     sa.column('excluded_reason', sa.String))
    for draw_id, text in conn.execute(sa.select(draw.c.id, draw.c.record)).all():
        try:
            doc = json.loads(text)
        except (TypeError, ValueError):
            continue  # a damaged record: its rows stay for verify to compare
        if not isinstance(doc, dict) or not isinstance(doc.get("keys"), dict):
            continue
        keys = doc["keys"]
        matter = {str(c) for c in [*(doc.get("selected") or []), *(doc.get("mandatory") or {}),
                                   *(doc.get("excluded") or {})]}
        rows = conn.execute(sa.select(entry.c.id, entry.c.code, entry.c.key, entry.c.selected, entry.c.order_no,
                                      entry.c.mandatory_reason, entry.c.excluded_reason)
                            .where(entry.c.draw_id == draw_id)).all()
        count: dict[str, int] = {}
        for r in rows:
            count[r.code] = count.get(r.code, 0) + 1
        gone = [r.id for r in rows if count[r.code] == 1 and r.code not in matter and r.code in keys and r.key == keys[r.code]
                and not r.selected and r.order_no is None and not r.mandatory_reason and not r.excluded_reason]
        for i in range(0, len(gone), _CHUNK):
            conn.execute(entry.delete().where(entry.c.id.in_(gone[i:i + _CHUNK])))


RESULT_COLUMNS = (
    sa.Column('final_x100', sa.Integer(), nullable=True),
    sa.Column('rate_x100', sa.Integer(), nullable=True),
    sa.Column('deduction_x100', sa.Integer(), nullable=True),
    sa.Column('checked', sa.Boolean(), nullable=True),
    sa.Column('false_tasks', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
)


def _fill_results(conn) -> None:
    full = "(SELECT SUM(t.points_x100) FROM task t WHERE t.task_list_id = self_report.task_list_id)"
    total = "COALESCE(total_x100, (SELECT SUM(s.points_x100) FROM self_score s WHERE s.report_id = self_report.id))"
    conn.execute(sa.text(
        f"UPDATE self_report SET final_x100 = {total}, deduction_x100 = 0, checked = false, false_tasks = '[]', "
        f"rate_x100 = CASE WHEN {full} > 0 THEN (CAST({total} AS BIGINT) * 20000 + {full}) / (2 * {full}) END "
        f"WHERE {total} IS NOT NULL"))
    checked = conn.execute(sa.text(
        "SELECT DISTINCT c.self_report_id FROM check_report c WHERE c.active = true")).scalars().all()
    if not checked:
        return
    from djctl.domain.points import to_x100
    from djctl.domain.scheme import parse_scheme
    from djctl.domain.scoring import month_result, task_outcome

    schemes = {y: parse_scheme(t) for y, t in conn.execute(sa.text("SELECT year, toml FROM scheme"))}
    for rid in checked:
        rep = conn.execute(sa.text(
            "SELECT month, task_list_id, final_x100 FROM self_report WHERE id = :id"), {"id": rid}).first()
        scheme = schemes.get(int(rep.month[:4])) if rep is not None else None
        if rep is None or rep.final_x100 is None or scheme is None:
            continue
        full_x100 = conn.execute(sa.text("SELECT COALESCE(SUM(points_x100), 0) FROM task WHERE task_list_id = :t"),
                                 {"t": rep.task_list_id}).scalar()
        rows = conn.execute(sa.text(
            "SELECT cs.task_code, cs.verified_x100, cs.false_flag, ss.points_x100 AS self_x100, t.points_x100 AS full "
            "FROM check_report c JOIN check_score cs ON cs.report_id = c.id "
            "JOIN self_score ss ON ss.report_id = c.self_report_id AND ss.task_code = cs.task_code "
            "JOIN task t ON t.task_list_id = :tl AND t.code = cs.task_code "
            "WHERE c.self_report_id = :id AND c.active = true ORDER BY t.seq"), {"id": rid, "tl": rep.task_list_id}).all()
        tol = to_x100(scheme.spot_check.tolerance)
        outcomes = [task_outcome(task=r.task_code, full_x100=r.full, self_x100=r.self_x100, verified_x100=r.verified_x100,
                                 false=r.false_flag, tolerance_x100=tol, multiplier=scheme.spot_check.false_multiplier)
                    for r in rows]
        res = month_result(rep.final_x100, int(full_x100), outcomes)
        conn.execute(sa.text(
            "UPDATE self_report SET final_x100 = :f, rate_x100 = :r, deduction_x100 = :d, checked = :c, "
            "false_tasks = :x WHERE id = :id"),
            {"f": res.final_x100, "r": res.rate_x100, "d": res.deduction_x100, "c": res.checked,
             "x": json.dumps(list(res.false_tasks), ensure_ascii=False), "id": rid})


def upgrade() -> None:
    _prune_draw_entries(op.get_bind())
    for column in RESULT_COLUMNS:
        op.add_column('self_report', column._copy())
    _fill_results(op.get_bind())


def downgrade() -> None:
    # the deleted draw_entry rows are implied by each draw's record; nothing reads them
    with op.batch_alter_table('self_report', schema=None) as batch_op:
        for column in reversed(RESULT_COLUMNS):
            batch_op.drop_column(column.name)
