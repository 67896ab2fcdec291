"""A 鉴定 visit: the appraisal form on the phone records the household's graded appraisal."""

import uuid
from datetime import datetime, timedelta

import pytest

from backend.models import Appraisal, AuditEvent, Case, Rectification, Visit
from backend.models.base import CHINA_TZ, china_date
from backend.services.cases import overdue
from backend.services.policy import Actor
from tests import factories, images
from tests.api.test_photos import put_photo
from tests.api.test_visits import put_visit, ts


@pytest.fixture
def world(db, templates):
    w = factories.world(db.session)
    w.users["inspector"].name = "岱岳镇 李工"
    db.session.commit()
    return w


def appraisal_body(household, *, grade="C", results=(), days_ago=1.0, case_id=None, **extra):
    body = {"household_id": household.id, "kind": "appraisal", "phase": "before",
            "template": {"code": "appraisal"}, "started_at": ts(days_ago + 0.05),
            "ended_at": ts(days_ago), "results": list(results), **extra}
    if grade is not None:
        body["appraisal_after"] = grade
    if case_id is not None:
        body["case_id"] = case_id
    return body


def photo(client, w, village, item, seed):
    r = put_photo(client, w, images.make_jpeg(seed=seed), village=village, phase="before",
                  node=item.split(".")[0], item=item)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def cracked_wall(client, w, village, seed=300):
    """Results of a house with a dangerous wall crack, photographed, and a safe site."""
    return [
        {"item": "siting.hazard", "result": "pass",
         "photos": [photo(client, w, village, "siting.hazard", seed)]},
        {"item": "base.settlement", "result": "pass"},
        {"item": "bearing_wall.cracks", "result": "fail", "note": "东山墙竖向裂缝宽3毫米",
         "photos": [photo(client, w, village, "bearing_wall.cracks", seed + 1)]},
        {"item": "frame.concrete", "result": "na"},
    ]


def test_appraisal_visit_records_the_households_appraisal(client, db, world):
    w = world
    household = w.households[w.village_a1]
    visit_id = str(uuid.uuid4())
    body = appraisal_body(household, results=cracked_wall(client, w, w.village_a1),
                          note="东山墙开裂，局部危险，建议修缮加固")
    r = put_visit(client, w, body, visit_id=visit_id)
    assert r.status_code == 201, r.get_json()
    got = r.get_json()
    assert got["kind_label"] == "鉴定" and got["appraisal_after"] == "C"
    assert got["missing_photos"] == []

    appraisal = db.session.query(Appraisal).one()
    visit = db.session.get(Visit, visit_id)
    assert appraisal.household_id == household.id and appraisal.grade == "C"
    assert appraisal.appraised_on == visit.started_at.astimezone(CHINA_TZ).date()
    assert appraisal.appraiser == "岱岳镇 李工"
    assert appraisal.created_by == w.users["inspector"].id
    assert appraisal.notes.startswith("东山墙开裂，局部危险，建议修缮加固")
    assert "不合格项：墙体裂缝：东山墙竖向裂缝宽3毫米" in appraisal.notes
    assert f"检查记录 {visit_id}" in appraisal.notes
    event = db.session.query(AuditEvent).filter_by(entity="appraisal").one()
    assert event.changes == {"household_id": household.id, "grade": "C", "visit_id": visit_id}
    # A danger point grades the house; it is not a builder's 15-day rectification.
    assert db.session.query(Rectification).count() == 0

    detail = client.get(f"/api/v1/households/{household.id}", headers=w.headers("inspector"))
    listed = detail.get_json()["appraisals"]
    assert [(a["id"], a["grade"], a["grade_label"]) for a in listed] == [
        (appraisal.id, "C", "C级（局部危险）")]
    assert listed[0]["appraised_on"] == appraisal.appraised_on.isoformat()
    assert listed[0]["appraiser"] == "岱岳镇 李工"


def test_replay_does_not_record_a_second_appraisal(client, db, world):
    w = world
    household = w.households[w.village_a1]
    visit_id = str(uuid.uuid4())
    body = appraisal_body(household, grade="A", results=[
        {"item": "base.footing", "result": "pass"}])
    assert put_visit(client, w, body, visit_id=visit_id).status_code == 201
    again = put_visit(client, w, dict(reversed(list(body.items()))), visit_id=visit_id)
    assert again.status_code == 200
    changed = put_visit(client, w, {**body, "appraisal_after": "D"}, visit_id=visit_id)
    assert changed.status_code == 409
    assert [a.grade for a in db.session.query(Appraisal)] == ["A"]
    assert db.session.query(AuditEvent).filter_by(entity="appraisal").count() == 1


def test_appraisal_without_a_grade_is_refused(client, db, world):
    w = world
    body = appraisal_body(w.households[w.village_a1], grade=None, results=[
        {"item": "base.footing", "result": "pass"}])
    r = put_visit(client, w, body)
    assert r.status_code == 422
    error = r.get_json()["error"]
    assert error["code"] == "visit_invalid" and error["message"]
    assert error["fields"] == {"appraisal_after": "请选择综合评定等级（按最严重的组成部分定级）"}
    bad = put_visit(client, w, {**body, "appraisal_after": "E"})
    assert bad.status_code == 422 and "appraisal_after" in bad.get_json()["error"]["fields"]
    assert db.session.query(Visit).count() == 0
    assert db.session.query(Appraisal).count() == 0


