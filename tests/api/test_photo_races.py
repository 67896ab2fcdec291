"""Uploads racing each other and the orphan sweep: one photo per UUID, only the winner's objects
kept, no bytes lost to the sweep, no flag written over by another upload."""

import hashlib
import io
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from backend.extensions import object_store
from backend.models import AuditEvent, Photo, PhotoFlag
from backend.models.base import china_today
from backend.services.photos import ingest
from backend.services.photos.storage_check import (
    Sweep,
    check_storage,
    required_keys,
    sweep_orphans,
)
from backend.storage import StorageUnavailable, make_store
from backend.storage.keys import PHOTO_PREFIX, original_key
from tests import factories, images
from tests.api.test_photo_evidence import jpeg
from tests.api.test_photos import multipart, put_photo

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
        store_app, db, tmp_path):
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
    assert sweep_orphans(db.session, store, older_than=timedelta(hours=1),
                         recovery=tmp_path) == Sweep()
    swept = sweep_orphans(db.session, store, older_than=timedelta(0), recovery=tmp_path).deleted
    assert len(swept) == len(stored) - 2 and not any(photo.sha256 in key for key in swept)
    assert sorted(store.list(PHOTO_PREFIX)) == sorted(required_keys(photo.sha256))
    assert store.get(original_key(photo.sha256)) == bodies[codes.index(201)]


def test_the_sweep_keeps_bytes_a_row_took_since_the_listing(app, db, tmp_path):
    """An orphan when listed, then committed under another UUID before the sweep reached it."""
    w = factories.world(db.session)
    household_id = str(w.households[w.village_a1].id)
    headers = {"Authorization": f"Bearer {w.tokens['inspector']}"}
    late, stray = images.make_jpeg(seed=801), images.make_jpeg(seed=802)
    store = object_store()
    stray_key = [factories.store_orphan(store, data) for data in (late, stray)][1]
    listed = check_storage(db.session, store)
    assert len(listed.orphan_objects) == 2
    assert app.test_client().put(f"/api/v1/photos/{uuid.uuid4()}", headers=headers, **multipart(
        {"household_id": household_id, "phase": "before"}, late)).status_code == 201
    swept = sweep_orphans(db.session, store, older_than=timedelta(0), recovery=tmp_path,
                          report=listed)
    assert swept == Sweep(deleted=[stray_key])
    assert store.get(original_key(hashlib.sha256(late).hexdigest())) == late


def failed_upload(client, headers, household_id, data, monkeypatch) -> None:
    """A phone's upload that dies between storing its objects and committing its row."""
    with monkeypatch.context() as patch:
        patch.setattr(ingest, "_next_number", fail)
        assert client.put(f"/api/v1/photos/{uuid.uuid4()}", headers=headers, **multipart(
            {"household_id": household_id, "phase": "before"}, data)).status_code == 500


def fail(*args, **kwargs):
    raise RuntimeError("the request dies between its objects and its row")


def resend_at_first_delete(monkeypatch, store, client, headers, household_id, data,
                           then=lambda: None) -> list[int]:
    """Make the sweep's first delete wait for a resend of `data` that stores the same bytes
    and commits its row (then run `then`); return the resend's status, once it has run."""
    delete, resent = type(store).delete, []

    def resend_then_delete(self, key):
        if not resent:
            resent.append(client.put(f"/api/v1/photos/{uuid.uuid4()}", headers=headers,
                                     **multipart({"household_id": household_id,
                                                  "phase": "before"}, data)).status_code)
            then()
        delete(self, key)

    monkeypatch.setattr(type(store), "delete", resend_then_delete)
    return resent


def test_the_sweep_puts_back_bytes_a_photo_committed_just_before_its_deletes(app, db, tmp_path,
                                                                             monkeypatch):
    """A phone resends a photo whose first upload failed a day ago: the resend stores the same
    bytes and commits its row between the sweep's look at the rows and its delete."""
    w = factories.world(db.session)
    household_id = str(w.households[w.village_a1].id)
    headers = {"Authorization": f"Bearer {w.tokens['inspector']}"}
    data = images.make_jpeg(seed=803)
    client = app.test_client()
    failed_upload(client, headers, household_id, data, monkeypatch)
    store = object_store()
    orphans = sorted(store.list(PHOTO_PREFIX))
    assert orphans == sorted(required_keys(hashlib.sha256(data).hexdigest()))
    resent = resend_at_first_delete(monkeypatch, store, client, headers, household_id, data)
    assert sweep_orphans(db.session, store, older_than=timedelta(0),
                         recovery=tmp_path) == Sweep()
    assert resent == [201]
    assert sorted(store.list(PHOTO_PREFIX)) == orphans
    assert store.get(original_key(hashlib.sha256(data).hexdigest())) == data
    # The audit log keeps what the sweep set out to delete, and what it put back.
    events = db.session.execute(select(AuditEvent.action, AuditEvent.changes).where(
        AuditEvent.entity == "photo_bytes").order_by(AuditEvent.id)).all()
    assert [(action, sorted(changes["keys"])) for action, changes in events] == [
        ("delete_orphan", orphans), ("put_back_orphan", orphans)]


