"""When a household was registered in the app, so that a past period's roll-up does not count
households registered after it (its 户数 and participation rate stay as they were).

Households registered before this revision keep NULL: not known, counted in every period.

Revision ID: 0009_household_registered_at
Revises: 0008_board_covering_index
Create Date: 2026-11-30 20:10:00

"""
import sqlalchemy as sa
from alembic import op


revision = '0009_household_registered_at'
down_revision = '0008_board_covering_index'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.add_column(sa.Column('registered_at', sa.DateTime(timezone=True),
                                      nullable=True))


def downgrade():
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.drop_column('registered_at')
