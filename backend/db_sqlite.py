"""SQLite settings for several gunicorn workers writing to one file."""

from sqlalchemy import event

from backend.services.photos.perceptual import hamming


def configure_sqlite(engine) -> None:
    """Turn on WAL, foreign keys and a busy timeout on every new connection, and give it
    `hamming(a, b)` (PostgreSQL counts the bits itself: photos.reuse.HammingDistance)."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        dbapi_connection.create_function("hamming", 2, hamming, deterministic=True)
