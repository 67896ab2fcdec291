"""The photo pipeline against a real S3 server (rclone serve s3): redirects and store faults."""

import hashlib
import urllib.request
import uuid

import pytest

from backend.extensions import object_store
from backend.models import Photo
from backend.storage import make_store
from tests import factories, images
from tests.api.test_photos import put_photo


@pytest.fixture
def s3_app(app, db, s3_settings):
    """The test app with an S3 bucket as its photo store, for one test."""
    previous = app.extensions["object_store"]
    app.extensions["object_store"] = make_store({**s3_settings, "STORAGE_BACKEND": "s3"})
    yield app
    app.extensions["object_store"] = previous


@pytest.fixture
def world(db):
    return factories.world(db.session)


def test_content_redirects_to_a_short_lived_signed_url(s3_app, client, world):
    data = images.make_jpeg(seed=40)
    body = put_photo(client, world, data).get_json()
    r = client.get(body["urls"]["original"], headers=world.headers("inspector"))
    assert r.status_code == 302
    location = r.headers["Location"]
    assert "X-Amz-Expires=300" in location and "X-Amz-Signature=" in location
    with urllib.request.urlopen(location, timeout=10) as fetched:
        assert fetched.read() == data
    tampered = location.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(tampered, timeout=10).close()


def test_store_down_is_503_with_no_row_and_the_retry_succeeds(s3_app, s3_server, client, world,
                                                               db):
    data = images.make_jpeg(seed=41)
    photo_id = str(uuid.uuid4())
    with s3_server.stopped():
        r = put_photo(client, world, data, photo_id=photo_id)
        assert r.status_code == 503
        assert r.get_json()["error"]["code"] == "storage_unavailable"
        assert int(r.headers["Retry-After"]) > 0
        assert db.session.query(Photo).count() == 0
        health = client.get("/healthz")
        assert health.status_code == 503 and health.get_json()["storage"] == "error"
    retry = put_photo(client, world, data, photo_id=photo_id)
    assert retry.status_code == 201, retry.get_json()
    assert object_store().get(f"photos/original/{retry.get_json()['sha256'][:2]}/"
                              f"{hashlib.sha256(data).hexdigest()}") == data
    assert db.session.query(Photo).count() == 1
