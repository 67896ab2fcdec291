"""A round's row keeps its village code without a key of its own (issue 21): the code is a
copy of its household's, made by the same INSERT … SELECT that opens the round and kept in
step by `households.follow_household`; the check against regions cost a lookup per row (a
quarter of opening a 100,000-household round on PostgreSQL) and guarded nothing the
household's own key does not.

SQLite cannot drop a constraint, so the table is rebuilt there, and its tally triggers (0015),
which go with the old table, are made again.

Revision ID: 0017
Revises: 0016
"""
import importlib.util
from pathlib import Path

from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

KEY = 'fk_round_households_village_code_regions'


def _tally_triggers() -> list[str]:
    spec = importlib.util.spec_from_file_location(
        'round_tallies_0015', Path(__file__).with_name('0015_round_tallies.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SQLITE


def _rebuild_on_sqlite(change) -> None:
    for name in ('insert', 'update', 'delete'):
        op.execute(f'DROP TRIGGER IF EXISTS round_tallies_{name}')
    with op.batch_alter_table('round_households', recreate='always') as batch_op:
        change(batch_op)
    for statement in _tally_triggers():
        op.execute(statement)


def upgrade():
    if op.get_bind().dialect.name == 'sqlite':
        _rebuild_on_sqlite(lambda batch_op: batch_op.drop_constraint(KEY, type_='foreignkey'))
    else:
        op.drop_constraint(KEY, 'round_households', type_='foreignkey')


def downgrade():
    def add(batch_op):
        batch_op.create_foreign_key(KEY, 'regions', ['village_code'], ['code'])
    if op.get_bind().dialect.name == 'sqlite':
        _rebuild_on_sqlite(add)
    else:
        op.create_foreign_key(KEY, 'round_households', 'regions', ['village_code'], ['code'])
