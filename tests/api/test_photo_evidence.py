"""Issue 20: the upload as its own `large`, sizes rendered on first read, and the evidence
checks that catch what people try (a mirrored copy, a black frame, after-photos taken days after
the befores, a location app's fix, no position at all on an on-site visit)."""

import hashlib
import io
import threading
import uuid
from datetime import timedelta

import pytest
from PIL import Image, ImageOps

from backend.extensions import object_store
from backend.models import Photo
from backend.models.base import china_today
from backend.services.photos import variants
from backend.storage.keys import variant_key
from tests import factories, images
from tests.api.test_photos import HOUSE, flag_codes, now_iso, put_photo, set_photo_rules


@pytest.fixture
def world(db):
    return factories.world(db.session)


def flag(response, code):
    return next(f for f in response.get_json()["flags"] if f["code"] == code)


def jpeg(img: Image.Image, quality=80) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


# --- sizes ---------------------------------------------------------------------------------
def test_a_plain_phone_jpeg_is_served_as_its_own_large(client, world):
    data = images.make_jpeg(2048, 1536, quality=70, seed=40)  # what the phone sends: no EXIF
    body = put_photo(client, world, data).get_json()
    got = client.get(body["urls"]["large"], headers=world.headers("inspector"))
    assert got.status_code == 200 and got.data == data and got.mimetype == "image/jpeg"
    assert not object_store().exists(variant_key(body["sha256"], "large"))


@pytest.mark.parametrize("make", [
    lambda: images.make_jpeg(2048, 1536, exif_gps=(39.52, 112.81, None), seed=41),
    lambda: images.make_jpeg(3000, 2000, seed=42),  # larger than a phone's upload
], ids=["exif-gps", "too-large"])
def test_other_uploads_get_a_rendered_stripped_large(client, world, make):
    data = make()
    body = put_photo(client, world, data).get_json()
    got = client.get(body["urls"]["large"], headers=world.headers("inspector"))
    assert got.data != data
    with Image.open(io.BytesIO(got.data)) as im:
        assert max(im.size) <= 1600 and "exif" not in im.info