def test_an_upload_asks_the_store_after_its_commit_only_for_bytes_a_sweep_touched(
        app, db, tmp_path, monkeypatch):
    """The HEAD after the commit guards against the sweep; bytes it never set out to delete
    cannot have gone, so an upload of them makes no request beyond its two PUTs."""
    w = factories.world(db.session)
    household_id = str(w.households[w.village_a1].id)
    headers = {"Authorization": f"Bearer {w.tokens['inspector']}"}
    store = object_store()
    asked, exists = [], type(store).exists
    monkeypatch.setattr(type(store), "exists", lambda self, key: asked.append(key) or
                        exists(self, key))
    client = app.test_client()
    fresh, swept_once = images.make_jpeg(seed=806), images.make_jpeg(seed=807)
    factories.store_orphan(store, swept_once)
    time.sleep(0.01)  # past the sweep's cutoff on coarse clocks
    assert len(sweep_orphans(db.session, store, older_than=timedelta(0),
                             recovery=tmp_path).deleted) == 1
    for data in (fresh, swept_once):
        assert client.put(f"/api/v1/photos/{uuid.uuid4()}", headers=headers, **multipart(
            {"household_id": household_id, "phase": "before"}, data)).status_code == 201
    assert asked == [original_key(hashlib.sha256(swept_once).hexdigest())]


def test_an_upload_whose_bytes_the_sweep_took_after_they_were_stored_puts_them_back(
        app, db, monkeypatch, tmp_path):
    """The other order: the sweep deletes the resend's bytes after the resend stored them and
    before it committed its row (the sweep saw no row); the resend finds them gone, by the
    sweep's record in the audit log."""
    w = factories.world(db.session)
    household_id = str(w.households[w.village_a1].id)
    headers = {"Authorization": f"Bearer {w.tokens['inspector']}"}
    data = images.make_jpeg(seed=804)
    store = object_store()
    store_upload = ingest.store_upload

    def stored_then_swept(*args):
        store_upload(*args)
        if not swept:
            time.sleep(0.01)  # past the sweep's cutoff on coarse clocks
            with Session(db.engine) as sweeper:  # the sweep runs beside the request
                swept.extend(sweep_orphans(sweeper, store, older_than=timedelta(0),
                                           recovery=tmp_path).deleted)

    swept: list[str] = []

    monkeypatch.setattr(ingest, "store_upload", stored_then_swept)
    photo_id = str(uuid.uuid4())
    assert app.test_client().put(f"/api/v1/photos/{photo_id}", headers=headers, **multipart(
        {"household_id": household_id, "phase": "before"}, data)).status_code == 201
    monkeypatch.undo()
    digest = hashlib.sha256(data).hexdigest()
    assert sorted(swept) == sorted(required_keys(digest))
    assert store.get(original_key(digest)) == data
    assert sorted(store.list(PHOTO_PREFIX)) == sorted(required_keys(digest))


def test_a_replay_stores_again_the_objects_of_a_committed_photo_that_lost_them(app, db):
    """A failure after the commit (the store down for the check after it) answers 503 to a
    photo whose row stands; the phone's retry is a replay, and stores the bytes again."""
    w = factories.world(db.session)
    headers = {"Authorization": f"Bearer {w.tokens['inspector']}"}
    fields = {"household_id": str(w.households[w.village_a1].id), "phase": "before"}
    data = images.make_jpeg(seed=805)
    photo_id = str(uuid.uuid4())
    client = app.test_client()
    assert client.put(f"/api/v1/photos/{photo_id}", headers=headers,
                      **multipart(fields, data)).status_code == 201
    store = object_store()
    digest = hashlib.sha256(data).hexdigest()
    for key in required_keys(digest):
        store.delete(key)
    assert client.put(f"/api/v1/photos/{photo_id}", headers=headers,
                      **multipart(fields, data)).status_code == 200
    assert store.get(original_key(digest)) == data
    # Stored as they were accepted, with no decode; the thumb is drawn on its first read.
    thumb = client.get(f"/api/v1/photos/{photo_id}/content?variant=thumb", headers=headers)
    assert thumb.status_code == 200 and thumb.data[:2] == b"\xff\xd8"
    thumb.close()
    assert sorted(store.list(PHOTO_PREFIX)) == sorted(required_keys(digest))


