"""checklist templates, visits, results, rectifications

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('checklist_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('spec', sa.JSON(), nullable=False),
    sa.Column('loaded_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checklist_templates')),
    sa.UniqueConstraint('code', 'version', name='uq_checklist_templates_version')
    )
    op.create_table('visits',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('village_code', sa.String(length=12), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('phase', sa.String(length=10), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=False),
    sa.Column('device_lat', sa.Float(), nullable=True),
    sa.Column('device_lon', sa.Float(), nullable=True),
    sa.Column('device_accuracy_m', sa.Float(), nullable=True),
    sa.Column('device_fix_at', sa.DateTime(), nullable=True),
    sa.Column('inspector_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('danger_points', sa.JSON(), nullable=False),
    sa.Column('signoffs', sa.JSON(), nullable=False),
    sa.Column('appraisal_after', sa.String(length=1), nullable=True),
    sa.Column('body_sha256', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('review_state', sa.String(length=12), nullable=False),
    sa.Column('review_comment', sa.Text(), nullable=True),
    sa.Column('reviewed_by', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_visits_case_id_cases')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_visits_household_id_households')),
    sa.ForeignKeyConstraint(['inspector_id'], ['users.id'], name=op.f('fk_visits_inspector_id_users')),
    sa.ForeignKeyConstraint(['reviewed_by'], ['users.id'], name=op.f('fk_visits_reviewed_by_users')),
    sa.ForeignKeyConstraint(['template_id'], ['checklist_templates.id'], name=op.f('fk_visits_template_id_checklist_templates')),
    sa.ForeignKeyConstraint(['village_code'], ['regions.code'], name=op.f('fk_visits_village_code_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits'))
    )
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index('ix_visits_case', ['case_id', 'started_at'], unique=False)
        batch_op.create_index('ix_visits_household', ['household_id', 'started_at'], unique=False)
        batch_op.create_index('ix_visits_inspector_review', ['inspector_id', 'review_state'], unique=False)
        batch_op.create_index('ix_visits_village', ['village_code'], unique=False)

    op.create_table('rectifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('village_code', sa.String(length=12), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('node_code', sa.String(length=40), nullable=False),
    sa.Column('item_code', sa.String(length=80), nullable=False),
    sa.Column('problem', sa.Text(), nullable=False),
    sa.Column('task', sa.Text(), nullable=False),
    sa.Column('measure', sa.Text(), nullable=True),
    sa.Column('responsible', sa.String(length=100), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('opened_by_visit_id', sa.String(length=36), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('closed_by_visit_id', sa.String(length=36), nullable=True),
    sa.Column('closed_by', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_rectifications_case_id_cases')),
    sa.ForeignKeyConstraint(['closed_by'], ['users.id'], name=op.f('fk_rectifications_closed_by_users')),
    sa.ForeignKeyConstraint(['closed_by_visit_id'], ['visits.id'], name=op.f('fk_rectifications_closed_by_visit_id_visits')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_rectifications_household_id_households')),
    sa.ForeignKeyConstraint(['opened_by_visit_id'], ['visits.id'], name=op.f('fk_rectifications_opened_by_visit_id_visits')),
    sa.ForeignKeyConstraint(['village_code'], ['regions.code'], name=op.f('fk_rectifications_village_code_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectifications'))
    )
    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.create_index('ix_rectifications_case', ['case_id'], unique=False)
        batch_op.create_index('ix_rectifications_household_item', ['household_id', 'item_code', 'status'], unique=False)
        batch_op.create_index('ix_rectifications_village_status', ['village_code', 'status', 'due_on'], unique=False)

    op.create_table('visit_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.String(length=36), nullable=False),
    sa.Column('node_code', sa.String(length=40), nullable=False),
    sa.Column('item_code', sa.String(length=80), nullable=False),
    sa.Column('result', sa.String(length=4), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('photo_ids', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_visit_results_visit_id_visits'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_results')),
    sa.UniqueConstraint('visit_id', 'item_code', name='uq_visit_results_item')
    )


def downgrade():
    op.drop_table('visit_results')
    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.drop_index('ix_rectifications_village_status')
        batch_op.drop_index('ix_rectifications_household_item')
        batch_op.drop_index('ix_rectifications_case')

    op.drop_table('rectifications')
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index('ix_visits_village')
        batch_op.drop_index('ix_visits_inspector_review')
        batch_op.drop_index('ix_visits_household')
        batch_op.drop_index('ix_visits_case')

    op.drop_table('visits')
    op.drop_table('checklist_templates')