def test_a_danger_point_without_a_photo_is_refused(client, db, world):
    w = world
    body = appraisal_body(w.households[w.village_a1], grade="D", results=[
        {"item": "bearing_wall.tilt", "result": "fail", "note": "后墙外闪约5厘米"}])
    r = put_visit(client, w, body)
    assert r.status_code == 422
    fields = r.get_json()["error"]["fields"]
    assert list(fields) == ["results.bearing_wall.tilt"]
    assert "须至少拍摄1张照片" in fields["results.bearing_wall.tilt"]
    assert db.session.query(Visit).count() == 0
    assert db.session.query(Appraisal).count() == 0


@pytest.mark.parametrize(("kind", "template"), [
    ("construction", "appraisal"), ("appraisal", "rebuild"), ("appraisal", "completion")])
def test_the_appraisal_form_is_only_for_appraisal_visits(client, db, world, kind, template):
    w = world
    body = {**appraisal_body(w.households[w.village_a1], results=[
        {"item": "base.footing", "result": "pass"}] if template == "appraisal" else []),
        "kind": kind, "template": {"code": template}}
    r = put_visit(client, w, body)
    assert r.status_code == 422 and "kind" in r.get_json()["error"]["fields"]
    assert db.session.query(Appraisal).count() == 0


def test_appraisal_visit_on_a_household_with_a_case(client, db, world):
    w = world
    case = factories.case(db.session, w.households[w.village_a2], grade="D", status="planned")
    first = case.appraisal_id
    body = appraisal_body(w.households[w.village_a2], grade="C", case_id=case.id,
                          results=cracked_wall(client, w, w.village_a2, seed=400))
    r = put_visit(client, w, body, role="town_reviewer")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["case_id"] == case.id
    db.session.expire_all()
    new = db.session.query(Appraisal).filter(Appraisal.id != first).one()
    assert new.grade == "C" and new.created_by == w.users["town_reviewer"].id
    kept = db.session.get(Case, case.id)
    assert kept.status == "planned" and kept.appraisal_id == first  # the case keeps its basis
    other = factories.case(db.session, w.households[w.village_a1])
    r = put_visit(client, w, {**body, "case_id": other.id})
    assert r.status_code == 422 and "case_id" in r.get_json()["error"]["fields"]


@pytest.mark.parametrize("role", ["auditor", "village_cadre"])
def test_only_roles_with_the_appraisal_right_record_an_appraisal_visit(client, db, world, role):
    w = world
    body = appraisal_body(w.households[w.village_a1], results=[
        {"item": "base.footing", "result": "pass"}])
    r = put_visit(client, w, body, role=role)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"
    assert db.session.query(Appraisal).count() == 0 and db.session.query(Visit).count() == 0
    # The same village cadre still records the visits that are theirs to record.
    if role == "village_cadre":
        survey = {**body, "kind": "routine_survey", "template": {"code": "routine_survey"},
                  "outcome": "safe", "results": []}
        survey.pop("appraisal_after")
        assert put_visit(client, w, survey, role=role).status_code == 201


def suspected_danger(client, w, village, *, days_ago):
    pid = put_photo(client, w, images.make_jpeg(seed=500 + days_ago), village=village) \
        .get_json()["id"]
    r = put_visit(client, w, {
        "household_id": w.households[village].id, "kind": "routine_survey", "phase": "before",
        "template": {"code": "routine_survey"}, "started_at": ts(days_ago + 0.05),
        "ended_at": ts(days_ago), "outcome": "suspected_danger",
        "danger_points": ["wall.crack"], "photos": [pid]})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def hazard_items(db, w, today):
    items = overdue.overdue_items(db.session, Actor.of(w.users["town_reviewer"]),
                                  overdue.Deadlines(), today)
    return [i for i in items if i.kind == "hazard_appraise"]


def test_appraisal_visit_within_seven_days_closes_the_hazard_clock(client, db, world):
    w = world
    survey = suspected_danger(client, w, w.village_a1, days_ago=3)
    found_on = china_date(datetime.fromisoformat(survey["started_at"]))
    later = found_on + timedelta(days=10)  # past the 7-day appraisal deadline
    [late] = hazard_items(db, w, later)
    assert late.done_on is None and late.ref == survey["id"]

    r = put_visit(client, w, appraisal_body(
        w.households[w.village_a1], grade="D", days_ago=1,
        results=cracked_wall(client, w, w.village_a1, seed=600)))
    assert r.status_code == 201, r.get_json()
    assert hazard_items(db, w, later) == []


def test_a_late_appraisal_visit_is_shown_with_its_date(client, db, world):
    w = world
    survey = suspected_danger(client, w, w.village_a2, days_ago=12)
    r = put_visit(client, w, appraisal_body(
        w.households[w.village_a2], grade="B", days_ago=1,
        results=[{"item": "base.footing", "result": "pass"}]))
    assert r.status_code == 201, r.get_json()
    appraised_on = db.session.query(Appraisal).one().appraised_on
    [late] = hazard_items(db, w, appraised_on + timedelta(days=1))
    assert late.done_on == appraised_on and late.ref == survey["id"]
