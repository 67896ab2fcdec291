"""Photo windows are found by six 21/22-bit band keys instead of four 16-bit bands (issue 20):
a cropped-copy lookup probes two families of ~280 window hashes, and at a million photos their
exact 16-bit bands met ~15,000 random rows (p95 ~0.5-0.6 s); the keys meet ~800
(services/photos/crops.py).

The keys are computed here in SQL, as crops.window_keys computes them: bands (lowest bit,
width) (43, 21), (22, 21), (0, 22) of the hash, then of the hash turned right by 11 bits. Both
databases shift a negative BIGINT arithmetically; the mask keeps the band's bits only. Each
key's index holds the kind before it and the hash and id after it, so the lookup reads only
the indexes (on PostgreSQL one heap page a candidate otherwise, ~800 a photo).

Revision ID: 0020
Revises: 0019
"""
import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

KEYS = {
    'k0': '(phash >> 43) & 2097151',
    'k1': '(phash >> 22) & 2097151',
    'k2': 'phash & 4194303',
    # The turned hash's bits 43-63 are the hash's 54-63 then 0-10.
    'k3': '((phash >> 54) & 1023) | ((phash & 2047) << 10)',
    'k4': '(phash >> 33) & 2097151',
    'k5': '(phash >> 11) & 4194303',
}
BANDS = {f'b{i}': f'(phash >> {16 * i}) & 65535' for i in range(4)}


def _swap(drop: dict, add: dict, before: list[str], after: list[str]) -> None:
    for name in drop:
        op.drop_index(f'ix_photo_windows_{name}', table_name='photo_windows')
    for name in add:
        op.add_column('photo_windows', sa.Column(name, sa.Integer(), nullable=True))
    op.execute(f"UPDATE photo_windows SET {', '.join(f'{n} = {e}' for n, e in add.items())}")
    with op.batch_alter_table('photo_windows') as batch:
        for name in add:
            batch.alter_column(name, existing_type=sa.Integer(), nullable=False)
        for name in drop:
            batch.drop_column(name)
    for name in add:
        op.create_index(f'ix_photo_windows_{name}', 'photo_windows', [*before, name, *after])


def upgrade():
    _swap(BANDS, KEYS, ['kind'], ['phash', 'id'])


def downgrade():
    _swap(KEYS, BANDS, [], [])
