"""PostgreSQL: a trigram index on households' names (pg_trgm), so a name search of three or
more characters, and a prefix search of one or two, reads an index instead of every row.
SQLite has no pg_trgm: there this revision changes nothing (0013 gives SQLite its own index).

Revision ID: 0012
Revises: 0011
"""
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may create it.
    op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    op.execute('CREATE INDEX IF NOT EXISTS ix_households_name_trgm '
               'ON households USING gin (name gin_trgm_ops)')


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute('DROP INDEX IF EXISTS ix_households_name_trgm')