def test_concurrent_first_reads_store_one_rendering(app, client, world, db):
    data = images.make_jpeg(2400, 1800, seed=43, make="OPPO")
    body = put_photo(client, world, data).get_json()
    store, sha = object_store(), body["sha256"]
    keys, barrier = [], threading.Barrier(6)

    def read():
        barrier.wait()
        keys.append(variants.ensure_variant(store, sha, "large"))

    threads = [threading.Thread(target=read) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(keys) == {variant_key(sha, "large")}
    assert list(store.list(f"photos/large/{sha[:2]}/")) == [variant_key(sha, "large")]
    with Image.open(io.BytesIO(store.get(keys[0]))) as im:
        im.load()  # whole, never a torn write
        assert max(im.size) == 1600


# --- reuse ---------------------------------------------------------------------------------
def test_a_mirrored_copy_under_another_household_is_reuse(client, world):
    original = images.make_image(1600, 1200, seed=44, pattern="noisy")
    first = put_photo(client, world, jpeg(original)).get_json()
    resized = put_photo(client, world, jpeg(original.resize((1200, 900)), quality=60),
                        village=world.village_a2)
    [straight] = flag(resized, "reused_elsewhere")["details"]["matches"]
    assert "mirrored" not in straight
    mirrored = jpeg(ImageOps.mirror(original).resize((1200, 900)), quality=60)
    r = put_photo(client, world, mirrored, village=world.village_a2)
    [match] = flag(r, "reused_elsewhere")["details"]["matches"]
    assert match["photo_id"] == first["id"] and match["mirrored"] is True
    assert match["distance"] <= match["limit"] == 6  # the reviewer reads both numbers
    again = client.get(f"/api/v1/photos/{first['id']}", headers=world.headers("inspector"))
    assert [m.get("mirrored") for m in flag(again, "reused_elsewhere")["details"][
        "matches"]] == [None, True]
    other = put_photo(client, world, jpeg(images.make_image(1600, 1200, seed=45)),
                      village=world.village_a2)
    assert "reused_elsewhere" not in flag_codes(other)


@pytest.mark.parametrize("distance", [-1, 8, 12])
def test_a_reuse_distance_the_lookup_cannot_honour_stops_the_app(tmp_path, distance):
    from backend import create_app

    config = {"TESTING": True, "SECRET_KEY": "x", "PHOTO_REUSE_DISTANCE": distance,
              "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}",
              "INSTANCE_DIR": str(tmp_path)}
    with pytest.raises(ValueError, match="PHOTO_REUSE_DISTANCE must be 0-7"):
        create_app(config)
    assert create_app({**config, "PHOTO_REUSE_DISTANCE": 7}).extensions[
        "rules"].photos.reuse_distance == 7


def test_black_frames_are_low_information_and_never_reuse(client, world):
    black = jpeg(Image.new("RGB", (1600, 1200), (6, 6, 6)))
    first = put_photo(client, world, black)
    assert flag(first, "low_information")["details"]["limit"] == 3.0
    assert flag(first, "low_information")["details"]["detail"] < 1
    again = put_photo(client, world, jpeg(Image.new("RGB", (1600, 1200), (3, 3, 3))),
                      village=world.village_a2)
    assert "low_information" in flag_codes(again)
    assert "reused_elsewhere" not in flag_codes(again)
    house = put_photo(client, world, images.make_jpeg(1600, 1200, seed=46))
    assert "low_information" not in flag_codes(house)


def test_matches_per_photo_are_capped(app, client, world, db, monkeypatch):
    set_photo_rules(app, monkeypatch, reuse_max_matches=2)
    data = images.make_jpeg(1024, 768, seed=47)
    for _ in range(3):
        other = factories.household(db.session, world.village_a2, lat=39.52, lon=112.81)
        put_photo(client, world, data, household_id=other.id)
    last = put_photo(client, world, images.near_duplicate(data))
    assert len(flag(last, "reused_elsewhere")["details"]["matches"]) == 2


# --- phase timing --------------------------------------------------------------------------
def test_after_photos_days_after_the_befores_are_phase_timing(client, world, db):
    case = factories.case(db.session, world.households[world.village_a1], status="in_progress")
    put_photo(client, world, images.make_jpeg(seed=50), case_id=case.id, phase="before",
              captured_at=now_iso(-timedelta(days=3)))
    soon = put_photo(client, world, images.make_jpeg(seed=51), case_id=case.id, phase="after",
                     captured_at=now_iso(-timedelta(days=1)))
    details = flag(soon, "phase_timing")["details"]
    assert details["kind"] == "after_soon_after_before" and details["limit_days"] == 7
    assert details["days"] == pytest.approx(2, abs=0.1)
    other = factories.case(db.session, world.households[world.village_a2], status="in_progress")
    put_photo(client, world, images.make_jpeg(seed=52), case_id=other.id, phase="before",
              village=world.village_a2, captured_at=now_iso(-timedelta(days=90)))
    honest = put_photo(client, world, images.make_jpeg(seed=53), case_id=other.id,
                       phase="after", village=world.village_a2)
    assert "phase_timing" not in flag_codes(honest)


def test_phase_timing_holds_whichever_photo_arrives_first(client, world, db):
    # A phone's queue, or a second phone, may send the 改造后 photo before the 改造前 one.
    case = factories.case(db.session, world.households[world.village_a1], status="in_progress")
    after = put_photo(client, world, images.make_jpeg(seed=64), case_id=case.id, phase="after",
                      captured_at=now_iso(-timedelta(days=1))).get_json()
    assert "phase_timing" not in {f["code"] for f in after["flags"]}
    put_photo(client, world, images.make_jpeg(seed=65), case_id=case.id, phase="before",
              captured_at=now_iso(-timedelta(days=3)))
    again = client.get(f"/api/v1/photos/{after['id']}", headers=world.headers("inspector"))
    assert flag(again, "phase_timing")["details"]["days"] == pytest.approx(2, abs=0.1)
    # A later 改造前 photo taken long before changes nothing: the latest one counts.
    put_photo(client, world, images.make_jpeg(seed=66), case_id=case.id, phase="before",
              captured_at=now_iso(-timedelta(days=90)))
    again = client.get(f"/api/v1/photos/{after['id']}", headers=world.headers("inspector"))
    assert flag(again, "phase_timing")["details"]["days"] == pytest.approx(2, abs=0.1)


def test_a_late_before_photo_reopens_a_changed_finding_and_keeps_other_reviews(
        client, world, db):
    from sqlalchemy import select

    from backend.models import AuditEvent

    case = factories.case(db.session, world.households[world.village_a1], status="in_progress")
    case.started_on = china_today() - timedelta(days=5)
    db.session.commit()
    far = {"lat": HOUSE[0] + 0.01, "lon": HOUSE[1]}  # about 1.1 km from the house
    after = put_photo(client, world, images.make_jpeg(seed=69), case_id=case.id, phase="after",
                      captured_at=now_iso(-timedelta(hours=2)), **far).get_json()

    def review(code, decision, reason=None):
        r = client.post(f"/api/v1/photos/{after['id']}/flags/{code}/review",
                        json={"decision": decision, "reason": reason},
                        headers=world.headers("town_reviewer"))
        assert r.status_code == 200, r.get_json()

    review("phase_timing", "dismiss", "县里批准的简易加固，工期短")  # works_too_short
    review("far_from_house", "confirm")
    # A 改造前 photo an hour before the 改造后 one: another finding under the same code.
    put_photo(client, world, images.make_jpeg(seed=70), case_id=case.id, phase="before",
              captured_at=now_iso(-timedelta(hours=3)))
    flags = {f["code"]: f for f in client.get(
        f"/api/v1/photos/{after['id']}", headers=world.headers("inspector")).get_json()["flags"]}
    timing = flags["phase_timing"]
    assert timing["details"]["kind"] == "after_soon_after_before"
    assert (timing["status"], timing["reviewed_by"], timing["review_reason"]) == (
        "open", None, None)  # the dismissal was of the short works, not of this
    assert flags["far_from_house"]["status"] == "confirmed"  # not what the new photo changes
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "reopen_flag"))
    assert event.entity_id == after["id"]
    assert event.changes["reason"] == "县里批准的简易加固，工期短"
    assert event.changes["details"][0]["kind"] == "works_too_short"


