"""Login throttling by atomic counters per account, source and both (replaces the list of
failed attempts, which was counted with check-then-insert)

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'login_counters',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('window_start', sa.DateTime(), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('account', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_login_counters')),
    )
    op.create_index('ix_login_counters_window_start', 'login_counters', ['window_start'])
    op.create_index(op.f('ix_login_counters_account'), 'login_counters', ['account'])
    with op.batch_alter_table('login_attempts') as batch:
        batch.drop_index('ix_login_attempts_username_at')
    op.drop_table('login_attempts')


def downgrade():
    op.create_table(
        'login_attempts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('remote_addr', sa.String(length=64), nullable=True),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts')),
    )
    with op.batch_alter_table('login_attempts') as batch:
        batch.create_index('ix_login_attempts_username_at', ['username', 'at'], unique=False)
    op.drop_index(op.f('ix_login_counters_account'), table_name='login_counters')
    op.drop_index('ix_login_counters_window_start', table_name='login_counters')
    op.drop_table('login_counters')
