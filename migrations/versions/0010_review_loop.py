"""The review loop: a resubmission names the returned visit it answers, which is resolved when
the answer is approved; photos carry a stable number within their household

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('visits') as batch:
        batch.add_column(sa.Column('answers_visit_id', sa.String(length=36), nullable=True))
        batch.add_column(sa.Column('resolved_by_visit_id', sa.String(length=36), nullable=True))
        batch.add_column(sa.Column('resolved_at', sa.DateTime(), nullable=True))
        batch.create_foreign_key('fk_visits_answers_visit_id_visits', 'visits',
                                 ['answers_visit_id'], ['id'])
        batch.create_foreign_key('fk_visits_resolved_by_visit_id_visits', 'visits',
                                 ['resolved_by_visit_id'], ['id'])
        batch.create_index('ix_visits_answers', ['answers_visit_id'])
    with op.batch_alter_table('photos') as batch:
        batch.add_column(sa.Column('number', sa.Integer(), nullable=True))
    # Photos already received are numbered in the order they arrived, per household.
    photos = sa.table('photos', sa.column('id', sa.String), sa.column('household_id', sa.Integer),
                      sa.column('received_at', sa.DateTime), sa.column('number', sa.Integer))
    conn = op.get_bind()
    rows = conn.execute(sa.select(photos.c.id, photos.c.household_id)
                        .order_by(photos.c.household_id, photos.c.received_at, photos.c.id)).all()
    last: dict[int, int] = {}
    for photo_id, household_id in rows:
        last[household_id] = last.get(household_id, 0) + 1
        conn.execute(photos.update().where(photos.c.id == photo_id)
                     .values(number=last[household_id]))
    with op.batch_alter_table('photos') as batch:
        batch.alter_column('number', existing_type=sa.Integer(), nullable=False)
        batch.create_unique_constraint('uq_photos_household_number', ['household_id', 'number'])


def downgrade():
    with op.batch_alter_table('photos') as batch:
        batch.drop_constraint('uq_photos_household_number', type_='unique')
        batch.drop_column('number')
    with op.batch_alter_table('visits') as batch:
        batch.drop_index('ix_visits_answers')
        batch.drop_constraint('fk_visits_resolved_by_visit_id_visits', type_='foreignkey')
        batch.drop_constraint('fk_visits_answers_visit_id_visits', type_='foreignkey')
        batch.drop_column('resolved_at')
        batch.drop_column('resolved_by_visit_id')
        batch.drop_column('answers_visit_id')
