"""Photo windows (issue 20): hashes of each photo's centre and frame read as windows, with
indexed 16-bit bands, so a copy cropped by up to a fifth from any edge is found

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'photo_windows',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('photo_id', sa.String(length=36), nullable=False),
        sa.Column('household_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=6), nullable=False),
        sa.Column('phash', sa.BigInteger(), nullable=False),
        *(sa.Column(f'b{i}', sa.Integer(), nullable=False) for i in range(4)),
        sa.ForeignKeyConstraint(['photo_id'], ['photos.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_photo_windows_photo_id', 'photo_windows', ['photo_id'])
    for i in range(4):
        op.create_index(f'ix_photo_windows_b{i}', 'photo_windows', [f'b{i}'])


def downgrade():
    op.drop_table('photo_windows')
