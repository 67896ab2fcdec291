import hashlib
import io
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from backend.extensions import object_store
from backend.models import AuditEvent, Household, Photo
from backend.storage.keys import original_key, variant_key
from tests import factories, images

CHINA = timezone(timedelta(hours=8))
HOUSE = (39.52, 112.81)  # where factories.world puts every house


def now_iso(delta=timedelta()):
    return (datetime.now(UTC) + delta).isoformat()


def put_photo(client, w, data, *, photo_id=None, role="inspector", village=None, **meta):
    household = w.households[village or w.village_a1]
    fields = {"household_id": household.id, "phase": "before", "captured_at": now_iso(),
              "lat": HOUSE[0] + 0.0002, "lon": HOUSE[1], "accuracy_m": 8.0,
              "fix_at": now_iso(), "sha256": hashlib.sha256(data).hexdigest(), **meta}
    fields = {k: str(v) for k, v in fields.items() if v is not None}
    return client.put(f"/api/v1/photos/{photo_id or uuid.uuid4()}", headers=w.headers(role),
                      **multipart(fields, data))


def multipart(fields: dict, data: bytes) -> dict:
    """Encode a form with a file up front: the test client spools large bodies to temp files
    that it never closes."""
    boundary, body = encode_multipart({**fields, "file": FileStorage(io.BytesIO(data),
                                                                     "IMG_0001.jpg")})
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def set_photo_rules(app, monkeypatch, **changes) -> None:
    """Change photo rules for one test; the session's app gets its own back afterwards."""
    rules = app.extensions["rules"]
    monkeypatch.setitem(app.extensions, "rules",
                        replace(rules, photos=replace(rules.photos, **changes)))


def flag_codes(response) -> set[str]:
    return {f["code"] for f in response.get_json()["flags"]}


@pytest.fixture
def world(db):
    return factories.world(db.session)


def test_first_upload_is_201_with_facts_and_sizes(client, world):
    china_now = datetime.now(CHINA).replace(tzinfo=None)  # cameras write local time
    data = images.make_jpeg(1200, 900, exif_gps=(HOUSE[0], HOUSE[1] + 0.0003, 1050.0),
                            taken_at=china_now, make="HUAWEI", model="Mate 60", seed=3)
    r = put_photo(client, world, data)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert (body["width"], body["height"], body["format"]) == (1200, 900, "jpeg")
    assert body["exif"]["make"] == "HUAWEI" and body["exif"]["alt"] == pytest.approx(1050, abs=1)
    assert body["exif"]["lat"] == pytest.approx(HOUSE[0], abs=1e-4)
    assert body["device"]["accuracy_m"] == 8.0 and body["device"]["crs"] == "WGS-84"
    assert len(body["phash"]) == 16
    assert flag_codes(r) == set()
    headers = world.headers("inspector")
    original = client.get(body["urls"]["original"], headers=headers)
    assert original.status_code == 200 and original.data == data
    for variant, edge in (("thumb", 320), ("large", 1200)):
        got = client.get(body["urls"][variant], headers=headers)
        assert got.mimetype == "image/jpeg"
        with Image.open(io.BytesIO(got.data)) as im:
            assert max(im.size) == edge and not im.getexif()


def test_replay_is_200_and_stores_nothing_twice(client, world, db):
    data = images.make_jpeg(seed=4)
    photo_id = str(uuid.uuid4())
    first = put_photo(client, world, data, photo_id=photo_id)
    again = put_photo(client, world, data, photo_id=photo_id)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json() == again.get_json()
    assert db.session.query(Photo).count() == 1
    assert len(list(object_store().list("photos/original/"))) == 1
    assert db.session.query(AuditEvent).filter_by(entity="photo").count() == 1


def test_same_uuid_other_bytes_is_409_and_keeps_the_first(client, world, db):
    photo_id = str(uuid.uuid4())
    first = images.make_jpeg(seed=5)
    put_photo(client, world, first, photo_id=photo_id)
    r = put_photo(client, world, images.make_jpeg(seed=6), photo_id=photo_id)
    assert r.status_code == 409
    assert r.get_json()["error"]["code"] == "photo_conflict"
    db.session.expire_all()
    assert db.session.get(Photo, photo_id).sha256 == hashlib.sha256(first).hexdigest()


def test_concurrent_duplicates_of_one_uuid_make_one_photo(app, world, db):
    data = images.make_jpeg(1600, 1200, seed=7, pattern="noisy")
    photo_id = str(uuid.uuid4())
    household_id = str(world.households[world.village_a1].id)  # read before the threads
    token = world.tokens["inspector"]

    def upload(_):
        fields = {"household_id": household_id, "phase": "before"}
        return app.test_client().put(f"/api/v1/photos/{photo_id}",
                                     headers={"Authorization": f"Bearer {token}"},
                                     buffered=True, **multipart(fields, data)).status_code

    with ThreadPoolExecutor(4) as pool:
        codes = sorted(pool.map(upload, range(4)))
    assert codes == [200, 200, 200, 201]
    assert db.session.query(Photo).count() == 1