def test_works_shorter_than_the_setting_are_phase_timing(client, world, db):
    case = factories.case(db.session, world.households[world.village_a1], status="in_progress")
    case.started_on = china_today() - timedelta(days=5)
    db.session.commit()
    r = put_photo(client, world, images.make_jpeg(seed=54), case_id=case.id, phase="after")
    details = flag(r, "phase_timing")["details"]
    assert (details["kind"], details["days"], details["limit_days"]) == ("works_too_short", 5, 20)
    case.started_on = china_today() - timedelta(days=60)
    db.session.commit()
    r = put_photo(client, world, images.make_jpeg(seed=55), case_id=case.id, phase="after")
    assert "phase_timing" not in flag_codes(r)


def test_after_photos_sent_before_the_start_of_works_is_recorded_are_rechecked_by_it(
        client, world, db):
    # The town enters 开工 from paper a week late, dated back: the 改造后 photo already sent
    # was checked with no start date, and is checked again against the one now recorded.
    case = factories.case(db.session, world.households[world.village_a1],
                          status="agreement_signed")
    after = put_photo(client, world, images.make_jpeg(seed=71), case_id=case.id, phase="after",
                      captured_at=now_iso(-timedelta(hours=2))).get_json()
    assert "phase_timing" not in {f["code"] for f in after["flags"]}
    started = china_today() - timedelta(days=6)
    r = client.post(f"/api/v1/cases/{case.id}/actions", headers=world.headers("town_reviewer"),
                    json={"action": "start", "effective_on": started.isoformat(),
                          "note": "据纸质开工记录补录"})
    assert r.status_code == 200, r.get_json()
    again = client.get(f"/api/v1/photos/{after['id']}", headers=world.headers("inspector"))
    details = flag(again, "phase_timing")["details"]
    assert (details["kind"], details["works_started_on"], details["days"]) == (
        "works_too_short", started.isoformat(), 6)


def test_a_county_sets_its_own_minimum_works_period_in_its_workflow_file(client, world, db):
    import json
    from pathlib import Path

    from backend.services.workflow.spec import WorkflowError, parse_workflow
    from backend.services.workflow.templates import load_workflows

    raw = json.loads((Path("backend/workflows/shanyin.json")).read_text(encoding="utf-8"))
    raw = {**raw, "version": raw["version"] + 1, "photos": {"min_works_days": 3}}
    load_workflows(db.session, [parse_workflow(raw)], [raw])
    case = factories.case(db.session, world.households[world.village_a1], status="in_progress")
    case.started_on = china_today() - timedelta(days=5)
    db.session.commit()
    # Five days is short of the server's 20, not of this county's 3.
    r = put_photo(client, world, images.make_jpeg(seed=67), case_id=case.id, phase="after")
    assert "phase_timing" not in flag_codes(r)
    case.started_on = china_today() - timedelta(days=2)
    db.session.commit()
    r = put_photo(client, world, images.make_jpeg(seed=68), case_id=case.id, phase="after")
    assert flag(r, "phase_timing")["details"]["limit_days"] == 3
    for bad in ({"min_works_days": -1}, {"min_works_days": "20"}, {"min_days": 20}, [20]):
        with pytest.raises(WorkflowError, match="min_works_days"):
            parse_workflow({**raw, "photos": bad})


# --- mock location -------------------------------------------------------------------------
def test_an_accuracy_of_exactly_zero_is_a_mock_location(client, world):
    r = put_photo(client, world, images.make_jpeg(seed=56), accuracy_m=0.0)
    assert flag(r, "mock_location")["details"]["kind"] == "zero_accuracy"
    assert "mock_location" not in flag_codes(
        put_photo(client, world, images.make_jpeg(seed=57), accuracy_m=4.5))


