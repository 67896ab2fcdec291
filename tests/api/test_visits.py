"""A whole rebuild case, 改造前 to acceptance, and the visit rules on the way."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from backend.models import Case, Photo, Rectification, Visit
from tests import factories, images
from tests.api.test_photos import put_photo


def ts(days_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()


def visit_body(w, case, *, kind="construction", phase="during", results=(), days_ago=1.0,
               template="rebuild", **extra):
    return {"household_id": case.household_id, "case_id": case.id, "kind": kind,
            "phase": phase, "template": {"code": template}, "started_at": ts(days_ago + 0.05),
            "ended_at": ts(days_ago), "position": {"lat": 39.5201, "lon": 112.81,
                                                   "accuracy_m": 6.0, "fix_at": ts(days_ago)},
            "results": list(results), **extra}


def put_visit(client, w, body, *, visit_id=None, role="inspector"):
    return client.put(f"/api/v1/visits/{visit_id or uuid.uuid4()}", json=body,
                      headers=w.headers(role))


def photo(client, w, case, item, node, phase="during", seed=None, visit_id=None):
    r = put_photo(client, w, images.make_jpeg(seed=seed if seed is not None else
                                              hash(item) % 10_000), case_id=case.id,
                  phase=phase, node=node, item=item, visit_id=visit_id)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


@pytest.fixture
def world(db, templates):
    w = factories.world(db.session)
    w.case = factories.case(db.session, w.households[w.village_a1], status="agreement_signed")
    return w


def test_full_rebuild_case_from_before_to_acceptance(client, db, world, count_queries):
    w, case = world, world.case
    # 改造前: site checks, photos taken before the visit is saved.
    p1 = photo(client, w, case, "site.safety", "site", phase="before", seed=1)
    p2 = photo(client, w, case, "site.area", "site", phase="before", seed=2)
    r = put_visit(client, w, visit_body(w, case, phase="before", days_ago=30, results=[
        {"item": "site.safety", "result": "pass", "photos": [p1]},
        {"item": "site.area", "result": "pass", "value": 64, "photos": [p2]}]))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["missing_photos"] == []
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "in_progress"  # first construction visit
    assert db.session.get(Case, case.id).started_on is not None

    # 改造中: foundation too shallow → 不合格 with photo and note → a rectification opens.
    visit2 = str(uuid.uuid4())
    shallow = photo(client, w, case, "foundation.depth", "foundation", seed=3)
    r = put_visit(client, w, visit_body(w, case, days_ago=20, results=[
        {"item": "foundation.depth", "result": "fail", "value": 380,
         "note": "基础埋深仅380毫米", "photos": [shallow]},
        {"item": "foundation.type", "result": "pass", "photos": []}]), visit_id=visit2)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["missing_photos"] == [{"node": "foundation", "item": "foundation.type"}]
    # The missing photo arrives after the visit: it is linked and no longer missing.
    photo(client, w, case, "foundation.type", "foundation", seed=4, visit_id=visit2)
    got = client.get(f"/api/v1/visits/{visit2}", headers=w.headers("inspector")).get_json()
    assert got["missing_photos"] == []
    rect = db.session.query(Rectification).one()
    assert rect.status == "open" and rect.item_code == "foundation.depth"
    assert rect.problem == "基础埋深仅380毫米" and "500" in rect.task

    # A later visit passes the same item with a photo → 销号.
    deep = photo(client, w, case, "foundation.depth", "foundation", seed=5)
    r = put_visit(client, w, visit_body(w, case, days_ago=15, results=[
        {"item": "foundation.depth", "result": "pass", "value": 620, "photos": [deep]}]))
    assert r.status_code == 201, r.get_json()
    db.session.expire_all()
    rect = db.session.query(Rectification).one()
    assert rect.status == "closed" and rect.closed_by == w.users["inspector"].id

    # 改造后: completion acceptance with the three parties' sign-off.
    after = [photo(client, w, case, item, node, phase="after", seed=10 + i) for i, (node, item)
             in enumerate([("basis", "basis.site"), ("structure", "structure.walls")])]
    signoffs = [{"role": role, "name": name, "signed_at": ts(1)} for role, name in
                (("town", "岱岳镇 李工"), ("household", "王建国"), ("builder", "赵师傅"))]
    acceptance = visit_body(w, case, kind="completion", phase="after", template="completion",
                            days_ago=1, signoffs=signoffs, appraisal_after="A", results=[
                                {"item": "basis.site", "result": "pass", "photos": [after[0]]},
                                {"item": "structure.walls", "result": "pass",
                                 "photos": [after[1]]}])
    without_builder = {**acceptance, "signoffs": signoffs[:2]}
    r = put_visit(client, w, without_builder)
    assert r.status_code == 422 and "signoffs" in r.get_json()["error"]["fields"]
    visit_id = str(uuid.uuid4())
    r = put_visit(client, w, acceptance, visit_id=visit_id)
    assert r.status_code == 201, r.get_json()
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "completed"
    r = client.post(f"/api/v1/visits/{visit_id}/review", json={"decision": "approve"},
                    headers=w.headers("town_reviewer"))
    assert r.status_code == 200 and r.get_json()["review_state"] == "approved"
    db.session.expire_all()
    # An approved completion visit is evidence for the acceptance action; it accepts nothing
    # by itself (test_workflow.py walks the two acceptances).
    done = db.session.get(Case, case.id)
    assert done.status == "completed" and done.accepted_on is None
    assert [(s.action, s.to_stage) for s in done.history] == [
        ("migrated", "agreement_signed"), ("start", "in_progress"), ("complete", "completed")]

    # The timeline: every phase, every visit, the closed rectification; constant queries.
    with count_queries() as queries:
        t = client.get(f"/api/v1/cases/{case.id}/timeline", headers=w.headers("town_reviewer"))
    assert t.status_code == 200
    body = t.get_json()
    assert [p["phase"] for p in body["phases"]] == ["before", "during", "after"]
    during = {n["node"]: len(n["photos"]) for n in body["phases"][1]["nodes"]}
    assert during == {"foundation": 3}
    assert len(body["visits"]) == 4 and body["missing_photos"] == []
    assert [r["status"] for r in body["rectifications"]] == ["closed"]
    assert len(queries) <= 12


def test_timeline_queries_do_not_grow_with_photos(client, db, world, count_queries):
    w, case = world, world.case
    headers = w.headers("town_reviewer")
    with count_queries() as few:
        client.get(f"/api/v1/cases/{case.id}/timeline", headers=headers)
    for i in range(6):
        pid = photo(client, w, case, "foundation.depth", "foundation", seed=100 + i)
        put_visit(client, w, visit_body(w, case, days_ago=10 - i, results=[
            {"item": "foundation.depth", "result": "pass", "value": 600, "photos": [pid]}]))
    with count_queries() as many:
        client.get(f"/api/v1/cases/{case.id}/timeline", headers=headers)
    assert len(many) <= len(few) + 3  # visits, results and flags appear once there is data


def test_replay_is_200_and_a_different_body_is_409(client, db, world):
    w, case = world, world.case
    body = visit_body(w, case, phase="before", results=[
        {"item": "site.safety", "result": "na"}])
    visit_id = str(uuid.uuid4())
    assert put_visit(client, w, body, visit_id=visit_id).status_code == 201
    again = put_visit(client, w, dict(reversed(list(body.items()))), visit_id=visit_id)
    assert again.status_code == 200
    changed = {**body, "note": "改了"}
    r = put_visit(client, w, changed, visit_id=visit_id)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "visit_conflict"
    assert db.session.query(Visit).count() == 1


@pytest.mark.parametrize("change,field", [
    ({"template": {"code": "nope"}}, "template"),
    ({"template": {"code": "rebuild", "version": 99}}, "template"),
    ({"results": [{"item": "no.such_item", "result": "pass"}]}, "results.no.such_item"),
    ({"results": [{"item": "foundation.depth", "result": "fail", "note": "浅"}]},
     "results.foundation.depth"),
    ({"results": [{"item": "foundation.depth", "result": "fail", "photos": [str(uuid.uuid4())]}]},
     "results.foundation.depth"),
    ({"results": [{"item": "foundation.depth", "result": "pass", "value": 300,
                   "photos": [str(uuid.uuid4())]}]}, "results.foundation.depth"),
    ({"started_at": ts(-1), "ended_at": ts(-1)}, "started_at"),
    ({"started_at": ts(1), "ended_at": ts(2)}, "ended_at"),
    ({"kind": "completion"}, "kind"),
    ({"result": "x"}, "result"),
])
def test_bad_visits_are_refused_and_nothing_is_stored(client, db, world, change, field):
    body = {**visit_body(world, world.case), **change}
    r = put_visit(client, world, body)
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["error"]["fields"]
    assert db.session.query(Visit).count() == 0
    assert db.session.query(Rectification).count() == 0
    db.session.expire_all()
    assert db.session.get(Case, world.case.id).status == "agreement_signed"


def test_visit_outside_area_is_404(client, db, world):
    other = factories.case(db.session, world.households[world.village_b1])
    r = put_visit(client, world, visit_body(world, other))
    assert r.status_code == 404


def test_returned_visits_come_first_for_the_inspector(client, db, world):
    w, case = world, world.case
    ids = []
    for days in (5, 3, 1):
        vid = str(uuid.uuid4())
        put_visit(client, w, visit_body(w, case, days_ago=days, results=[
            {"item": "foundation.type", "result": "na"}]), visit_id=vid)
        ids.append(vid)
    r = client.post(f"/api/v1/visits/{ids[0]}/review", json={"decision": "return"},
                    headers=w.headers("town_reviewer"))
    assert r.status_code == 422 and "comment" in r.get_json()["error"]["fields"]
    r = client.post(f"/api/v1/visits/{ids[0]}/review",
                    json={"decision": "return", "comment": "照片看不清基础埋深，请补拍"},
                    headers=w.headers("town_reviewer"))
    assert r.get_json()["review_state"] == "returned"
    mine = client.get("/api/v1/visits?mine=true", headers=w.headers("inspector")).get_json()
    assert [v["id"] for v in mine["items"]] == [ids[0], ids[2], ids[1]]
    assert mine["items"][0]["review_comment"].startswith("照片看不清")
    r = client.post(f"/api/v1/visits/{ids[1]}/review", json={"decision": "approve"},
                    headers=w.headers("inspector"))
    assert r.status_code == 403


def test_routine_survey_outcome_rules(client, db, world):
    w = world
    h = w.households[w.village_a2]
    base = {"household_id": h.id, "kind": "routine_survey", "phase": "before",
            "template": {"code": "routine_survey"}, "started_at": ts(0.1), "ended_at": ts(0.05)}
    r = put_visit(client, w, {**base, "outcome": "suspected_danger"})
    assert r.status_code == 422 and "outcome" in r.get_json()["error"]["fields"]
    pid = put_photo(client, w, images.make_jpeg(seed=77), village=w.village_a2).get_json()["id"]
    r = put_visit(client, w, {**base, "outcome": "suspected_danger",
                              "danger_points": ["wall.crack"], "photos": [pid]})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["outcome_label"] == "疑似危房"
    db.session.expire_all()
    assert db.session.get(Photo, pid).visit_id == r.get_json()["id"]


def test_checklists_are_listed_with_versions(client, world):
    r = client.get("/api/v1/checklists", headers=world.headers("inspector"))
    codes = {t["code"]: t for t in r.get_json()}
    assert set(codes) == {"rebuild", "repair", "completion", "routine_survey", "appraisal"}
    rebuild = client.get("/api/v1/checklists/rebuild", headers=world.headers("inspector"))
    items = [i for n in rebuild.get_json()["nodes"] for i in n["items"]]
    assert len(items) == 27 and rebuild.get_json()["version"] == 1
    assert client.get("/api/v1/checklists/nope", headers=world.headers("inspector")) \
        .status_code == 422


def test_failed_item_rectification_details_and_overdue_list(client, db, world):
    w, case = world, world.case
    pid = photo(client, w, case, "foundation.depth", "foundation", seed=200)
    r = put_visit(client, w, visit_body(w, case, days_ago=40, results=[
        {"item": "foundation.depth", "result": "fail", "value": 300, "note": "埋深不足",
         "photos": [pid], "rectification": {"responsible": "赵师傅（施工队）",
                                             "measure": "加深基槽至500毫米以下重新砌筑"}}]))
    assert r.status_code == 201, r.get_json()
    listed = client.get("/api/v1/rectifications?status=open",
                        headers=w.headers("inspector")).get_json()["items"]
    assert len(listed) == 1
    rect = listed[0]
    assert rect["responsible"] == "赵师傅（施工队）" and rect["measure"].startswith("加深")
    assert rect["problem"] == "埋深不足" and rect["overdue"] is True  # 15 days, 40 days ago
    overdue = client.get("/api/v1/rectifications?overdue=true",
                         headers=w.headers("town_reviewer")).get_json()["items"]
    assert [x["id"] for x in overdue] == [rect["id"]]
    outsider = factories.user(db.session, "town_reviewer", [w.town_b], username="yujing_rev")
    headers = {"Authorization": f"Bearer {factories.token_for(db.session, outsider)}"}
    assert client.get("/api/v1/rectifications", headers=headers).get_json()["items"] == []


def test_old_visits_keep_their_template_version(client, db, world):
    from backend.services.checklists.parser import load_template_file, parse_template
    from backend.services.checklists.templates import load_templates

    w, case = world, world.case
    visit_id = str(uuid.uuid4())
    put_visit(client, w, visit_body(w, case, results=[
        {"item": "foundation.type", "result": "na"}]), visit_id=visit_id)
    data = load_template_file("backend/checklists/rebuild.json").to_dict()
    data["version"] = 2
    data["name"] = "农村危房改造施工节点检查（2027版）"
    data["nodes"] = [n for n in data["nodes"] if n["code"] != "foundation"]
    load_templates(db.session, [parse_template(data)])
    latest = client.get("/api/v1/checklists/rebuild", headers=w.headers("inspector")).get_json()
    assert latest["version"] == 2
    old = client.get(f"/api/v1/visits/{visit_id}", headers=w.headers("inspector")).get_json()
    assert old["template"]["version"] == 1 and old["results"][0]["item"] == "foundation.type"
    timeline = client.get(f"/api/v1/cases/{case.id}/timeline",
                          headers=w.headers("inspector"))
    assert timeline.status_code == 200
    # A new visit on v2 cannot use the item v2 dropped.
    r = put_visit(client, w, visit_body(w, case, results=[
        {"item": "foundation.type", "result": "na"}]))
    assert r.status_code == 422


@pytest.mark.parametrize("bodies", ["same", "different"])
def test_concurrent_puts_of_one_visit_uuid_never_give_500(app, db, world, bodies):
    """Real threads race one UUID: replays answer 200 (or 201 once), other bodies 409."""
    from concurrent.futures import ThreadPoolExecutor

    w, visit_id = world, str(uuid.uuid4())
    base = visit_body(w, w.case)
    token = w.tokens["inspector"]

    def put(i):
        body = base if bodies == "same" or i == 0 else {**base, "note": f"第{i}次"}
        return app.test_client().put(f"/api/v1/visits/{visit_id}", json=body, buffered=True,
                                     headers={"Authorization": f"Bearer {token}"}).status_code

    with ThreadPoolExecutor(6) as pool:
        codes = sorted(pool.map(put, range(6)))
    assert 500 not in codes and codes.count(201) == 1, codes
    if bodies == "same":
        assert codes == [200] * 5 + [201]
    else:
        assert set(codes) <= {200, 201, 409}
    db.session.expire_all()
    assert db.session.query(Visit).count() == 1
