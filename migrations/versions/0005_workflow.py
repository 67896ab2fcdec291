"""the case procedure: county workflows, case steps, publicity and objections, department
checks, attachments; appraisal signatures and filing; existing cases keep their stage and
their recorded changes become steps done outside the system (系统外办理)

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op



# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('workflow_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('spec', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workflow_versions')),
    sa.UniqueConstraint('code', 'version', name='uq_workflow_versions_version')
    )
    op.create_table('attachments',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('village_code', sa.String(length=12), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('mime', sa.String(length=50), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_attachments_case_id_cases')),
    sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_attachments_uploaded_by_users')),
    sa.ForeignKeyConstraint(['village_code'], ['regions.code'], name=op.f('fk_attachments_village_code_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments'))
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachments_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachments_village_code'), ['village_code'], unique=False)

    op.create_table('case_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('to_stage', sa.String(length=20), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('acted_at', sa.DateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('attachment_ids', sa.JSON(), nullable=False),
    sa.Column('outside_system', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_case_steps_actor_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_steps_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_steps'))
    )
    with op.batch_alter_table('case_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_steps_case_id'), ['case_id'], unique=False)

    op.create_table('department_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('department', sa.String(length=20), nullable=False),
    sa.Column('sent_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('due_is_estimate', sa.Boolean(), nullable=False),
    sa.Column('result', sa.String(length=20), nullable=False),
    sa.Column('replied_on', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('document_attachment_id', sa.String(length=36), nullable=True),
    sa.Column('entered_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_department_checks_case_id_cases')),
    sa.ForeignKeyConstraint(['document_attachment_id'], ['attachments.id'], name=op.f('fk_department_checks_document_attachment_id_attachments')),
    sa.ForeignKeyConstraint(['entered_by'], ['users.id'], name=op.f('fk_department_checks_entered_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_department_checks')),
    sa.UniqueConstraint('case_id', 'department', name='uq_department_checks_case_department')
    )
    with op.batch_alter_table('department_checks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_department_checks_case_id'), ['case_id'], unique=False)

    op.create_table('publicities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('posted_on', sa.Date(), nullable=False),
    sa.Column('earliest_end_on', sa.Date(), nullable=False),
    sa.Column('report_phone', sa.String(length=30), nullable=False),
    sa.Column('notice_attachment_id', sa.String(length=36), nullable=True),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('posted_by', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_publicities_case_id_cases')),
    sa.ForeignKeyConstraint(['notice_attachment_id'], ['attachments.id'], name=op.f('fk_publicities_notice_attachment_id_attachments')),
    sa.ForeignKeyConstraint(['posted_by'], ['users.id'], name=op.f('fk_publicities_posted_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publicities'))
    )
    with op.batch_alter_table('publicities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_publicities_case_id'), ['case_id'], unique=False)

    op.create_table('objections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('publicity_id', sa.Integer(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('reporter', sa.String(length=100), nullable=True),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('attachment_ids', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('outcome_note', sa.Text(), nullable=True),
    sa.Column('resolved_on', sa.Date(), nullable=True),
    sa.Column('resolved_by', sa.Integer(), nullable=True),
    sa.Column('recorded_by', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_objections_case_id_cases')),
    sa.ForeignKeyConstraint(['publicity_id'], ['publicities.id'], name=op.f('fk_objections_publicity_id_publicities')),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_objections_recorded_by_users')),
    sa.ForeignKeyConstraint(['resolved_by'], ['users.id'], name=op.f('fk_objections_resolved_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_objections'))
    )
    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_objections_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_objections_publicity_id'), ['publicity_id'], unique=False)

    # The old status changes become the case's first steps, marked as done outside the
    # system: they were recorded, never checked against the procedure.
    op.execute("""
        INSERT INTO case_steps (case_id, stage, action, to_stage, effective_on, acted_at,
                                actor_id, note, data, attachment_ids, outside_system)
        SELECT case_id, status, 'migrated', status, effective_on, changed_at, changed_by,
               COALESCE(note, '此前环节系统外办理'), '{}', '[]', TRUE
        FROM case_status_changes ORDER BY id
    """)
    with op.batch_alter_table('case_status_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_status_changes_case_id'))

    op.drop_table('case_status_changes')
    with op.batch_alter_table('appraisals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signatures', sa.JSON(), nullable=False,
                                      server_default='[]'))
        batch_op.add_column(sa.Column('filed_on', sa.Date(), nullable=True))

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('workflow_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('stage_entered_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('due_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('application', sa.JSON(), nullable=False,
                                      server_default='{}'))
        batch_op.add_column(sa.Column('closed_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('town_accepted_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('archived_on', sa.Date(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_cases_workflow_id_workflow_versions'),
                                    'workflow_versions', ['workflow_id'], ['id'])
    op.execute("""
        UPDATE cases SET stage_entered_on = (
            SELECT MAX(effective_on) FROM case_steps
            WHERE case_steps.case_id = cases.id AND case_steps.to_stage = cases.status)
    """)
    # The defaults only filled the rows that existed; new rows get theirs from the models.
    with op.batch_alter_table('appraisals', schema=None) as batch_op:
        batch_op.alter_column('signatures', server_default=None)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.alter_column('application', server_default=None)



def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_cases_workflow_id_workflow_versions'), type_='foreignkey')
        batch_op.drop_column('archived_on')
        batch_op.drop_column('town_accepted_on')
        batch_op.drop_column('closed_reason')
        batch_op.drop_column('application')
        batch_op.drop_column('due_on')
        batch_op.drop_column('stage_entered_on')
        batch_op.drop_column('workflow_id')

    with op.batch_alter_table('appraisals', schema=None) as batch_op:
        batch_op.drop_column('filed_on')
        batch_op.drop_column('signatures')

    op.create_table('case_status_changes',
    sa.Column('id', sa.INTEGER(), nullable=False),
    sa.Column('case_id', sa.INTEGER(), nullable=False),
    sa.Column('status', sa.VARCHAR(length=20), nullable=False),
    sa.Column('effective_on', sa.DATE(), nullable=False),
    sa.Column('changed_at', sa.DATETIME(), nullable=False),
    sa.Column('changed_by', sa.INTEGER(), nullable=True),
    sa.Column('note', sa.TEXT(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_status_changes_case_id_cases')),
    sa.ForeignKeyConstraint(['changed_by'], ['users.id'], name=op.f('fk_case_status_changes_changed_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_status_changes'))
    )
    with op.batch_alter_table('case_status_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_status_changes_case_id'), ['case_id'], unique=False)

    with op.batch_alter_table('objections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_objections_publicity_id'))
        batch_op.drop_index(batch_op.f('ix_objections_case_id'))

    op.drop_table('objections')
    with op.batch_alter_table('publicities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_publicities_case_id'))

    op.drop_table('publicities')
    with op.batch_alter_table('department_checks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_department_checks_case_id'))

    op.drop_table('department_checks')
    with op.batch_alter_table('case_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_steps_case_id'))

    op.drop_table('case_steps')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachments_village_code'))
        batch_op.drop_index(batch_op.f('ix_attachments_case_id'))

    op.drop_table('attachments')
    op.drop_table('workflow_versions')
