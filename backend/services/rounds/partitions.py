"""Where a round's households are written in bulk (issue 21).

On PostgreSQL each round's rows are a partition of `round_households` of their own (migration
0018). A round opens by filling a plain table and attaching it: PostgreSQL then checks each key
with one join over the new rows, where an insert through the parent checked every key with one
lookup per row (a 100,000-household round spent more than half its opening in those checks).
The insert trigger that keeps the tallies (0015) does not see rows that arrive by attaching,
so they are counted once attached.

SQLite has no partitions and no such cost: its rows go straight into the table.
"""

from sqlalchemy import column, insert, table, text

from backend.models.round import ROUND_PARTITION, RoundHousehold


def add_round_rows(session, round_id: int, columns: list[str], rows) -> int:
    """Write a new round's households (`rows`, a SELECT giving `columns`); return how many."""
    if session.get_bind().dialect.name != "postgresql":
        return session.execute(insert(RoundHousehold).from_select(columns, rows)).rowcount
    partition = rows_table(session, round_id)
    # A round number given out again (tests empty the tables and restart the numbering) finds
    # the old round's partition, emptied with it: a round being opened has no rows yet.
    session.execute(text(f"DROP TABLE IF EXISTS {partition}"))
    session.execute(text(f"CREATE TABLE {partition} (LIKE {RoundHousehold.__tablename__})"))
    added = session.execute(insert(table(partition, *map(column, columns)))
                            .from_select(columns, rows)).rowcount
    session.execute(text(f"ALTER TABLE {RoundHousehold.__tablename__} ATTACH PARTITION "
                         f"{partition} FOR VALUES IN ({int(round_id)})"))
    session.execute(text("SELECT round_tallies_count_round(:round)"), {"round": round_id})
    return added


def rows_table(session, round_id: int) -> str:
    """The table that holds a round's rows (its statistics are the ones to refresh)."""
    if session.get_bind().dialect.name != "postgresql":
        return RoundHousehold.__tablename__
    return ROUND_PARTITION.format(int(round_id))
