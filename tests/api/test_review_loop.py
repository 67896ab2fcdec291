"""The loop between inspector and reviewer (issue 17): a resubmission answers a returned visit
and resolves it once approved; what a case is missing is counted over all its visits; photo
numbers are given once; photos of a discarded draft are named in Chinese."""

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from backend.models import Photo, Visit
from tests import factories, images
from tests.api.test_photos import multipart, put_photo
from tests.api.test_visits import photo, put_visit, visit_body


@pytest.fixture
def world(db, templates):
    w = factories.world(db.session)
    w.case = factories.case(db.session, w.households[w.village_a1], status="agreement_signed")
    return w


def review(client, w, visit_id, decision, comment=None):
    return client.post(f"/api/v1/visits/{visit_id}/review", headers=w.headers("town_reviewer"),
                       json={"decision": decision, "comment": comment})


def first_visit_without_its_photo(client, w, case) -> str:
    """A 改造中 visit that passed 基础形式 but sent no photo of it: 缺少照片 1 处."""
    visit_id = str(uuid.uuid4())
    r = put_visit(client, w, visit_body(w, case, days_ago=3, results=[
        {"item": "foundation.type", "result": "pass", "photos": []}]), visit_id=visit_id)
    assert r.status_code == 201, r.get_json()
    return visit_id


def timeline_gaps(client, w, case, role="inspector"):
    body = client.get(f"/api/v1/cases/{case.id}/timeline", headers=w.headers(role)).get_json()
    return [(g["phase"], g["item"], g["label"]) for g in body["missing_photos"]]


def test_return_correct_approve_resolves_the_return_and_the_missing_photo(client, db, world):
    w, case = world, world.case
    first = first_visit_without_its_photo(client, w, case)
    assert timeline_gaps(client, w, case) == [("during", "foundation.type", "基础形式与材料")]
    assert review(client, w, first, "return", "缺基础形式照片，请补拍").status_code == 200
    mine = client.get("/api/v1/visits?mine=true", headers=w.headers("inspector")).get_json()
    assert [(v["id"], v["return_open"]) for v in mine["items"]][0] == (first, True)
    # Still missing while the return is open.
    assert timeline_gaps(client, w, case) == [("during", "foundation.type", "基础形式与材料")]

    answer = str(uuid.uuid4())
    shot = photo(client, w, case, "foundation.type", "foundation", seed=41, visit_id=answer)
    r = put_visit(client, w, visit_body(w, case, days_ago=1, results=[
        {"item": "foundation.type", "result": "pass", "photos": [shot]}],
        answers_visit_id=first), visit_id=answer)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["answers_visit_id"] == first
    # The resubmission supplied the photo: nothing is missing, on the API and for acceptance.
    assert timeline_gaps(client, w, case) == []
    got = client.get(f"/api/v1/visits/{first}", headers=w.headers("inspector")).get_json()
    assert got["return_open"] is True and got["resolved_by_visit_id"] is None

    assert review(client, w, answer, "approve").status_code == 200
    got = client.get(f"/api/v1/visits/{first}", headers=w.headers("inspector")).get_json()
    assert got["review_state"] == "returned"  # its history is kept
    assert got["resolved_by_visit_id"] == answer and got["resolved_at"] is not None
    assert got["return_open"] is False
    mine = client.get("/api/v1/visits?mine=true", headers=w.headers("inspector")).get_json()
    assert not any(v["return_open"] for v in mine["items"])


def test_a_returned_answer_leaves_the_original_return_open(client, db, world):
    w, case = world, world.case
    first = first_visit_without_its_photo(client, w, case)
    review(client, w, first, "return", "补拍")
    answer = str(uuid.uuid4())
    r = put_visit(client, w, visit_body(w, case, days_ago=1, results=[
        {"item": "foundation.type", "result": "pass", "photos": []}],
        answers_visit_id=first), visit_id=answer)
    assert r.status_code == 201
    assert review(client, w, answer, "return", "仍未补拍").status_code == 200
    got = client.get(f"/api/v1/visits/{first}", headers=w.headers("inspector")).get_json()
    assert got["return_open"] is True and got["resolved_by_visit_id"] is None


@pytest.mark.parametrize("target", ["unknown", "not_returned", "other_household"])
def test_an_answer_must_name_a_returned_visit_of_the_same_household(client, db, world, target):
    w, case = world, world.case
    first = first_visit_without_its_photo(client, w, case)
    body = visit_body(w, case, results=[{"item": "foundation.type", "result": "na"}])
    answers = first
    if target == "unknown":
        answers = str(uuid.uuid4())
    elif target == "other_household":
        review(client, w, first, "return", "补拍")
        neighbour = w.households[w.village_a2]  # 西坪村, also in the inspector's town
        body = {**body, "household_id": neighbour.id, "case_id": None, "kind": "routine_survey",
                "phase": "before", "template": {"code": "routine_survey"}, "results": [],
                "outcome": "safe"}
    before = db.session.query(Visit).count()
    r = put_visit(client, w, {**body, "answers_visit_id": answers})
    assert r.status_code == 422, r.get_json()
    assert r.get_json()["error"]["code"] == "invalid_answer"
    assert db.session.query(Visit).count() == before


def test_photo_numbers_are_given_once_and_never_shared_under_concurrency(app, db, world):
    w = world
    household_id = str(w.households[w.village_a1].id)
    token = w.tokens["inspector"]

    def upload(i):
        data = images.make_jpeg(320, 240, seed=100 + i)
        return app.test_client().put(
            f"/api/v1/photos/{uuid.uuid4()}", headers={"Authorization": f"Bearer {token}"},
            buffered=True, **multipart({"household_id": household_id, "phase": "before"}, data))

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(upload, range(8)))
    assert [r.status_code for r in answers] == [201] * 8
    numbers = sorted(r.get_json()["number"] for r in answers)
    assert numbers == list(range(1, 9))
    # A replay keeps its number; the next photo takes max + 1.
    db.session.expire_all()
    stored = {p.id: p.number for p in db.session.query(Photo)}
    assert {r.get_json()["id"]: r.get_json()["number"] for r in answers} == stored


def test_a_photo_whose_visit_never_came_is_named_in_chinese(client, db, world):
    w, case = world, world.case
    r = put_photo(client, w, images.make_jpeg(seed=51), case_id=case.id, phase="before",
                  node="site", item="site.safety", visit_id=str(uuid.uuid4()))
    assert r.status_code == 201
    body = r.get_json()
    assert body["filed"] is False and body["filed_label"] == "未归入检查记录"
    assert (body["node_label"], body["item_label"]) == ("选址放线", "场地安全")
    assert body["number"] == 1