def test_bytes_the_store_refuses_back_are_kept_in_the_recovery_folder(app, db, tmp_path,
                                                                      monkeypatch):
    w = factories.world(db.session)
    household_id = str(w.households[w.village_a1].id)
    headers = {"Authorization": f"Bearer {w.tokens['inspector']}"}
    data = images.make_jpeg(seed=806)
    client = app.test_client()
    failed_upload(client, headers, household_id, data, monkeypatch)
    store = object_store()
    orphans = sorted(store.list(PHOTO_PREFIX))
    recovery = tmp_path / "recovery"
    resent = resend_at_first_delete(monkeypatch, store, client, headers, household_id, data,
                                    then=lambda: monkeypatch.setattr(type(store), "put", refuse))
    swept = sweep_orphans(db.session, store, older_than=timedelta(0), recovery=recovery)
    assert swept == Sweep(failed=orphans) and resent == [201]
    assert swept.kept_in.parent == recovery  # a folder of this run's own
    assert sorted(p.name for p in swept.kept_in.iterdir()) == [
        k.replace("/", "_") for k in orphans]
    kept = swept.kept_in / original_key(hashlib.sha256(data).hexdigest()).replace("/", "_")
    assert kept.read_bytes() == data


def test_the_sweep_writes_the_bytes_to_disk_before_its_first_delete(app, db, tmp_path,
                                                                    monkeypatch):
    """A sweep killed between its deletes and reading the rows again (OOM, a power cut) would
    lose the bytes of a photo committed in between: they are on disk by then, and removed
    once known to be no photo's."""
    store = object_store()
    key = factories.store_orphan(store, images.make_jpeg(seed=808))
    recovery = tmp_path / "recovery"
    delete, on_disk = type(store).delete, []

    def delete_and_look(self, deleting):
        on_disk.append(sorted(p.name for run in recovery.iterdir() for p in run.iterdir()))
        delete(self, deleting)

    monkeypatch.setattr(type(store), "delete", delete_and_look)
    time.sleep(0.01)  # past the sweep's cutoff on coarse clocks
    assert sweep_orphans(db.session, store, older_than=timedelta(0),
                         recovery=recovery) == Sweep(deleted=[key])
    assert on_disk == [[key.replace("/", "_")]]
    assert list(recovery.iterdir()) == []  # the run's folder too, once empty


def refuse(*args, **kwargs):
    raise StorageUnavailable()


def test_the_sweep_leaves_bytes_alone_once_any_of_their_objects_is_written_again(
        app, db, tmp_path, monkeypatch):
    """An upload in flight stores the same bytes again between the sweep's look at the
    original's age and the thumb's: none of them is taken."""
    w = factories.world(db.session)
    household_id = str(w.households[w.village_a1].id)
    headers = {"Authorization": f"Bearer {w.tokens['inspector']}"}
    data = images.make_jpeg(seed=807)
    failed_upload(app.test_client(), headers, household_id, data, monkeypatch)
    store = object_store()
    digest = hashlib.sha256(data).hexdigest()
    thumb = store.get(required_keys(digest)[1])
    modified, looked = type(store).modified, []

    def stored_again_after_the_first_look(self, key):
        value = modified(self, key)
        if not looked:
            looked.append(key)
            time.sleep(0.01)  # past the sweep's cutoff on coarse clocks
            ingest.store_upload(store, digest, data, "image/jpeg", thumb)
        return value

    monkeypatch.setattr(type(store), "modified", stored_again_after_the_first_look)
    assert sweep_orphans(db.session, store, older_than=timedelta(0),
                         recovery=tmp_path) == Sweep()
    assert looked == [original_key(digest)]
    assert sorted(store.list(PHOTO_PREFIX)) == sorted(required_keys(digest))


