"""Round tallies: households per round, village and state, kept by triggers on
round_households, so round progress reads a few rows at any scale (issue 21)

PostgreSQL: statement-level triggers with transition tables, one grouped upsert per statement
(opening a round over a million households adds a few hundred tally rows in one go). SQLite:
row-level triggers, one upsert per row.

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

KEY = 'round_id, village, visited, outcome, revisit_needed, found_in_round'


def _state(rows: str) -> str:
    """The tally key of a round_households row (or of a transition table's rows)."""
    return (f"{rows}.round_id, {rows}.village_code, {rows}.visited_at IS NOT NULL, "
            f"coalesce({rows}.outcome, ''), {rows}.revisit_needed, {rows}.found_in_round")


def _upsert(select: str) -> str:
    return (f"INSERT INTO round_tallies ({KEY}, households) {select} "
            f"ON CONFLICT ({KEY}) DO UPDATE SET households = "
            f"round_tallies.households + excluded.households")


def _add(row: str, sign: str) -> str:
    """SQLite: one row's change."""
    return _upsert(f"VALUES ({_state(row)}, {sign}1)")


def _add_all(*sources: tuple[str, str]) -> str:
    """PostgreSQL: a statement's changes, summed per key and applied in key order (two
    transactions touching the same tallies lock them in the same order: no deadlock)."""
    parts = " UNION ALL ".join(f"SELECT {_state('r')}, {sign}1 FROM {table} AS r"
                               for table, sign in sources)
    return _upsert(f"SELECT {KEY}, sum(n) FROM (SELECT * FROM ({parts}) AS c ({KEY}, n)) AS d "
                   f"GROUP BY {KEY} ORDER BY {KEY}")


POSTGRES = [
    f"""CREATE FUNCTION round_tallies_follow() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN {_add_all(('new_rows', ''))};
        ELSIF TG_OP = 'DELETE' THEN {_add_all(('old_rows', '-'))};
        ELSE {_add_all(('old_rows', '-'), ('new_rows', ''))};
        END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER round_tallies_insert AFTER INSERT ON round_households REFERENCING NEW TABLE "
    "AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION round_tallies_follow()",
    "CREATE TRIGGER round_tallies_update AFTER UPDATE ON round_households REFERENCING OLD TABLE "
    "AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION round_tallies_follow()",
    "CREATE TRIGGER round_tallies_delete AFTER DELETE ON round_households REFERENCING OLD TABLE "
    "AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION round_tallies_follow()",
]
SQLITE = [
    f"CREATE TRIGGER round_tallies_insert AFTER INSERT ON round_households BEGIN "
    f"{_add('new', '')}; END",
    "CREATE TRIGGER round_tallies_update AFTER UPDATE OF round_id, village_code, visited_at, "
    "outcome, revisit_needed, found_in_round "
    f"ON round_households BEGIN {_add('old', '-')}; {_add('new', '')}; END",
    f"CREATE TRIGGER round_tallies_delete AFTER DELETE ON round_households BEGIN "
    f"{_add('old', '-')}; END",
]


def upgrade():
    op.create_table(
        'round_tallies',
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('village', sa.String(length=12), nullable=False),
        sa.Column('visited', sa.Boolean(), nullable=False),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('revisit_needed', sa.Boolean(), nullable=False),
        sa.Column('found_in_round', sa.Boolean(), nullable=False),
        sa.Column('households', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], ondelete='CASCADE',
                                name='fk_round_tallies_round_id_rounds'),
        sa.PrimaryKeyConstraint('round_id', 'village', 'visited', 'outcome',
                                'revisit_needed', 'found_in_round', name='pk_round_tallies'),
    )
    op.execute(f"INSERT INTO round_tallies ({KEY}, households) SELECT {_state('r')}, count(*) "
               f"FROM round_households AS r GROUP BY 1, 2, 3, 4, 5, 6")
    postgres = op.get_bind().dialect.name == 'postgresql'
    for statement in POSTGRES if postgres else SQLITE:
        op.execute(statement)


def downgrade():
    for name in ('insert', 'update', 'delete'):
        op.execute(f'DROP TRIGGER IF EXISTS round_tallies_{name}' + (
            ' ON round_households' if op.get_bind().dialect.name == 'postgresql' else ''))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP FUNCTION IF EXISTS round_tallies_follow()')
    op.drop_table('round_tallies')
