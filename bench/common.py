"""What the benchmarks share: a fresh app and database, query counting, percentiles, and the
machine's speed at the moment (a reference decode)."""

import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event, text  # noqa: E402

from backend import create_app  # noqa: E402
from backend.extensions import db  # noqa: E402


@contextmanager
def bench_app(db_url: str | None) -> Iterator:
    """Yield an app inside its context, on a new SQLite file or an emptied PostgreSQL database."""
    with tempfile.TemporaryDirectory() as tmp:
        url = db_url or f"sqlite:///{tmp}/bench.db"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True,
                          "INSTANCE_DIR": tmp, "STORAGE_LOCAL_ROOT": f"{tmp}/photos",
                          "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
        with app.app_context():
            if url.startswith("postgresql"):
                with db.engine.begin() as conn:
                    conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            upgrade()
            yield app
            db.session.remove()
            db.engine.dispose()


def bulk_insert(table: str, columns: list[str], rows, phases: "Phases | None" = None) -> None:
    """Load rows the fastest way each database offers: COPY on PostgreSQL, one prepared INSERT
    run many times on SQLite. Values are given as stored (times as naive UTC text, JSON as text)."""
    phases = phases or Phases()
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if db.engine.dialect.name == "postgresql":
            # As a bulk import would: the table's non-unique indexes are built once afterwards
            # (far quicker than a million insertions into each, the trigram index above all).
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
                           "AND indexdef NOT LIKE 'CREATE UNIQUE%%'", (table,))
            indexes = cursor.fetchall()
            for name, _ in indexes:
                cursor.execute(f"DROP INDEX {name}")
            with phases("copy"), \
                    cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for values in rows:
                    copy.write_row(values)
            # Memory for index builds, as one sets it for a bulk load (the default 64 MB
            # spills a million names' trigram index to disk in many passes).
            cursor.execute("SET maintenance_work_mem = '512MB'")
            with phases("indexes"):
                for _, definition in indexes:
                    cursor.execute(definition)
        else:
            marks = ", ".join("?" * len(columns))
            # As a bulk import would: a page cache that holds the indexes being filled (the
            # default 2 MB rereads them from disk for every row).
            cursor.execute("PRAGMA cache_size = -1000000")
            with phases("insert"):
                cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                                   rows)
        raw.commit()
    finally:
        raw.close()


class Phases:
    """Seconds spent in each named step, printed on one line: `with phases("copy"): ...`."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0) + time.perf_counter() - started

    def __str__(self) -> str:
        return ", ".join(f"{name} {s:.1f} s" for name, s in self.seconds.items())


def refresh_statistics() -> None:
    """What a live database has after its first autovacuum: statistics (and, on PostgreSQL,
    a visibility map for index-only scans), its load written out by a checkpoint rather than
    by one in flight while the benchmark times."""
    # An open transaction's snapshot keeps VACUUM from marking the rows loaded after it as
    # visible to all, and index-only scans would then read the table after all.
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
            conn.execute(text("CHECKPOINT"))
    else:
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def stored_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def engine_name(app) -> str:
    return "PostgreSQL" if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgres") \
        else "SQLite"


@contextmanager
def counting_queries() -> Iterator[list]:
    statements: list[str] = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


def measure(call: Callable[[], object], repeat: int) -> tuple[float, float, float, int]:
    """Run `call` `repeat` times after one warm-up; return p50, p95, max (ms) and its queries."""
    call()
    with counting_queries() as statements:
        call()
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p95 = timings[min(len(timings) - 1, int(round(len(timings) * 0.95)) - 1)]
    return statistics.median(timings), p95, timings[-1], len(statements)


def row(label: str, figures: tuple[float, float, float, int], aim_ms: float | None) -> str:
    p50, p95, worst, queries = figures
    verdict = "" if aim_ms is None else ("OK" if p95 < aim_ms else "MISSED")
    return f"  {label:44s} {p50:7.1f} {p95:7.1f} {worst:7.1f} {queries:5d}  {verdict}"


HEADER = f"  {'request':44s} {'p50':>7s} {'p95':>7s} {'max':>7s} {'SQL':>5s}  (ms)"


_GRAIN: dict = {}
PHONE_REFERENCE_SEED = 4000  # the phone photo decoded for the machine's speed
SPEED_LABEL = "machine speed (bench/common.py; lower is faster)"


def phone_picture(width: int, height: int, seed: int):
    """A seeded picture with a photo's grain (so JPEGs have a photo's size and decode cost);
    the grain is drawn once per process and shifted per seed, which is much cheaper."""
    import numpy as np
    from PIL import Image

    from tests.images import make_image

    if (width, height) not in _GRAIN:
        rng = np.random.default_rng(width)
        _GRAIN[(width, height)] = rng.integers(-24, 25, (height, width, 1), dtype=np.int16)
    grain = np.roll(_GRAIN[(width, height)], seed * 7919, axis=1)
    arr = np.asarray(make_image(width, height, seed=seed), dtype=np.int16) + grain
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def machine_speed(rounds: int = 5) -> str:
    """How fast the machine is now, best of `rounds` each: one phone photo (2048x1536, quality
    70, as the phone app sends) decoded reduced to 1/4, and a fixed piece of pure Python
    (dict updates, as the framework and ORM do). The shared machine drifts by half between
    runs, Python-heavy work more than the decoder: quote both with the figures."""
    from PIL import Image

    from tests.images import _encode

    data = _encode(phone_picture(2048, 1536, PHONE_REFERENCE_SEED), "JPEG", None, quality=70)

    def decode() -> None:
        for _ in range(10):
            with Image.open(io.BytesIO(data)) as img:
                img.draft("RGB", (img.width // 4, img.height // 4))
                img.load()

    def python() -> None:
        counts: dict[int, int] = {}
        for i in range(100_000):
            counts[i % 997] = counts.get(i % 997, 0) + i

    def best(work: Callable[[], None], per_call: int) -> float:
        times = []
        for _ in range(rounds):
            started = time.thread_time()
            work()
            times.append((time.thread_time() - started) * 1000 / per_call)
        return min(times)

    return f"decode {best(decode, 10):.2f} ms, python {best(python, 1):.2f} ms"
