"""people: 述职评议 (debrief), the committee staff roster and their monthly evaluation

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

Three new tables, nothing changed in the old ones: `debrief` (a secretary's yearly report and its votes),
`staff_member` (versions of the committee staff roster) and `staff_score` (monthly scores per dimension,
integer hundredths).
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('debrief',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('org_code', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('org_kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('level', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('secretary', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('reported_on', sa.Date(), nullable=True),
    sa.Column('good', sa.Integer(), nullable=False),
    sa.Column('fairly_good', sa.Integer(), nullable=False),
    sa.Column('average', sa.Integer(), nullable=False),
    sa.Column('poor', sa.Integer(), nullable=False),
    sa.Column('voters', sa.Integer(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['import_file.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('debrief', schema=None) as batch_op:
        batch_op.create_index('ix_debrief_year_org', ['year', 'org_code'], unique=False)

    op.create_table('staff_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('position', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('department', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['import_file.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('staff_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_member_code'), ['code'], unique=False)

    op.create_table('staff_score',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('staff_code', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('work_x100', sa.Integer(), nullable=False),
    sa.Column('conduct_x100', sa.Integer(), nullable=False),
    sa.Column('overall_x100', sa.Integer(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['import_file.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('staff_score', schema=None) as batch_op:
        batch_op.create_index('ix_staff_score_month_code', ['month', 'staff_code'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('staff_score', schema=None) as batch_op:
        batch_op.drop_index('ix_staff_score_month_code')
    op.drop_table('staff_score')
    with op.batch_alter_table('staff_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_member_code'))
    op.drop_table('staff_member')
    with op.batch_alter_table('debrief', schema=None) as batch_op:
        batch_op.drop_index('ix_debrief_year_org')
    op.drop_table('debrief')
