"""Two app servers on one PostgreSQL database and one S3 bucket (issue 19, "Two servers, one
database, one bucket"), as a county that outgrows one machine runs them.

The `cluster` fixture starts `rclone serve s3` with a fresh bucket, a TCP proxy in front of
the PostgreSQL of TEST_DATABASE_URL (so a test can cut the database off), prepares that
database through the CLI (migrated, checklists and workflows loaded, a small demo county), and
two gunicorn instances of wsgi.py, each with its own instance folder and the same SECRET_KEY,
as the README asks of several servers. Every process is stopped and the tables emptied
afterwards, whatever the tests did.
"""

import os
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine, make_url

from backend import models  # noqa: F401  (every table in the metadata)
from backend.extensions import db
from tests.live_app import Gunicorn, call, prepare_database
from tests.multiserver.tcp_proxy import TcpProxy
from tests.s3server import S3Server, free_port, s3_config

HOUSEHOLDS = 60  # the fewest with which seed-demo stages all its examples


@dataclass
class Cluster:
    a: Gunicorn
    b: Gunicorn
    s3: S3Server
    bucket: str
    database: TcpProxy
    engine: Engine  # straight to PostgreSQL, not through the proxy
    logins: dict[str, tuple[str, str]]  # role -> (username, password)

    @property
    def servers(self) -> tuple[Gunicorn, Gunicorn]:
        return self.a, self.b

    def token(self, role: str, server: Gunicorn | None = None) -> str:
        username, password = self.logins[role]
        status, body = call((server or self.a).url, "POST", "/api/v1/auth/login",
                            json_body={"username": username, "password": password})
        assert status == 200, body
        return body["token"]

    def keys(self, prefix: str) -> set[str]:
        client = self.s3.client()
        try:
            pages = client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                     Prefix=prefix)
            return {item["Key"] for page in pages for item in page.get("Contents", ())}
        finally:
            client.close()


def postgres_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.fail("tests/multiserver need PostgreSQL: set TEST_DATABASE_URL=postgresql://… "
                    "(.ci/run runs them there; `make test` on SQLite deselects them with "
                    "-m 'not multiserver')", pytrace=False)
    return url


def empty_tables(engine: Engine) -> None:
    """Empty every table of the app that exists (the migrations may not have run yet)."""
    existing = set(inspect(engine).get_table_names())
    tables = [t.name for t in db.metadata.sorted_tables if t.name in existing]
    if tables:
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    url = make_url(postgres_url())
    folder = tmp_path_factory.mktemp("multiserver")
    with ExitStack() as stack:
        s3 = S3Server(folder / "s3")
        s3.start()
        stack.callback(s3.stop)
        bucket = f"multiserver-{uuid.uuid4().hex[:12]}"
        client = s3.client()
        client.create_bucket(Bucket=bucket)
        client.close()
        proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
        proxy.start()
        stack.callback(proxy.stop)
        engine = create_engine(url)
        stack.callback(engine.dispose)
        env = {**os.environ, "SECRET_KEY": "one-key-for-every-server",
               "DATABASE_URL": url.set(host="127.0.0.1", port=proxy.port)
                                  .render_as_string(hide_password=False),
               "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "TRUSTED_PROXIES": "127.0.0.1",
               "GUNICORN_THREADS": "4",
               **{k: str(v) for k, v in s3_config(s3, bucket).items()}}
        stack.callback(empty_tables, engine)  # runs after the servers are stopped
        seed_env = {**env, "INSPECT_INSTANCE_DIR": str(folder / "seed")}
        empty_tables(engine)
        logins = prepare_database(seed_env, HOUSEHOLDS)
        servers = []
        for name in ("a", "b"):
            server_env = {**env, "INSPECT_INSTANCE_DIR": str(folder / name)}
            server = Gunicorn(server_env, free_port(), folder / f"gunicorn-{name}.log")
            stack.callback(server.stop)
            servers.append(server.launch())
        stack.callback(lambda: [server.quit() for server in servers])  # both go at once
        for server in servers:
            server.wait_healthy()
        yield Cluster(*servers, s3=s3, bucket=bucket, database=proxy, engine=engine,
                      logins={role: (user, password) for role, user, password in logins})
