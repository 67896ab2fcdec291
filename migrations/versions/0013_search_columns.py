"""Indexed searches at province scale: households' last six ID characters (filled here for
existing rows), SQLite's FTS5 trigram index of names, and one index covering round progress

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

FTS = 'households_name_fts'
TRIGGERS = {
    'ai': f"AFTER INSERT ON households BEGIN "
          f"INSERT INTO {FTS}(rowid, name) VALUES (new.id, new.name); END",
    'ad': f"AFTER DELETE ON households BEGIN "
          f"INSERT INTO {FTS}({FTS}, rowid, name) VALUES ('delete', old.id, old.name); END",
    'au': f"AFTER UPDATE OF name ON households BEGIN "
          f"INSERT INTO {FTS}({FTS}, rowid, name) VALUES ('delete', old.id, old.name); "
          f"INSERT INTO {FTS}(rowid, name) VALUES (new.id, new.name); END",
}


def upgrade():
    with op.batch_alter_table('households') as batch:
        batch.add_column(sa.Column('id_tail6', sa.String(length=6), nullable=True))
    op.execute('UPDATE households SET id_tail6 = substr(id_number, length(id_number) - 5)')
    with op.batch_alter_table('households') as batch:
        batch.alter_column('id_tail6', existing_type=sa.String(length=6), nullable=False)
        batch.create_index('ix_households_id_tail6', ['id_tail6'], unique=False)
    with op.batch_alter_table('round_households') as batch:
        batch.drop_index('ix_round_households_round_village')
        batch.create_index('ix_round_households_progress', [
            'round_id', 'village_code', 'visited_at', 'outcome', 'revisit_needed',
            'found_in_round'], unique=False)
    if op.get_bind().dialect.name == 'sqlite':
        # The trigram tokenizer indexes every three characters: LIKE '%王建国%' and MATCH read
        # the index (SQLite 3.34+). An external-content table: the names stay in households.
        op.execute(f"CREATE VIRTUAL TABLE {FTS} USING fts5(name, content='households', "
                   f"content_rowid='id', tokenize='trigram')")
        for suffix, body in TRIGGERS.items():
            op.execute(f'CREATE TRIGGER {FTS}_{suffix} {body}')
        op.execute(f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')")


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        for suffix in TRIGGERS:
            op.execute(f'DROP TRIGGER IF EXISTS {FTS}_{suffix}')
        op.execute(f'DROP TABLE IF EXISTS {FTS}')
    with op.batch_alter_table('round_households') as batch:
        batch.drop_index('ix_round_households_progress')
        batch.create_index('ix_round_households_round_village', ['round_id', 'village_code'],
                           unique=False)
    with op.batch_alter_table('households') as batch:
        batch.drop_index('ix_households_id_tail6')
        batch.drop_column('id_tail6')
