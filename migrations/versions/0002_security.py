"""security: per-account login state (session token, failed logins, lock) and the history
of household status changes (archived as moved away, with a reason)

Revision ID: 0002_security
Revises: 0001_initial
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_security'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'user_login_state',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('session_token', sa.String(length=64), nullable=False),
        sa.Column('failed_logins', sa.Integer(), nullable=False),
        sa.Column('first_failed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                                name=op.f('fk_user_login_state_user_id_user_account')),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_user_login_state')),
    )
    op.create_table(
        'household_status_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('household_id', sa.Integer(), nullable=False),
        sa.Column('from_status', sa.String(length=16), nullable=False),
        sa.Column('to_status', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('changed_by_id', sa.Integer(), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['changed_by_id'], ['user_account.id'],
                                name=op.f('fk_household_status_change_changed_by_id_user_account')),
        sa.ForeignKeyConstraint(['household_id'], ['household.id'],
                                name=op.f('fk_household_status_change_household_id_household')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_household_status_change')),
    )
    with op.batch_alter_table('household_status_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_status_change_household_id'),
                              ['household_id'], unique=False)


def downgrade():
    with op.batch_alter_table('household_status_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_status_change_household_id'))
    op.drop_table('household_status_change')
    op.drop_table('user_login_state')
