"""survey rounds and their households; visits.round_id

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('period', sa.String(length=20), nullable=True),
    sa.Column('cause', sa.Text(), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('area_codes', sa.JSON(), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('opened_by', sa.Integer(), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('closed_by', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['closed_by'], ['users.id'], name=op.f('fk_rounds_closed_by_users')),
    sa.ForeignKeyConstraint(['opened_by'], ['users.id'], name=op.f('fk_rounds_opened_by_users')),
    sa.ForeignKeyConstraint(['region_code'], ['regions.code'], name=op.f('fk_rounds_region_code_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rounds'))
    )
    op.create_table('round_households',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('village_code', sa.String(length=12), nullable=False),
    sa.Column('inspector_id', sa.Integer(), nullable=True),
    sa.Column('visit_id', sa.String(length=36), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('visited_at', sa.DateTime(), nullable=True),
    sa.Column('revisit_needed', sa.Boolean(), nullable=False),
    sa.Column('found_in_round', sa.Boolean(), nullable=False),
    sa.Column('skip_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_round_households_household_id_households')),
    sa.ForeignKeyConstraint(['inspector_id'], ['users.id'], name=op.f('fk_round_households_inspector_id_users')),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_round_households_round_id_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['village_code'], ['regions.code'], name=op.f('fk_round_households_village_code_regions')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_round_households_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_round_households')),
    sa.UniqueConstraint('round_id', 'household_id', name='uq_round_households_household')
    )
    with op.batch_alter_table('round_households', schema=None) as batch_op:
        batch_op.create_index('ix_round_households_inspector', ['inspector_id', 'round_id'], unique=False)
        batch_op.create_index('ix_round_households_round_village', ['round_id', 'village_code'], unique=False)

    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('round_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_visits_round_id_rounds'), 'rounds', ['round_id'], ['id'])



def downgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_visits_round_id_rounds'), type_='foreignkey')
        batch_op.drop_column('round_id')

    with op.batch_alter_table('round_households', schema=None) as batch_op:
        batch_op.drop_index('ix_round_households_round_village')
        batch_op.drop_index('ix_round_households_inspector')

    op.drop_table('round_households')
    op.drop_table('rounds')