def test_the_very_same_fix_on_another_house_is_a_mock_location(client, world, db):
    fix = {"lat": 39.5201234, "lon": 112.8104567}
    first = put_photo(client, world, images.make_jpeg(seed=58), **fix).get_json()
    # The same house the same day (two photos of one visit, one fix) is honest.
    same_visit = put_photo(client, world, images.make_jpeg(seed=60), **fix)
    assert "mock_location" not in flag_codes(same_visit)
    r = put_photo(client, world, images.make_jpeg(seed=59), village=world.village_a2, **fix)
    details = flag(r, "mock_location")["details"]
    assert details["kind"] == "repeated_position" and details["photo_id"] == first["id"]
    assert (details["lat"], details["lon"]) == (fix["lat"], fix["lon"])
    # The photos already at that fix are marked too, each naming another house's photo there.
    for earlier in (first["id"], same_visit.get_json()["id"]):
        again = client.get(f"/api/v1/photos/{earlier}", headers=world.headers("inspector"))
        assert flag(again, "mock_location")["details"]["photo_id"] == r.get_json()["id"]
    # A metre away is another fix.
    near = put_photo(client, world, images.make_jpeg(seed=61), village=world.village_a2,
                     lat=39.5201301, lon=112.8104498)
    assert "mock_location" not in flag_codes(near)


def test_a_replayed_fix_at_zero_accuracy_still_marks_the_photos_already_there(client, world):
    fix = {"lat": 39.5207777, "lon": 112.8102222}
    first = put_photo(client, world, images.make_jpeg(seed=71), **fix).get_json()
    r = put_photo(client, world, images.make_jpeg(seed=72), village=world.village_a2,
                  accuracy_m=0.0, **fix)
    assert flag(r, "mock_location")["details"]["kind"] == "zero_accuracy"  # it names the 0
    again = client.get(f"/api/v1/photos/{first['id']}", headers=world.headers("inspector"))
    assert flag(again, "mock_location")["details"]["photo_id"] == r.get_json()["id"]


def test_the_very_same_fix_on_another_day_is_a_mock_location(client, world):
    fix = {"lat": 39.5209876, "lon": 112.8101111}
    put_photo(client, world, images.make_jpeg(seed=62), captured_at=now_iso(-timedelta(days=3)),
              **fix)
    r = put_photo(client, world, images.make_jpeg(seed=63), **fix)
    assert flag(r, "mock_location")["details"]["other_day"] is True


# --- presence ------------------------------------------------------------------------------
def test_an_on_site_visit_with_no_position_anywhere_is_flagged(client, world, db, templates):
    from tests.api.test_visits import put_visit, visit_body
    case = factories.case(db.session, world.households[world.village_a1],
                          status="agreement_signed")
    blind = visit_body(world, case)  # 施工巡查: on site by definition
    blind["position"] = None
    visit_id = str(uuid.uuid4())
    assert put_visit(client, world, blind, visit_id=visit_id).status_code in (200, 201)
    r = put_photo(client, world, images.make_jpeg(seed=64), case_id=case.id, phase="during",
                  visit_id=visit_id, lat=None, lon=None, accuracy_m=None)
    assert flag(r, "presence_unproven")["details"] == {"visit_kind": "construction"}
    located = put_photo(client, world, images.make_jpeg(seed=65), case_id=case.id,
                        phase="during", visit_id=visit_id)
    assert "presence_unproven" not in flag_codes(located)
    assert db.session.get(Photo, r.get_json()["id"]).sha256 == hashlib.sha256(
        images.make_jpeg(seed=64)).hexdigest()


@pytest.mark.parametrize("visit_position", [False, True], ids=["blind-visit", "located-visit"])
def test_presence_is_rechecked_when_the_visit_arrives_after_its_photos(
        client, world, db, templates, visit_position):
    from tests.api.test_visits import put_visit, visit_body
    case = factories.case(db.session, world.households[world.village_a1],
                          status="agreement_signed")
    visit_id = str(uuid.uuid4())
    r = put_photo(client, world, images.make_jpeg(seed=66), case_id=case.id, phase="during",
                  visit_id=visit_id, lat=None, lon=None, accuracy_m=None)
    assert "presence_unproven" not in flag_codes(r)  # the visit's kind is not known yet
    body = visit_body(world, case)
    if not visit_position:
        body["position"] = None
    assert put_visit(client, world, body, visit_id=visit_id).status_code == 201
    got = client.get(f"/api/v1/photos/{r.get_json()['id']}", headers=world.headers("inspector"))
    assert ("presence_unproven" in flag_codes(got)) is not visit_position
