"""Two gunicorn servers on one PostgreSQL database and one S3 bucket behave as one app: a photo
UUID raced on both makes one photo (and one set of objects once the sweep has run), the login
throttle counts across them, a page cursor and a revocation made on one hold on the other, and
each one's /healthz names the part that is down. Needs PostgreSQL (TEST_DATABASE_URL); see
conftest.py."""

import hashlib
import io
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from backend.models import Photo
from backend.services.photos.storage_check import StorageReport, sweep_orphans
from backend.storage import make_store
from backend.storage.keys import PHOTO_PREFIX, original_key
from tests import images
from tests.live_app import call
from tests.s3server import s3_config

pytestmark = pytest.mark.multiserver

RACERS = 8  # half on each server


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def race(cluster, requests: list) -> list:
    """Send request i to server a (even i) or b (odd i), all released at once; their answers."""
    barrier = threading.Barrier(len(requests))

    def send(i):
        server = cluster.servers[i % 2]
        barrier.wait()
        return requests[i](server)

    with ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(send, range(len(requests))))


def upload(token: str, photo_id: str, household_id: int, data: bytes):
    boundary, body = encode_multipart({"household_id": str(household_id), "phase": "before",
                                       "file": FileStorage(io.BytesIO(data), "IMG_0001.jpg")})
    headers = {**auth(token), "Content-Type": f"multipart/form-data; boundary={boundary}"}
    return lambda server: call(server.url, "PUT", f"/api/v1/photos/{photo_id}", body=body,
                               headers=headers)


@pytest.fixture(scope="module")
def inspector(cluster) -> tuple[str, int]:
    """The demo inspector's token and one household in their villages."""
    token = cluster.token("inspector")
    status, page = call(cluster.a.url, "GET", "/api/v1/households?limit=1",
                        headers=auth(token))
    assert status == 200 and page["items"], page
    return token, page["items"][0]["id"]


@pytest.mark.parametrize("same_bytes", [True, False], ids=["same-bytes", "other-bytes"])
def test_one_photo_uuid_sent_to_both_servers_at_once_makes_one_photo(cluster, inspector,
                                                                      same_bytes, tmp_path):
    token, household_id = inspector
    photo_id = str(uuid.uuid4())
    bodies = [images.make_jpeg(320, 240, seed=900 if same_bytes else 1000 + i)
              for i in range(RACERS)]
    before = cluster.keys(PHOTO_PREFIX)
    answers = race(cluster, [upload(token, photo_id, household_id, data) for data in bodies])
    codes = [status for status, _ in answers]
    # Same bytes: one created, the others answered as its replay; other bytes: conflicts.
    expected = [200] * (RACERS - 1) + [201] if same_bytes else [201] + [409] * (RACERS - 1)
    assert sorted(codes) == expected, answers
    winner = hashlib.sha256(bodies[codes.index(201)]).hexdigest()
    with cluster.engine.connect() as conn:
        rows = conn.execute(select(Photo.sha256).where(Photo.id == photo_id)).scalars().all()
    assert rows == [winner]
    added = cluster.keys(PHOTO_PREFIX) - before
    assert original_key(winner) in added
    # The losers' bytes stay as orphans until the sweep, which keeps only the winner's objects.
    losers = sorted(key for key in added if winner not in key)
    store = make_store(s3_config(cluster.s3, cluster.bucket))
    with Session(cluster.engine) as session:
        swept = sweep_orphans(session, store, older_than=timedelta(0), recovery=tmp_path,
                              report=StorageReport(orphan_objects=losers)).deleted
    assert sorted(swept) == losers
    assert cluster.keys(PHOTO_PREFIX) - before == {key for key in added if winner in key}
    for server in cluster.servers:  # each server reads the one photo
        status, photo = call(server.url, "GET", f"/api/v1/photos/{photo_id}",
                             headers=auth(token))
        assert status == 200 and photo["sha256"] == winner, photo


def login(server, username: str, password: str, source: str) -> int:
    """A login from `source`, as the trusted proxy in front of the servers reports it."""
    return call(server.url, "POST", "/api/v1/auth/login", headers={"X-Forwarded-For": source},
                json_body={"username": username, "password": password})[0]


