"""inspector: the pool from which spot-check inspectors are drawn (双随机, 回避)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

One row per inspector of an imported pool (sheet 检查人员): code, name, the unit they work in, group, role
and the units they served in (JSON [[unit_code, last_year]]). A new pool file keeps the old rows with
active = False. The draws carry the inspectors they assigned in their own record (draw.record).
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inspector',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('unit_code', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('group_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('served', sa.Text(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('inspector', schema=None) as batch_op:
        batch_op.create_index('ix_inspector_code_active', ['code', 'active'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inspector', schema=None) as batch_op:
        batch_op.drop_index('ix_inspector_code_active')
    op.drop_table('inspector')
