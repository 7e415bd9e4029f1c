"""negative_manual: entries put on a year's negative list by decision (经研究列入)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

Problems to closure (issue 18, item 6): an organization put on the list by the committee's decision, with
its reason, basis, consequences (下年度必抽/必查, 扣分 through a linked adjustment, 专项督查) and business date;
revoked with a date and a reason, never deleted. A new table only: existing rows and their audit digests are
untouched; the computed list (negative_entry) is unchanged.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('negative_manual',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('org_kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('org_code', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('basis', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('consequences', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('adjustment_id', sa.Integer(), nullable=True),
    sa.Column('added_on', sa.Date(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('revoked_on', sa.Date(), nullable=True),
    sa.Column('revoke_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['adjustment_id'], ['adjustment.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('negative_manual', schema=None) as batch_op:
        batch_op.create_index('ix_negative_manual_year_org', ['year', 'org_code'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('negative_manual', schema=None) as batch_op:
        batch_op.drop_index('ix_negative_manual_year_org')

    op.drop_table('negative_manual')