@pytest.mark.parametrize("data,status,code", [
    (b"%PDF-1.4 not a photo", 415, "unsupported_image_type"),
    (b"GIF89a" + b"\0" * 100, 415, "unsupported_image_type"),
    (b"", 415, "unsupported_image_type"),
    (images.png_header(50_000, 50_000), 422, "image_too_many_pixels"),
    (images.make_jpeg(800, 600, seed=8)[:4000], 422, "corrupt_image"),
])
def test_bad_files_are_refused_and_nothing_is_stored(client, world, db, data, status, code):
    r = put_photo(client, world, data)
    assert r.status_code == status, r.get_json()
    assert r.get_json()["error"]["code"] == code
    assert db.session.query(Photo).count() == 0
    assert list(object_store().list("photos/")) == []


def test_too_large_is_413_before_reading(app, client, world):
    data = images.make_jpeg(2000, 1500, pattern="noisy")
    app.config["PHOTO_MAX_BYTES"] = 100_000
    try:
        r = client.put(f"/api/v1/photos/{uuid.uuid4()}", headers=world.headers("inspector"),
                       **multipart({"household_id": "1", "phase": "before"}, data))
    finally:
        app.config["PHOTO_MAX_BYTES"] = 20 * 1024 * 1024
    assert r.status_code == 413
    assert r.get_json()["error"]["code"] == "photo_too_large"


def test_checksum_mismatch_is_422(client, world, db):
    r = put_photo(client, world, images.make_jpeg(seed=9), sha256="0" * 64)
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "checksum_mismatch"
    assert db.session.query(Photo).count() == 0


def test_bad_metadata_names_the_field(client, world):
    r = put_photo(client, world, images.make_jpeg(seed=10), phase="later", lat="abc")
    assert r.status_code == 422
    assert set(r.get_json()["error"]["fields"]) >= {"phase", "lat"}


def test_household_outside_area_is_404(client, world, db):
    r = put_photo(client, world, images.make_jpeg(seed=11), village=world.village_b1)
    assert r.status_code == 404
    assert db.session.query(Photo).count() == 0


def test_auditor_cannot_upload(client, world):
    r = put_photo(client, world, images.make_jpeg(seed=12), role="auditor")
    assert r.status_code == 403


def test_corrupt_exif_keeps_the_photo_and_flags_it(client, world):
    r = put_photo(client, world, images.corrupt_exif_jpeg())
    assert r.status_code == 201, r.get_json()
    assert "exif_unreadable" in flag_codes(r)


