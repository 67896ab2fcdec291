from datetime import timedelta

from backend.models import ApiToken, AuditEvent
from backend.models.base import utc_now
from tests import factories
from tests.factories import PASSWORD


def login(client, username, password=PASSWORD):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def test_login_returns_token_and_user(client, db):
    w = factories.world(db.session)
    r = login(client, "inspector")
    assert r.status_code == 200
    body = r.get_json()
    assert body["user"]["role"] == "inspector"
    assert [x["code"] for x in body["user"]["regions"]] == [w.town_a]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.get_json()["username"] == "inspector"


def test_token_is_stored_hashed(client, db):
    factories.world(db.session)
    token = login(client, "inspector").get_json()["token"]
    hashes = [t.token_hash for t in db.session.query(ApiToken)]
    assert token not in hashes and len(hashes[0]) == 64


def test_wrong_password_is_401_in_documented_shape(client, db):
    factories.world(db.session)
    r = login(client, "inspector", "wrong-password")
    assert r.status_code == 401
    error = r.get_json()["error"]
    assert error["code"] == "invalid_credentials"
    assert "密码" in error["message"]


def test_unknown_user_is_401(client, db):
    assert login(client, "nobody").status_code == 401


def test_repeated_failures_are_throttled_with_429(client, db):
    factories.world(db.session)
    for _ in range(5):
        assert login(client, "inspector", "bad").status_code == 401
    r = login(client, "inspector")  # even the right password waits out the lockout
    assert r.status_code == 429
    assert r.get_json()["error"]["code"] == "too_many_attempts"
    assert int(r.headers["Retry-After"]) > 0


def test_missing_and_malformed_token_are_401(client, db):
    assert client.get("/api/v1/me").status_code == 401
    r = client.get("/api/v1/me", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    assert r.get_json()["error"]["code"] == "unauthenticated"


def test_expired_token_is_401_token_expired(client, db):
    w = factories.world(db.session)
    row = db.session.query(ApiToken).filter_by(user_id=w.users["inspector"].id).one()
    row.expires_at = utc_now() - timedelta(seconds=1)
    db.session.commit()
    r = client.get("/api/v1/me", headers=w.headers("inspector"))
    assert r.status_code == 401
    assert r.get_json()["error"]["code"] == "token_expired"


def test_logout_revokes_token(client, db):
    w = factories.world(db.session)
    assert client.post("/api/v1/auth/logout", headers=w.headers("inspector")).status_code == 204
    assert client.get("/api/v1/me", headers=w.headers("inspector")).status_code == 401
    assert db.session.query(AuditEvent).filter_by(action="logout").count() == 1


def test_malformed_json_and_unknown_fields_are_4xx(client, db):
    r = client.post("/api/v1/auth/login", data="{not json", content_type="application/json")
    assert r.status_code in (400, 422)
    assert "error" in r.get_json()
    r = client.post("/api/v1/auth/login", json={"username": "a", "password": "b", "x": 1})
    assert r.status_code == 422
    assert r.get_json()["error"]["fields"] == {"x": "未知字段"}


def test_openapi_document_lists_the_contract(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/auth/login", "/api/v1/me", "/api/v1/households",
                 "/api/v1/households/{household_id}", "/api/v1/cases/{case_id}"):
        assert path in spec["paths"], path


def test_healthz_checks_db_and_storage(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.get_json() == {"status": "ok", "db": "ok", "storage": "ok"}
