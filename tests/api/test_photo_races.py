"""One photo UUID raced with different bytes: one photo, and only the winner's objects kept."""

import hashlib
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from backend.extensions import object_store
from backend.models import Photo
from backend.services.photos.storage_check import check_storage, required_keys, sweep_orphans
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


def test_parallel_puts_of_one_uuid_with_other_bytes_keep_one_photo_and_sweep_the_rest(
        store_app, db):
    """The losers' objects stay as orphans (taking them back at once could race an upload of
    the same bytes under another UUID) until the sweep, which keeps the winner's."""
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
    store = object_store()
    # The original and the thumb of each that got as far as storing (a loser that finds the
    # winner's row first stores nothing); `large` is rendered on its first read (issue 20).
    stored = list(store.list(PHOTO_PREFIX))
    assert set(required_keys(photo.sha256)) <= set(stored)
    assert sweep_orphans(db.session, store, older_than=timedelta(hours=1)) == []
    swept = sweep_orphans(db.session, store, older_than=timedelta(0))
    assert len(swept) == len(stored) - 2 and not any(photo.sha256 in key for key in swept)
    assert sorted(store.list(PHOTO_PREFIX)) == sorted(required_keys(photo.sha256))
    assert store.get(original_key(photo.sha256)) == bodies[codes.index(201)]


def test_the_sweep_keeps_bytes_a_row_took_since_the_listing(app, db):
    """An orphan when listed, then committed under another UUID before the sweep reached it."""
    w = factories.world(db.session)
    household_id = str(w.households[w.village_a1].id)
    headers = {"Authorization": f"Bearer {w.tokens['inspector']}"}
    late, stray = images.make_jpeg(seed=801), images.make_jpeg(seed=802)
    store = object_store()
    for data in (late, stray):
        digest = hashlib.sha256(data).hexdigest()
        store.put(original_key(digest), data, content_type="image/jpeg", sha256=digest)
    listed = check_storage(db.session, store)
    assert len(listed.orphan_objects) == 2
    assert app.test_client().put(f"/api/v1/photos/{uuid.uuid4()}", headers=headers, **multipart(
        {"household_id": household_id, "phase": "before"}, late)).status_code == 201
    swept = sweep_orphans(db.session, store, older_than=timedelta(0), report=listed)
    assert swept == [original_key(hashlib.sha256(stray).hexdigest())]
    assert store.get(original_key(hashlib.sha256(late).hexdigest())) == late
