"""One writer at a time on a case: two co-signers, a double click, a payment racing a
cancellation wait for each other, and each then reads the case as the other left it. The same
for a household's photo numbers: two uploads at once never take the same number."""

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from backend.models import Case, Household, PhotoFlag


def lock_case(session, case: Case) -> Case:
    """Hold the case's row until this transaction ends, and read it afresh (with its history):
    checks made after the lock see what a concurrent writer committed before it."""
    _hold(session, Case, case.id)
    return session.get(Case, case.id, populate_existing=True)


def lock_household(session, household_id: int) -> None:
    """Hold the household's row until this transaction ends."""
    _hold(session, Household, household_id)


def lock_flags(session, photo_ids: list[str], code: str) -> None:
    """Hold these photos' flags of `code` (in id order, so two holders never cross) and read
    them afresh, for a writer that has the database already (SQLite: taken by an earlier
    `_hold` of the same transaction, so there is nothing to do there)."""
    if session.get_bind().dialect.name == "sqlite":
        return
    session.scalars(select(PhotoFlag).where(PhotoFlag.photo_id.in_(photo_ids),
                                            PhotoFlag.code == code)
                    .order_by(PhotoFlag.id).with_for_update()
                    .execution_options(populate_existing=True)).all()


def _hold(session, model, row_id: int) -> None:
    """PostgreSQL locks the row (SELECT … FOR UPDATE). SQLite has no row locks: a no-op write
    takes the database's write lock now, so a second writer waits (busy_timeout) instead of
    checking against the same state."""
    if session.get_bind().dialect.name == "sqlite":
        table = model.__tablename__
        session.execute(text(f"UPDATE {table} SET id = id WHERE id = :id"), {"id": row_id})
    else:
        session.execute(select(model.id).where(model.id == row_id).with_for_update())


def insert_or_winner(session, row, model, key):
    """Add and flush a row keyed by the phone's UUID. When another request with the same UUID
    committed first, roll back and return that winner (for a replay or a 409); else None."""
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        winner = session.get(model, key)
        if winner is None:
            raise
        return winner
    return None
