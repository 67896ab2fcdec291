"""A database that is down or busy answers 503 with Retry-After, as the photo store does, so the
phone's outbox tries again; a mistake in a statement stays a 500. The real outage, PostgreSQL
cut off from two gunicorn servers, is in tests/multiserver."""

import sqlite3

import psycopg
import pytest
from sqlalchemy.exc import OperationalError

from backend.api import auth


@pytest.mark.parametrize(("cause", "status", "code"), [
    (psycopg.OperationalError("connection to server at 127.0.0.1 failed: Connection refused"),
     503, "database_unavailable"),
    (psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
     503, "database_unavailable"),
    (sqlite3.OperationalError("database is locked"), 503, "database_unavailable"),
    (sqlite3.OperationalError("no such table: households"), 500, "internal_error"),
], ids=["pg-refused", "pg-shutdown", "sqlite-locked", "sqlite-no-table"])
def test_a_database_outage_is_503_with_retry_after(client, monkeypatch, cause, status, code):
    def fail(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, cause)

    monkeypatch.setattr(auth.accounts, "login", fail)
    r = client.post("/api/v1/auth/login", json={"username": "inspector", "password": "x"})
    assert r.status_code == status
    assert r.get_json()["error"]["code"] == code
    assert (r.headers.get("Retry-After") == "30") is (status == 503)
