"""Fixture chain: app → db → client; the schema is built once by running the migrations.

Set TEST_DATABASE_URL (e.g. postgresql://...) to run the whole suite on PostgreSQL.
"""

import os
from contextlib import contextmanager

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import event, text

from backend import create_app
from backend.extensions import db as _db
from backend.services.workflow.templates import load_workflows
from backend.storage import LocalStore

pytest_plugins = ["tests.s3server"]


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    url = worker_database(os.environ.get("TEST_DATABASE_URL")) \
        or f"sqlite:///{instance / 'test.db'}"
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": url,
        "INSTANCE_DIR": str(instance),
        "STORAGE_BACKEND": "local",
        "STORAGE_LOCAL_ROOT": str(instance / "photos"),
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast in tests; scrypt in production
    })
    with app.app_context():
        if url.startswith("postgresql"):
            with _db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
    yield app
    with app.app_context():
        _db.engine.dispose()  # close pooled connections before the interpreter collects them


def worker_database(url: str | None) -> str | None:
    """Under pytest-xdist each worker gets its own PostgreSQL database (<name>_gw0, …), made
    on first use, since every test empties the tables it ran on."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not url.startswith("postgresql") or not worker:
        return url
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_{worker}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}) is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def db(app, tmp_path):
    """Give each test an empty database and its own photo folder."""
    with app.app_context():
        app.extensions["object_store"] = LocalStore(str(tmp_path / "photos"))
        load_workflows(_db.session)  # every case follows its county's procedure
        yield _db
        _db.session.remove()
        tables = [t.name for t in reversed(_db.metadata.sorted_tables)]
        with _db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(text(f"DELETE FROM {table}"))


class BufferedClient(FlaskClient):
    """Read and close every response, so streamed files are closed as a real server would."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app, db):
    app.test_client_class = BufferedClient
    return app.test_client()


@pytest.fixture
def count_queries(db):
    """Count the SQL statements run inside a `with count_queries() as n:` block."""

    @contextmanager
    def counter():
        statements = []

        def before(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            event.remove(db.engine, "before_cursor_execute", before)

    return counter


@pytest.fixture
def templates(db):
    """The repo's checklist templates, loaded as the CLI loads them."""
    from backend.services.checklists.templates import load_templates

    load_templates(db.session)
