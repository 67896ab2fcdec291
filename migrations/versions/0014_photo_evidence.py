"""Photo evidence (issue 20): whether the upload itself serves as the `large` size, how much
detail the picture holds (black frames and blank walls stay out of reuse matching), and an index
on the phone's position for finding one position repeated to the last digit

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('photos') as batch:
        batch.add_column(sa.Column('large_is_original', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column('detail', sa.Float(), nullable=True))
        batch.create_index('ix_photos_device_position', ['device_lat', 'device_lon'],
                           unique=False)


def downgrade():
    with op.batch_alter_table('photos') as batch:
        batch.drop_index('ix_photos_device_position')
        batch.drop_column('detail')
        batch.drop_column('large_is_original')
