"""Random spot checks: each draw with its seed, population and sample, one per area, year and
purpose

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'spot_checks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('area_code', sa.String(length=12), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=100), nullable=False),
        sa.Column('requested_count', sa.Integer(), nullable=True),
        sa.Column('requested_percent', sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('seed', sa.String(length=16), nullable=False),
        sa.Column('population_size', sa.Integer(), nullable=False),
        sa.Column('population_sha256', sa.String(length=64), nullable=False),
        sa.Column('population', sa.JSON(), nullable=False),
        sa.Column('allocation', sa.JSON(), nullable=False),
        sa.Column('sample', sa.JSON(), nullable=False),
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('drawn_by', sa.Integer(), nullable=False),
        sa.Column('drawn_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['area_code'], ['regions.code'],
                                name='fk_spot_checks_area_code_regions'),
        sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name='fk_spot_checks_round_id_rounds'),
        sa.ForeignKeyConstraint(['drawn_by'], ['users.id'], name='fk_spot_checks_drawn_by_users'),
        sa.PrimaryKeyConstraint('id', name='pk_spot_checks'),
        sa.UniqueConstraint('area_code', 'year', 'purpose', name='uq_spot_checks_purpose'),
    )
    op.create_index('ix_spot_checks_area_code', 'spot_checks', ['area_code'])


def downgrade():
    op.drop_table('spot_checks')
