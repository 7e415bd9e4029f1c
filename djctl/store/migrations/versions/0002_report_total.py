"""self_report.total_x100: each report's total, stored when it is imported

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

Scores read tens of thousands of reports at a time; summing their 1.2 million task rows on every
`score`, bulletin and year-end was the largest part of their cost at province scale (bench/README.md).
The total is written in the same transaction as the rows, carried in the import's audit payload
(`self_total_x100`) and checked against the rows by `audit verify`. Existing reports are filled in here.
NULL (a report written by an older djctl that was not migrated this way) means: sum the rows.
"""

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('self_report', sa.Column('total_x100', sa.Integer(), nullable=True))
    op.execute("UPDATE self_report SET total_x100 = "
               "(SELECT SUM(points_x100) FROM self_score WHERE self_score.report_id = self_report.id)")


def downgrade() -> None:
    op.drop_column('self_report', 'total_x100')
