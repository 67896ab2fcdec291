"""photos and their flags

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('photos',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('village_code', sa.String(length=12), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('visit_id', sa.String(length=36), nullable=True),
    sa.Column('phase', sa.String(length=10), nullable=False),
    sa.Column('node', sa.String(length=50), nullable=True),
    sa.Column('item', sa.String(length=80), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('bytes', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('mime', sa.String(length=30), nullable=False),
    sa.Column('phash', sa.BigInteger(), nullable=False),
    sa.Column('phash_b0', sa.Integer(), nullable=False),
    sa.Column('phash_b1', sa.Integer(), nullable=False),
    sa.Column('phash_b2', sa.Integer(), nullable=False),
    sa.Column('phash_b3', sa.Integer(), nullable=False),
    sa.Column('exif_taken_at', sa.String(length=32), nullable=True),
    sa.Column('exif_lat', sa.Float(), nullable=True),
    sa.Column('exif_lon', sa.Float(), nullable=True),
    sa.Column('exif_alt', sa.Float(), nullable=True),
    sa.Column('exif_make', sa.String(length=200), nullable=True),
    sa.Column('exif_model', sa.String(length=200), nullable=True),
    sa.Column('exif_software', sa.String(length=200), nullable=True),
    sa.Column('exif_orientation', sa.Integer(), nullable=True),
    sa.Column('exif_error', sa.String(length=200), nullable=True),
    sa.Column('captured_at', sa.DateTime(), nullable=True),
    sa.Column('device_lat', sa.Float(), nullable=True),
    sa.Column('device_lon', sa.Float(), nullable=True),
    sa.Column('device_accuracy_m', sa.Float(), nullable=True),
    sa.Column('device_fix_at', sa.DateTime(), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_photos_case_id_cases')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_photos_household_id_households')),
    sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_photos_uploaded_by_users')),
    sa.ForeignKeyConstraint(['village_code'], ['regions.code'], name=op.f('fk_photos_village_code_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photos'))
    )
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.create_index('ix_photos_case_phase', ['case_id', 'phase'], unique=False)
        batch_op.create_index('ix_photos_household', ['household_id'], unique=False)
        batch_op.create_index('ix_photos_phash_b0', ['phash_b0'], unique=False)
        batch_op.create_index('ix_photos_phash_b1', ['phash_b1'], unique=False)
        batch_op.create_index('ix_photos_phash_b2', ['phash_b2'], unique=False)
        batch_op.create_index('ix_photos_phash_b3', ['phash_b3'], unique=False)
        batch_op.create_index(batch_op.f('ix_photos_sha256'), ['sha256'], unique=False)
        batch_op.create_index('ix_photos_village', ['village_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_photos_visit_id'), ['visit_id'], unique=False)

    op.create_table('photo_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('photo_id', sa.String(length=36), nullable=False),
    sa.Column('code', sa.String(length=30), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('raised_at', sa.DateTime(), nullable=False),
    sa.Column('reviewed_by', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('review_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['photo_id'], ['photos.id'], name=op.f('fk_photo_flags_photo_id_photos'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewed_by'], ['users.id'], name=op.f('fk_photo_flags_reviewed_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photo_flags')),
    sa.UniqueConstraint('photo_id', 'code', name='uq_photo_flags_photo_code')
    )
    with op.batch_alter_table('photo_flags', schema=None) as batch_op:
        batch_op.create_index('ix_photo_flags_code_status', ['code', 'status'], unique=False)


def downgrade():
    with op.batch_alter_table('photo_flags', schema=None) as batch_op:
        batch_op.drop_index('ix_photo_flags_code_status')

    op.drop_table('photo_flags')
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_photos_visit_id'))
        batch_op.drop_index('ix_photos_village')
        batch_op.drop_index(batch_op.f('ix_photos_sha256'))
        batch_op.drop_index('ix_photos_phash_b3')
        batch_op.drop_index('ix_photos_phash_b2')
        batch_op.drop_index('ix_photos_phash_b1')
        batch_op.drop_index('ix_photos_phash_b0')
        batch_op.drop_index('ix_photos_household')
        batch_op.drop_index('ix_photos_case_phase')

    op.drop_table('photos')