def test_the_login_throttle_counts_across_both_servers(cluster):
    username, password = cluster.logins["inspector"]
    source = "203.0.113.7"
    a, b = cluster.servers
    for i in range(5):  # a, b, a, b, a: each server saw only two or three failures
        assert login(cluster.servers[i % 2], username, f"wrong-{i}", source) == 401
    assert login(b, username, "wrong-5", source) == 429  # the 6th, whichever server answers
    assert login(a, username, "wrong-6", source) == 429
    assert login(a, username, password, source) == 429
    assert login(b, username, password, source) == 429
    # A stranger's failures elsewhere do not lock the inspector out (OWASP, see throttle.py).
    assert login(b, username, password, "198.51.100.9") == 200


def test_parallel_wrong_passwords_on_both_servers_get_exactly_five_checks(cluster):
    username, _ = cluster.logins["town_reviewer"]
    answers = race(cluster, [lambda server, i=i: login(server, username, f"wrong-{i}",
                                                       "203.0.113.8")
                             for i in range(12)])
    assert sorted(answers) == [401] * 5 + [429] * 7


def test_a_page_cursor_from_one_server_works_on_the_other(cluster):
    headers = auth(cluster.token("county_admin"))
    a, b = cluster.servers
    status, whole = call(a.url, "GET", "/api/v1/households?limit=500", headers=headers)
    assert status == 200 and whole["next_cursor"] is None
    ids, path, turn = [], "/api/v1/households?limit=7", 0
    while path:
        status, page = call(cluster.servers[turn % 2].url, "GET", path, headers=headers)
        assert status == 200, page
        if page["next_cursor"]:
            following = f"/api/v1/households?limit=7&cursor={page['next_cursor']}"
            assert call(a.url, "GET", following, headers=headers) == \
                call(b.url, "GET", following, headers=headers)
        ids += [h["id"] for h in page["items"]]
        path = page["next_cursor"] and f"/api/v1/households?limit=7&cursor={page['next_cursor']}"
        turn += 1
    assert turn >= 3  # the walk crossed servers more than once
    assert ids == [h["id"] for h in whole["items"]]


def test_a_token_revoked_on_one_server_is_refused_by_the_other(cluster):
    a, b = cluster.servers
    for issuer, other in ((a, b), (b, a)):
        token = cluster.token("inspector", issuer)
        assert call(other.url, "GET", "/api/v1/me", headers=auth(token))[0] == 200
        assert call(issuer.url, "POST", "/api/v1/auth/logout", headers=auth(token))[0] == 204
        status, body = call(other.url, "GET", "/api/v1/me", headers=auth(token))
        assert status == 401, body
        assert call(issuer.url, "GET", "/api/v1/me", headers=auth(token))[0] == 401


def health(cluster) -> list:
    return [call(server.url, "GET", "/healthz", timeout=30) for server in cluster.servers]


def test_each_servers_healthz_names_the_database_when_it_is_down(cluster):
    headers = auth(cluster.token("inspector"))
    assert health(cluster) == [(200, {"status": "ok", "db": "ok", "storage": "ok"})] * 2
    with cluster.database.cut():
        assert health(cluster) == [(503, {"status": "error", "db": "error",
                                          "storage": "ok"})] * 2
        for server in cluster.servers:  # the API says so too, for the phone to retry
            status, body = call(server.url, "GET", "/api/v1/me", headers=headers)
            assert (status, body["error"]["code"]) == (503, "database_unavailable"), body
    assert health(cluster) == [(200, {"status": "ok", "db": "ok", "storage": "ok"})] * 2


def test_each_servers_healthz_names_the_store_when_it_is_down(cluster):
    with cluster.s3.stopped():  # rclone's process ended
        assert health(cluster) == [(503, {"status": "error", "db": "ok",
                                          "storage": "error"})] * 2
    assert health(cluster) == [(200, {"status": "ok", "db": "ok", "storage": "ok"})] * 2
