"""Each band key of photo windows is indexed once per kind of window, as a partial index on the
kind, instead of once with the kind before it (issue 20). A cropped-copy lookup makes ~2,200
index descents a photo; with the kind in every key each descent compared text under the
collation, and at a million photos on PostgreSQL the key lookup took ~7-9 ms of the server's
time; on integer keys alone it takes ~3.5 (bench/reuse_lookup.py). The lookup names its kind as
a constant, so both databases can use the partial index. Each index still holds the kind, last:
SQLite reads the table for a column of a partial index's condition that the index does not
hold. The twelve indexes together are the size of the six.

On PostgreSQL the table is locked while the indexes are built (as in 0020): at a million
photos, 10-20 s; run it when no one uploads.

Revision ID: 0021
Revises: 0020
"""
import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

KINDS = ('centre', 'frame')
KEYS = [f'k{i}' for i in range(6)]


def upgrade():
    for key in KEYS:
        op.drop_index(f'ix_photo_windows_{key}', table_name='photo_windows')
    for kind in KINDS:
        where = sa.text(f"kind = '{kind}'")
        for key in KEYS:
            op.create_index(f'ix_photo_windows_{kind}_{key}', 'photo_windows',
                            [key, 'phash', 'id', 'kind'],
                            postgresql_where=where, sqlite_where=where)


def downgrade():
    for kind in KINDS:
        for key in KEYS:
            op.drop_index(f'ix_photo_windows_{kind}_{key}', table_name='photo_windows')
    for key in KEYS:
        op.create_index(f'ix_photo_windows_{key}', 'photo_windows', ['kind', key, 'phash', 'id'])
