from backend.models import Appraisal, Case
from tests import factories


def appraise(db, h, grade):
    from datetime import date

    db.session.add(Appraisal(household_id=h.id, grade=grade, appraised_on=date(2026, 2, 1),
                             appraiser="鉴定站"))
    db.session.commit()
    db.session.expire(h)


def open_case(client, w, h, role="town_reviewer", **over):
    body = {"year": 2026, "method": "拆除重建", "build_mode": "自建", **over}
    return client.post(f"/api/v1/households/{h.id}/cases", json=body, headers=w.headers(role))


def test_case_needs_c_or_d_appraisal(client, db):
    w = factories.world(db.session)
    h = w.households[w.village_a1]
    r = open_case(client, w, h)
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "not_eligible"
    appraise(db, h, "B")
    assert open_case(client, w, h).status_code == 422
    appraise(db, h, "D")
    r = open_case(client, w, h)
    assert r.status_code == 201, r.get_json()
    case = r.get_json()
    assert case["status"] == "planned" and case["appraisal"]["grade"] == "D"
    assert [s["status"] for s in case["history"]] == ["planned"]


def test_swap_housing_needs_no_appraisal(client, db):
    w = factories.world(db.session)
    r = open_case(client, w, w.households[w.village_a1], method="置换")
    assert r.status_code == 201


def test_one_case_per_household_and_year(client, db):
    w = factories.world(db.session)
    h = w.households[w.village_a1]
    appraise(db, h, "C")
    assert open_case(client, w, h, method="修缮加固").status_code == 201
    assert open_case(client, w, h, method="修缮加固").status_code == 422


def test_status_moves_along_the_workflow_with_dates(client, db):
    w = factories.world(db.session)
    c = factories.case(db.session, w.households[w.village_a1])
    headers = w.headers("town_reviewer")
    r = client.patch(f"/api/v1/cases/{c.id}",
                     json={"status": "in_progress", "status_effective_on": "2026-04-02"},
                     headers=headers)
    assert r.status_code == 200
    body = r.get_json()
    assert body["status"] == "in_progress" and body["started_on"] == "2026-04-02"
    assert [s["status"] for s in body["history"]] == ["planned", "in_progress"]
    r = client.patch(f"/api/v1/cases/{c.id}", json={"status": "paid"}, headers=headers)
    assert r.status_code == 409
    assert r.get_json()["error"]["code"] == "invalid_status_transition"
    db.session.expire_all()
    assert db.session.get(Case, c.id).status == "in_progress"


def test_case_list_filters(client, db):
    w = factories.world(db.session)
    factories.case(db.session, w.households[w.village_a1], status="in_progress")
    factories.case(db.session, w.households[w.village_b1], method="修缮加固", grade="C")
    headers = w.headers("county_admin")
    all_cases = client.get("/api/v1/cases", headers=headers).get_json()["items"]
    assert len(all_cases) == 2
    r = client.get("/api/v1/cases?status=in_progress", headers=headers).get_json()["items"]
    assert [c["household_id"] for c in r] == [w.households[w.village_a1].id]
    r = client.get(f"/api/v1/cases?region={w.town_b}", headers=headers).get_json()["items"]
    assert [c["method"] for c in r] == ["修缮加固"]
    r = client.get("/api/v1/cases", headers=w.headers("town_reviewer")).get_json()["items"]
    assert len(r) == 1
    r = client.get("/api/v1/cases?status=nonsense", headers=headers)
    assert r.status_code == 422 and "status" in r.get_json()["error"]["fields"]


def test_household_cases_listed(client, db):
    w = factories.world(db.session)
    h = w.households[w.village_a1]
    factories.case(db.session, h)
    r = client.get(f"/api/v1/households/{h.id}/cases", headers=w.headers("inspector"))
    assert r.status_code == 200 and len(r.get_json()) == 1
