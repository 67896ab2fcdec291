"""Login throttling: counted atomically, per source and per account (OWASP Authentication Cheat
Sheet), and the client's address from X-Forwarded-For only behind a trusted proxy."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from werkzeug.security import check_password_hash

from backend.services import accounts
from tests import factories
from tests.factories import PASSWORD


def login(client, username, password=PASSWORD, addr="203.0.113.7", **headers):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": addr}, headers=headers)


@pytest.fixture
def checks(monkeypatch):
    """Count the password checks the server makes."""
    made = []

    def counting(hashed, password):
        made.append(password)
        return check_password_hash(hashed, password)

    monkeypatch.setattr(accounts, "check_password_hash", counting)
    return made


def test_parallel_wrong_passwords_get_exactly_the_allowed_checks(app, db, checks):
    factories.world(db.session)
    checks.clear()  # the world's own logins

    def attempt(i):
        return login(app.test_client(), "inspector", f"wrong-{i}").status_code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(attempt, range(40)))
    assert len(checks) == 5
    assert sorted(codes) == [401] * 5 + [429] * 35


def test_a_fuzzer_elsewhere_does_not_lock_the_admin_out(client, db):
    factories.world(db.session)
    for i in range(60):
        assert login(client, "county_admin", f"guess-{i}", addr="198.51.100.9").status_code in (
            401, 429)
    assert login(client, "county_admin", addr="198.51.100.9").status_code == 429
    r = login(client, "county_admin", addr="203.0.113.20")
    assert r.status_code == 200, r.get_json()


def test_many_sources_lock_the_account_only_where_they_failed(app, client, db):
    factories.world(db.session)
    limit = app.extensions["rules"].login.throttle.per_account
    for i in range(limit + 1):
        login(client, "inspector", "bad", addr=f"198.51.100.{i + 1}")
    assert login(client, "inspector", addr="198.51.100.1").status_code == 429
    assert login(client, "inspector", addr="192.0.2.44").status_code == 200


def test_one_source_spraying_usernames_is_stopped(app, client, db):
    factories.world(db.session)
    limit = app.extensions["rules"].login.throttle.per_source
    codes = [login(client, f"user{i}", "bad", addr="198.51.100.50").status_code
             for i in range(limit + 1)]
    assert codes[:limit] == [401] * limit and codes[limit] == 429
    r = login(client, "inspector", addr="198.51.100.50")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert login(client, "inspector", addr="198.51.100.51").status_code == 200


def test_a_right_password_clears_the_sources_count(client, db):
    factories.world(db.session)
    for _ in range(4):
        assert login(client, "inspector", "bad").status_code == 401
    assert login(client, "inspector").status_code == 200
    for _ in range(5):
        assert login(client, "inspector", "bad").status_code == 401
    assert login(client, "inspector", "bad").status_code == 429


def test_a_password_reset_unlocks_the_account(client, db):
    w = factories.world(db.session)
    for _ in range(6):
        login(client, "inspector", "bad")
    assert login(client, "inspector").status_code == 429
    r = client.post(f"/api/v1/users/{w.users['inspector'].id}/password",
                    headers=w.headers("county_admin"))
    if r.status_code == 404:  # the reset lives on the desk only
        accounts.reset_password(db.session, accounts.Actor.of(w.users["county_admin"]),
                                w.users["inspector"].id, hash_method="pbkdf2:sha256:1000")
    db.session.expire_all()
    assert login(client, "inspector").status_code == 401  # the old password is gone, not locked


@pytest.mark.parametrize("trusted,hops,locked_out", [
    ("", "{client}", True),  # no proxy listed: the header is ignored, all share the peer's count
    ("127.0.0.1", "{client}", False),
    ("127.0.0.1", "{client}, 10.1.2.3", True),  # the nearest untrusted hop is the same proxy
    ("10.0.0.0/8, 127.0.0.1", "{client}, 10.1.2.3", False),
    ("192.0.2.1", "{client}", True),  # another proxy listed, not this peer
])
def test_forwarded_for_is_believed_only_from_trusted_proxies(app, client, db, trusted, hops,
                                                             locked_out):
    factories.world(db.session)
    app.config["TRUSTED_PROXIES"] = trusted
    try:
        for _ in range(6):  # one client behind the proxy locks itself out
            login(client, "inspector", "bad", addr="127.0.0.1",
                  **{"X-Forwarded-For": hops.format(client="198.51.100.77")})
        other = login(client, "inspector", addr="127.0.0.1",
                      **{"X-Forwarded-For": hops.format(client="203.0.113.99")})
        assert other.status_code == (429 if locked_out else 200)
    finally:
        app.config["TRUSTED_PROXIES"] = ""


def test_forwarded_for_from_a_trusted_proxy_names_the_client(app):
    from backend.client_address import client_address

    app.config["TRUSTED_PROXIES"] = "127.0.0.1,10.0.0.0/8"
    try:
        cases = [("198.51.100.77, 10.1.2.3", "198.51.100.77"),
                 ("spoofed, 198.51.100.77", "198.51.100.77"),  # the left end is the client's
                 ("198.51.100.77, not-an-ip", "127.0.0.1"),
                 ("10.0.0.5", "10.0.0.5")]
        for header, expected in cases:
            with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"},
                                          headers={"X-Forwarded-For": header}):
                assert client_address() == expected, header
        with app.test_request_context(environ_base={"REMOTE_ADDR": "192.0.2.9"},
                                      headers={"X-Forwarded-For": "198.51.100.77"}):
            assert client_address() == "192.0.2.9"
    finally:
        app.config["TRUSTED_PROXIES"] = ""


def test_a_mistyped_trusted_proxies_setting_stops_the_app(tmp_path):
    from backend import create_app

    with pytest.raises(ValueError):
        create_app({"TESTING": True, "SECRET_KEY": "x", "TRUSTED_PROXIES": "127.0.0.1, proxy",
                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}",
                    "INSTANCE_DIR": str(tmp_path)})
