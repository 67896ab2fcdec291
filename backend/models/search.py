"""Name-search indexes that the ORM's metadata does not describe, made by migrations only:
PostgreSQL's trigram index (0012) and SQLite's FTS5 trigram table of names, kept in step with
`households` by triggers (0013).

A migration that rebuilds `households` on SQLite (batch mode copies and drops the table) drops
those triggers with it and must create them again.
"""

from backend.models.round import is_round_partition

NAME_TRIGRAM_INDEX = "ix_households_name_trgm"
SQLITE_NAME_INDEX = "households_name_fts"  # FTS5 adds shadow tables named after it


def compared_by_autogenerate(name: str | None, type_: str, _parents: dict) -> bool:
    """Alembic's include_name: leave the search indexes and the rounds' partitions out of the
    model comparison."""
    if type_ == "table" and name and (name.startswith(SQLITE_NAME_INDEX)
                                      or is_round_partition(name)):
        return False
    return not (type_ == "index" and name == NAME_TRIGRAM_INDEX)
