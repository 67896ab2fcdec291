"""Reports: a household's identities as a set; towns' annual tasks, weekly ranking snapshots
and report filings

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.add_column(sa.Column('identities', sa.JSON(), nullable=True))
    # Until a second identity is recorded, a target household has the one it was filed under.
    households = sa.table('households', sa.column('category', sa.String),
                          sa.column('identities', sa.JSON))
    connection = op.get_bind()
    categories = [c for (c,) in connection.execute(
        sa.select(households.c.category).distinct())]
    for category in categories:  # a handful of statements, whatever the number of households
        connection.execute(households.update().where(households.c.category == category).values(
            identities=[] if category == 'ordinary' else [category]))
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.alter_column('identities', existing_type=sa.JSON(), nullable=False)
    op.create_table(
        'annual_tasks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('town_code', sa.String(length=12), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('households', sa.Integer(), nullable=False),
        sa.Column('set_by', sa.Integer(), nullable=False),
        sa.Column('set_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['town_code'], ['regions.code'],
                                name='fk_annual_tasks_town_code_regions'),
        sa.ForeignKeyConstraint(['set_by'], ['users.id'], name='fk_annual_tasks_set_by_users'),
        sa.PrimaryKeyConstraint('id', name='pk_annual_tasks'),
        sa.UniqueConstraint('town_code', 'year', name='uq_annual_tasks_town_year'),
    )
    op.create_index('ix_annual_tasks_town_code', 'annual_tasks', ['town_code'])
    op.create_table(
        'ranking_snapshots',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('county_code', sa.String(length=12), nullable=False),
        sa.Column('week_start', sa.Date(), nullable=False),
        sa.Column('as_of', sa.Date(), nullable=False),
        sa.Column('rows', sa.JSON(), nullable=False),
        sa.Column('taken_by', sa.Integer(), nullable=True),
        sa.Column('taken_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['county_code'], ['regions.code'],
                                name='fk_ranking_snapshots_county_code_regions'),
        sa.ForeignKeyConstraint(['taken_by'], ['users.id'],
                                name='fk_ranking_snapshots_taken_by_users'),
        sa.PrimaryKeyConstraint('id', name='pk_ranking_snapshots'),
        sa.UniqueConstraint('county_code', 'week_start', name='uq_ranking_snapshots_week'),
    )
    op.create_index('ix_ranking_snapshots_county_code', 'ranking_snapshots', ['county_code'])
    op.create_table(
        'report_filings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('region_code', sa.String(length=12), nullable=False),
        sa.Column('report', sa.String(length=40), nullable=False),
        sa.Column('period', sa.String(length=10), nullable=False),
        sa.Column('filed_on', sa.Date(), nullable=False),
        sa.Column('filed_by', sa.Integer(), nullable=False),
        sa.Column('filed_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['region_code'], ['regions.code'],
                                name='fk_report_filings_region_code_regions'),
        sa.ForeignKeyConstraint(['filed_by'], ['users.id'],
                                name='fk_report_filings_filed_by_users'),
        sa.PrimaryKeyConstraint('id', name='pk_report_filings'),
        sa.UniqueConstraint('region_code', 'report', 'period', name='uq_report_filings_period'),
    )
    op.create_index('ix_report_filings_region_code', 'report_filings', ['region_code'])


def downgrade():
    op.drop_table('report_filings')
    op.drop_table('ranking_snapshots')
    op.drop_table('annual_tasks')
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.drop_column('identities')
