"""draw_entry keeps only the members that matter; self_report keeps its month's result

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-02

1. A draw's canonical record (`draw.record`) holds the whole population and every key; its `draw_entry` rows
   now cover only the members that matter (selected, mandatory, excluded: DESIGN §3), so a province's draw
   writes a thousand rows instead of five thousand. Here the other rows of existing draws are deleted, but
   only where the row says exactly what the record says (its key, not selected, no order, no reasons): a row
   that disagrees is kept, so that `audit verify` and `sample verify` still name it. The audit events of these
   draws keep their digest of every member's row; `audit verify` rebuilds the deleted rows from the record
   (`djctl.store.content.draw_entry_full_rows`) to check it.
"""

import json

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0002'
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


def upgrade() -> None:
    _prune_draw_entries(op.get_bind())


def downgrade() -> None:
    # the deleted rows are implied by each draw's record; nothing reads them
    pass
