"""One photo UUID raced with different bytes: one photo, and only the winner's objects stored."""

import hashlib
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from backend.extensions import object_store
from backend.models import Photo
from backend.storage import make_store
from backend.storage.keys import PHOTO_PREFIX, original_key
from tests import factories, images
from tests.api.test_photos import multipart

RACERS = 20


@pytest.fixture(params=["local", "s3"])
def store_app(request, app, db):
    """The test app on its local folder, or on a fresh bucket of `rclone serve s3`."""
    if request.param == "local":
        yield app
        return
    previous = app.extensions["object_store"]
    settings = request.getfixturevalue("s3_settings")
    app.extensions["object_store"] = make_store({**settings, "STORAGE_BACKEND": "s3"})
    yield app
    app.extensions["object_store"] = previous


def test_parallel_puts_of_one_uuid_with_other_bytes_leave_only_the_winners_objects(store_app,
                                                                                  db):
    w = factories.world(db.session)
    household_id = str(w.households[w.village_a1].id)
    token = w.tokens["inspector"]
    photo_id = str(uuid.uuid4())
    bodies = [images.make_jpeg(320, 240, seed=700 + i) for i in range(RACERS)]

    def upload(data):
        response = store_app.test_client().put(
            f"/api/v1/photos/{photo_id}", headers={"Authorization": f"Bearer {token}"},
            buffered=True, **multipart({"household_id": household_id, "phase": "before"}, data))
        return response.status_code

    with ThreadPoolExecutor(RACERS) as pool:
        codes = list(pool.map(upload, bodies))
    assert sorted(codes) == [201] + [409] * (RACERS - 1)
    db.session.expire_all()
    photo = db.session.get(Photo, photo_id)
    assert db.session.query(Photo).count() == 1
    assert photo.sha256 == hashlib.sha256(bodies[codes.index(201)]).hexdigest()
    stored = sorted(object_store().list(PHOTO_PREFIX))
    # The original and the thumb; `large` is rendered on its first read (issue 20).
    assert len(stored) == 2 and original_key(photo.sha256) in stored
    assert all(photo.sha256 in key for key in stored)


def test_a_loser_keeps_objects_another_photo_holds(app, db):
    """Bytes stored under a second UUID are not taken back when a race over the first is lost."""
    w = factories.world(db.session)
    household_id = str(w.households[w.village_a1].id)
    headers = {"Authorization": f"Bearer {w.tokens['inspector']}"}
    winner, shared = images.make_jpeg(seed=801), images.make_jpeg(seed=802)
    fields = {"household_id": household_id, "phase": "before"}
    client = app.test_client()
    assert client.put(f"/api/v1/photos/{uuid.uuid4()}", headers=headers,
                      **multipart(fields, shared)).status_code == 201
    raced = str(uuid.uuid4())
    assert client.put(f"/api/v1/photos/{raced}", headers=headers,
                      **multipart(fields, winner)).status_code == 201
    # A loser of a race reaches the same cleanup as this: its row lost to the winner's.
    from backend.services.photos.storage_check import discard_unreferenced

    discard_unreferenced(db.session, object_store(), hashlib.sha256(shared).hexdigest())
    assert object_store().exists(original_key(hashlib.sha256(shared).hexdigest()))