def test_two_uploads_flagging_one_stored_photo_at_once_leave_one_to_retry(app, db):
    """Two uploads at one replayed fix both mark the photo already there (mock location), which
    holds one flag per code: the second to write is told to retry (503), keeps nothing, and
    its retry goes through."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time")
    w = factories.world(db.session)
    fix = {"lat": 39.5203333, "lon": 112.8104444}
    stored = put_photo(app.test_client(), w, images.make_jpeg(seed=720), **fix).get_json()
    assert not stored["flags"] or "mock_location" not in {f["code"] for f in stored["flags"]}
    # The other upload, held open: it has written the flag and not yet committed.
    other = db.engine.connect()
    writing = other.begin()
    other.execute(text("INSERT INTO photo_flags (photo_id, code, details, status, raised_at) "
                       "VALUES (:p, 'mock_location', '{}', 'open', now())"),
                  {"p": stored["id"]})
    photo_id = str(uuid.uuid4())
    data = images.make_jpeg(seed=721)
    assert w.households[w.village_a2].id  # read here: the thread has no session of its own
    answer = upload_once_held(db, other, writing, "INSERT INTO photo_flags%", lambda: put_photo(
        app.test_client(), w, data, photo_id=photo_id, village=w.village_a2, **fix))
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "2"
    assert answer.get_json()["error"]["code"] == "upload_collided"
    db.session.expire_all()
    assert db.session.get(Photo, photo_id) is None
    again = put_photo(app.test_client(), w, data, photo_id=photo_id, village=w.village_a2, **fix)
    assert again.status_code == 201
    assert "mock_location" in {f["code"] for f in again.get_json()["flags"]}


def test_two_uploads_naming_one_stored_photo_as_a_look_alike_both_stay_on_its_list(app, db):
    """A stored photo's reused-photo flag lists its look-alikes. Another upload has added its
    own to the list and not yet committed: this one waits for it, and adds to the list as the
    other left it, instead of writing back the list it read before."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time")
    w = factories.world(db.session)
    third = factories.household(db.session, w.village_a1, name="第三户").id
    scene = images.make_jpeg(1024, 768, seed=730)
    picture = Image.open(io.BytesIO(scene))
    stored = put_photo(app.test_client(), w, scene).get_json()
    first = put_photo(app.test_client(), w, jpeg(picture, 70), village=w.village_a2).get_json()
    flag = db.session.scalar(select(PhotoFlag).where(PhotoFlag.photo_id == stored["id"],
                                                     PhotoFlag.code == "reused_elsewhere"))
    assert [m["photo_id"] for m in flag.details["matches"]] == [first["id"]]
    # The other upload, held open: it has added its match and not yet committed.
    held = {"photo_id": "another-upload", "household_id": 0, "village_code": w.village_b2,
            "distance": 1, "limit": 6}
    other = db.engine.connect()
    writing = other.begin()
    other.execute(text("UPDATE photo_flags SET details = :d WHERE id = :id"),
                  {"d": json.dumps({"matches": [*flag.details["matches"], held]}),
                   "id": flag.id})
    data = jpeg(picture, 60)
    assert w.households[w.village_a1].id  # read here: the thread has no session of its own
    answer = upload_once_held(db, other, writing, "%photo_flags%", lambda: put_photo(
        app.test_client(), w, data, household_id=third))
    assert answer.status_code == 201, answer.get_json()
    db.session.expire_all()
    flag = db.session.get(PhotoFlag, flag.id)
    assert [m["photo_id"] for m in flag.details["matches"]] == [
        first["id"], "another-upload", answer.get_json()["id"]]


def test_an_after_photo_sent_while_the_start_of_works_is_recorded_is_checked_against_it(
        app, db):
    """The town records 开工 (holding the case's row, as engine.perform does) while an 改造后
    photo of the case is on its way: the photo, read before, waits and reads the date."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time")
    w = factories.world(db.session)
    case = factories.case(db.session, w.households[w.village_a1], status="agreement_signed")
    started = china_today() - timedelta(days=4)
    other = db.engine.connect()
    writing = other.begin()
    other.execute(text("SELECT id FROM cases WHERE id = :id FOR UPDATE"), {"id": case.id})
    other.execute(text("UPDATE cases SET started_on = :d, status = 'in_progress' "
                       "WHERE id = :id"), {"d": started, "id": case.id})
    data = images.make_jpeg(seed=731)
    assert w.households[w.village_a1].id  # read here: the thread has no session of its own
    answer = upload_once_held(db, other, writing, "INSERT INTO photos%", lambda: put_photo(
        app.test_client(), w, data, case_id=case.id, phase="after"))
    assert answer.status_code == 201, answer.get_json()
    timing = next(f for f in answer.get_json()["flags"] if f["code"] == "phase_timing")
    assert (timing["details"]["kind"], timing["details"]["works_started_on"]) == (
        "works_too_short", started.isoformat())


def upload_once_held(db, other, writing, waiting_query: str, upload):
    """Run `upload` in a thread until it waits for a lock in a statement like `waiting_query`
    that the other connection's open transaction holds; commit that, and return the answer.
    Whatever fails, the other transaction ends, so the test's cleanup is not left waiting."""
    answers = []
    thread = threading.Thread(target=lambda: answers.append(upload()))
    thread.start()

    def upload_waits() -> bool:  # a new connection: a transaction sees one snapshot of this
        with db.engine.connect() as look:
            return bool(look.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database() AND query LIKE :q"), {"q": waiting_query}))

    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not upload_waits() and thread.is_alive():
            time.sleep(0.05)
        assert upload_waits(), f"the upload never waited: {answers and answers[0].get_json()}"
        writing.commit()
    finally:
        if writing.is_active:
            writing.rollback()
        other.close()
        thread.join(30)
    [answer] = answers
    return answer