def test_content_is_only_for_the_area(client, world, db):
    body = put_photo(client, world, images.make_jpeg(seed=13)).get_json()
    outsider = factories.user(db.session, "town_reviewer", [world.town_b])
    token = factories.token_for(db.session, outsider)
    for url in (f"/api/v1/photos/{body['id']}", body["urls"]["thumb"], body["urls"]["original"]):
        r = client.get(url, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 404
    assert client.get(body["urls"]["thumb"]).status_code == 401


# --- flags: one photo that raises each, one that does not --------------------------------

FAR = (HOUSE[0] + 0.01, HOUSE[1])  # about 1.1 km north


@pytest.mark.parametrize("code,raising,clean", [
    ("no_position", {"lat": None, "lon": None, "accuracy_m": None}, {}),
    ("low_accuracy", {"accuracy_m": 120.0}, {"accuracy_m": 30.0}),
    ("far_from_house", {"lat": FAR[0], "lon": FAR[1]}, {"lat": HOUSE[0] + 0.0005}),
    ("time_skew", {"captured_at": now_iso(timedelta(hours=5))}, {"captured_at": now_iso()}),
])
def test_position_and_time_flags(client, world, code, raising, clean):
    flagged = put_photo(client, world, images.make_jpeg(seed=20), **raising)
    assert code in flag_codes(flagged), flagged.get_json()["flags"]
    fine = put_photo(client, world, images.make_jpeg(seed=21), **clean)
    assert code not in flag_codes(fine)


def test_exif_phone_mismatch_and_edited(client, world):
    mismatched = images.make_jpeg(exif_gps=(FAR[0], FAR[1], None), seed=22,
                                  software="Adobe Photoshop 25.0")
    r = put_photo(client, world, mismatched)
    assert {"exif_phone_mismatch", "edited"} <= flag_codes(r)
    details = {f["code"]: f["details"] for f in r.get_json()["flags"]}
    assert details["exif_phone_mismatch"]["distance_m"] > 1000
    agreeing = images.make_jpeg(exif_gps=(HOUSE[0], HOUSE[1], None), seed=23,
                                software="HUAWEI Camera")
    assert flag_codes(put_photo(client, world, agreeing)) & {"exif_phone_mismatch", "edited"} \
        == set()


def test_exif_time_far_from_capture_time_is_time_skew(client, world):
    taken = datetime(2020, 1, 1, 12, 0)
    r = put_photo(client, world, images.make_jpeg(taken_at=taken, seed=24))
    skew = next(f for f in r.get_json()["flags"] if f["code"] == "time_skew")
    assert skew["details"]["problems"][0]["kind"] == "exif_vs_capture"


def test_after_photo_before_the_before_photos_is_phase_order(client, world, db):
    case = factories.case(db.session, world.households[world.village_a1], status="in_progress")
    put_photo(client, world, images.make_jpeg(seed=25), case_id=case.id, phase="before",
              captured_at=now_iso(-timedelta(days=2)))
    early = put_photo(client, world, images.make_jpeg(seed=26), case_id=case.id, phase="after",
                      captured_at=now_iso(-timedelta(days=3)))
    assert "phase_order" in flag_codes(early)
    later = put_photo(client, world, images.make_jpeg(seed=27), case_id=case.id, phase="after",
                      captured_at=now_iso(-timedelta(days=1)))
    assert "phase_order" not in flag_codes(later)


def test_reused_photo_flags_both_households(client, world):
    data = images.make_jpeg(1024, 768, seed=30)
    first = put_photo(client, world, data).get_json()
    copy = images.near_duplicate(data)
    second = put_photo(client, world, copy, village=world.village_a2)
    assert "reused_elsewhere" in flag_codes(second)
    match = next(f for f in second.get_json()["flags"] if f["code"] == "reused_elsewhere")
    assert match["details"]["matches"][0]["photo_id"] == first["id"]
    again = client.get(f"/api/v1/photos/{first['id']}", headers=world.headers("inspector"))
    assert "reused_elsewhere" in flag_codes(again)
    other = put_photo(client, world, images.make_jpeg(1024, 768, seed=31),
                      village=world.village_a2)
    assert "reused_elsewhere" not in flag_codes(other)


def test_same_picture_twice_in_one_household_is_not_reuse(client, world):
    data = images.make_jpeg(seed=32)
    put_photo(client, world, data)
    assert "reused_elsewhere" not in flag_codes(put_photo(client, world, data))


def test_first_trusted_photo_locates_a_house_without_location(client, world, db):
    h = world.households[world.village_a2]
    h.lat = h.lon = None
    db.session.commit()
    r = put_photo(client, world, images.make_jpeg(seed=33), village=world.village_a2,
                  lat=39.6, lon=112.9, accuracy_m=6)
    assert r.status_code == 201
    db.session.expire_all()
    located = db.session.get(Household, h.id)
    assert (located.lat, located.lon, located.location_source) == (39.6, 112.9, "photo")


def test_moving_the_house_rechecks_distance_flags(client, world):
    body = put_photo(client, world, images.make_jpeg(seed=34), lat=FAR[0], lon=FAR[1]).get_json()
    assert "far_from_house" in {f["code"] for f in body["flags"]}
    h = world.households[world.village_a1]
    r = client.put(f"/api/v1/households/{h.id}/location", json={"lat": FAR[0], "lon": FAR[1]},
                   headers=world.headers("inspector"))
    assert r.status_code == 200
    again = client.get(f"/api/v1/photos/{body['id']}", headers=world.headers("inspector"))
    assert "far_from_house" not in flag_codes(again)


def test_upload_stores_the_original_and_thumb_and_large_on_first_read(client, world):
    data = images.make_jpeg(2400, 1800, seed=35, make="HUAWEI")  # EXIF: large is rendered
    body = put_photo(client, world, data).get_json()
    sha = hashlib.sha256(data).hexdigest()
    store = object_store()
    assert store.exists(original_key(sha)) and store.exists(variant_key(sha, "thumb"))
    assert not store.exists(variant_key(sha, "large"))
    got = client.get(body["urls"]["large"], headers=world.headers("inspector"))
    assert got.status_code == 200 and store.exists(variant_key(sha, "large"))
    with Image.open(io.BytesIO(got.data)) as im:
        assert max(im.size) == 1600 and not im.getexif() and "exif" not in im.info


# --- fuzz: whatever the bytes, the answer is a 2xx or a 4xx, never a 5xx --------------------

SEED_JPEG = images.make_jpeg(320, 240, exif_gps=(39.5, 112.8, 900.0), make="OPPO", seed=60)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(cut=st.integers(0, len(SEED_JPEG)),
       flips=st.lists(st.tuples(st.integers(0, len(SEED_JPEG) - 1), st.integers(0, 255)),
                      max_size=8),
       app1=st.binary(max_size=300))
def test_mutated_uploads_never_cause_a_server_error(client, world, cut, flips, app1):
    data = bytearray(SEED_JPEG)
    for at, value in flips:
        data[at] = value
    data = bytes(data[:cut] if cut > 2 else data)
    if app1:
        data = images.with_app1(data, b"Exif\x00\x00" + app1) if data[:2] == b"\xff\xd8" \
            else data
    r = put_photo(client, world, data)
    assert r.status_code < 500, r.get_json()
    assert "error" in r.get_json() or r.status_code in (200, 201)


@pytest.mark.parametrize("make,fmt", [(images.make_png, "png"), (images.make_webp, "webp"),
                                      (images.make_heic, "heif")])
def test_png_webp_and_heic_are_accepted_by_content(client, world, make, fmt):
    r = put_photo(client, world, make(seed=70))
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["format"] == fmt
    thumb = client.get(body["urls"]["thumb"], headers=world.headers("inspector"))
    assert thumb.mimetype == "image/jpeg"
