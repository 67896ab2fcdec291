"""Where a round's households are written in bulk (issue 21).

On PostgreSQL each round's rows are a partition of `round_households` of their own (migration
0018). A round opens by filling a plain table and attaching it: PostgreSQL then checks each key
with one join over the new rows, where an insert through the parent checked every key with one
lookup per row (a 100,000-household round spent more than half its opening in those checks).
The insert trigger that keeps the tallies (0015) does not see rows that arrive by attaching,
so they are counted from the filled table.

Attaching holds a lock on the tables the keys point at (households, users, visits, rounds)
that lets them be read but not written until the opening commits, so it comes last, waits at
most `ATTACH_LOCK_WAIT` for writes already under way, and openings take turns: two at once
would each hold what the other's attach waits for.

SQLite has no partitions and no such cost: its rows go straight into the table.
"""

from sqlalchemy import column, insert, table, text
from sqlalchemy.exc import OperationalError

from backend.models.round import ROUND_PARTITION, RoundHousehold
from backend.services.errors import Conflict

PARENT = RoundHousehold.__tablename__
ATTACH_LOCK_WAIT = "5s"


def _postgres(session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def take_turn(session) -> None:
    """Wait for any other round being opened; call before the new round's row is written.
    Reading and writing other rounds' households goes on meanwhile."""
    if _postgres(session):
        session.execute(text(f"LOCK TABLE {PARENT} IN SHARE UPDATE EXCLUSIVE MODE"))


def add_round_rows(session, round_id: int, columns: list[str], rows) -> int:
    """Write a new round's households (`rows`, a SELECT giving `columns`); return how many."""
    if not _postgres(session):
        return session.execute(insert(RoundHousehold).from_select(columns, rows)).rowcount
    partition = rows_table(session, round_id)
    # A round number given out again (tests empty the tables and restart the numbering) finds
    # the old round's partition, emptied with it: a round being opened has no rows yet.
    session.execute(text(f"DROP TABLE IF EXISTS {partition}"))
    session.execute(text(f"CREATE TABLE {partition} "
                         f"(LIKE {PARENT} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"))
    added = session.execute(insert(table(partition, *map(column, columns)))
                            .from_select(columns, rows)).rowcount
    session.execute(text("SELECT round_tallies_count(CAST(:rows AS regclass))"),
                    {"rows": partition})
    session.execute(text(f"SET LOCAL lock_timeout = '{ATTACH_LOCK_WAIT}'"))
    try:
        session.execute(text(f"ALTER TABLE {PARENT} ATTACH PARTITION {partition} "
                             f"FOR VALUES IN ({int(round_id)})"))
    except OperationalError as error:
        if getattr(error.orig, "sqlstate", None) != "55P03":  # lock_not_available
            raise
        session.rollback()
        raise Conflict("农户或检查记录正在被其他操作写入，本轮排查未开启，请稍后再试") from error
    session.execute(text("RESET lock_timeout"))
    return added


def rows_table(session, round_id: int) -> str:
    """The table that holds a round's rows (its statistics are the ones to refresh)."""
    return ROUND_PARTITION.format(int(round_id)) if _postgres(session) else PARENT
