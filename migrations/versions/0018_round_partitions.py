"""Each round's households in a partition of their own on PostgreSQL (issue 21)

Opening a round over 100,000 households spent most of its time in PostgreSQL's key checks,
one lookup per row and key (3.0 s, against 1.3 s for the same insert with no keys). A round is
now opened by filling a plain table and attaching it as the round's partition
(`backend.services.rounds.partitions`): attaching checks each key with one join over the
whole table. A partitioned table's unique keys must hold the partition column, so the row's
own number goes and the round and household (already unique together) become its key, on
both databases alike.

Rows that arrive by attaching fire no insert trigger, so their tallies (0015) are counted by
`round_tallies_count(table)`, made here beside the triggers it stands in for, from the filled
table before it is attached.

SQLite has no partitions: the table is rebuilt there with the new key, and its tally
triggers (0015), which go with the old table, are made again.

Revision ID: 0018
Revises: 0017
"""
import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

PARTITION = 'round_households_{}'  # as backend.models.round.ROUND_PARTITION


def _tallies():
    spec = importlib.util.spec_from_file_location(
        'round_tallies_0015', Path(__file__).with_name('0015_round_tallies.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _columns(with_id: bool) -> list:
    return ([sa.Column('id', sa.Integer(), primary_key=True)] if with_id else []) + [
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
        sa.ForeignKeyConstraint(['household_id'], ['households.id'],
                                name='fk_round_households_household_id_households'),
        sa.ForeignKeyConstraint(['inspector_id'], ['users.id'],
                                name='fk_round_households_inspector_id_users'),
        sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], ondelete='CASCADE',
                                name='fk_round_households_round_id_rounds'),
        sa.ForeignKeyConstraint(['visit_id'], ['visits.id'],
                                name='fk_round_households_visit_id_visits'),
    ] + ([sa.UniqueConstraint('round_id', 'household_id', name='uq_round_households_household')]
         if with_id else
         [sa.PrimaryKeyConstraint('round_id', 'household_id', name='pk_round_households')])


COPIED = ('round_id, household_id, village_code, inspector_id, visit_id, outcome, visited_at, '
          'revisit_needed, found_in_round, skip_reason')


def _indexes() -> None:
    op.create_index('ix_round_households_progress', 'round_households', [
        'round_id', 'village_code', 'visited_at', 'outcome', 'revisit_needed', 'found_in_round'])
    op.create_index('ix_round_households_inspector', 'round_households',
                    ['inspector_id', 'round_id'])


def _replace(with_id: bool, partitioned: bool) -> None:
    """Build round_households anew with or without its own row number, keeping its rows."""
    postgres = op.get_bind().dialect.name == 'postgresql'
    tallies = _tallies()
    for name in ('insert', 'update', 'delete'):
        op.execute(f'DROP TRIGGER IF EXISTS round_tallies_{name}'
                   + (' ON round_households' if postgres else ''))
    op.rename_table('round_households', 'round_households_old')
    for index in ('ix_round_households_progress', 'ix_round_households_inspector'):
        op.drop_index(index, table_name='round_households_old')
    if postgres:  # names of index-backed keys are the schema's, not the table's
        op.execute('ALTER TABLE round_households_old DROP CONSTRAINT '
                   + ('pk_round_households' if with_id else  # a partitioned table's key
                      'pk_round_households, DROP CONSTRAINT uq_round_households_household'))
    op.create_table('round_households', *_columns(with_id),
                    **({'postgresql_partition_by': 'LIST (round_id)'} if partitioned else {}))
    _indexes()
    if partitioned:
        for (round_id,) in op.get_bind().execute(sa.text('SELECT id FROM rounds')):
            op.execute(f'CREATE TABLE {PARTITION.format(round_id)} PARTITION OF '
                       f'round_households FOR VALUES IN ({round_id})')
    op.execute(f'INSERT INTO round_households ({COPIED}) SELECT {COPIED} '
               f'FROM round_households_old ORDER BY round_id, household_id')
    op.drop_table('round_households_old')  # with its partitions, if it had them
    for statement in tallies.POSTGRES[1:] if postgres else tallies.SQLITE:
        op.execute(statement)


def upgrade():
    postgres = op.get_bind().dialect.name == 'postgresql'
    _replace(with_id=False, partitioned=postgres)
    if postgres:
        tallies = _tallies()
        count = tallies._upsert(
            f'SELECT {tallies._state("r")}, count(*) FROM %s AS r '
            f'GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6')
        op.execute(f'CREATE FUNCTION round_tallies_count(rows regclass) RETURNS void '
                   f'LANGUAGE plpgsql AS $$ BEGIN EXECUTE format($q$ {count} $q$, rows); END $$')


def downgrade():
    postgres = op.get_bind().dialect.name == 'postgresql'
    if postgres:
        op.execute('DROP FUNCTION round_tallies_count(regclass)')
    _replace(with_id=True, partitioned=False)
