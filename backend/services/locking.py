"""One writer at a time on a case: two co-signers, a double click, a payment racing a
cancellation wait for each other, and each then reads the case as the other left it."""

from sqlalchemy import select, text

from backend.models import Case


def lock_case(session, case: Case) -> Case:
    """Hold the case's row until this transaction ends, and read it afresh (with its history):
    checks made after the lock see what a concurrent writer committed before it.

    PostgreSQL locks the row (SELECT … FOR UPDATE). SQLite has no row locks: a no-op write
    takes the database's write lock now, so a second writer waits (busy_timeout) instead of
    checking against the same state.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE cases SET id = id WHERE id = :id"), {"id": case.id})
    session.execute(select(Case.id).where(Case.id == case.id).with_for_update())
    return session.get(Case, case.id, populate_existing=True)
