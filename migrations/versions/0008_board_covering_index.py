"""A village's month on the board is read from the index alone (issue 10): on PostgreSQL,
ix_household_month_village_period INCLUDEs the columns a board ranks by.

Revision ID: 0008_board_covering_index
Revises: 0007_summary_tables
Create Date: 2026-11-30 17:45:00

"""
from alembic import op


revision = '0008_board_covering_index'
down_revision = '0007_summary_tables'
branch_labels = None
depends_on = None

COVERED = ['household_id', 'points', 'deductions', 'last_at', 'entries']


def upgrade():
    with op.batch_alter_table('household_month', schema=None) as batch_op:
        batch_op.drop_index('ix_household_month_village_period')
        batch_op.create_index('ix_household_month_village_period', ['village_id', 'period'],
                              unique=False, postgresql_include=COVERED)


def downgrade():
    with op.batch_alter_table('household_month', schema=None) as batch_op:
        batch_op.drop_index('ix_household_month_village_period')
        batch_op.create_index('ix_household_month_village_period', ['village_id', 'period'],
                              unique=False)
