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


def test_a_case_begins_at_the_application_stage(client, db):
    """The appraisal is checked when the case is approved (tests/api/test_workflow.py), so an
    application is registered before it, with the household's latest appraisal linked."""
    w = factories.world(db.session)
    h = w.households[w.village_a1]
    appraise(db, h, "D")
    r = open_case(client, w, h, role="village_cadre", application={
        "applicant": "王建国", "reason": "房屋墙体开裂", "members": [
            {"name": "王小明", "id_number": factories.id_number(), "relation": "子"}]})
    assert r.status_code == 201, r.get_json()
    case = r.get_json()
    assert case["status"] == "application" and case["appraisal"]["grade"] == "D"
    assert [(s["action"], s["to_stage"]) for s in case["history"]] == [("open", "application")]
    assert case["application"]["members"][0]["relation"] == "子"
    assert case["due_on"] is not None


def test_application_members_need_valid_id_numbers(client, db):
    w = factories.world(db.session)
    good = factories.id_number()
    bad = good[:17] + ("0" if good[17] != "0" else "1")  # a wrong check digit
    r = open_case(client, w, w.households[w.village_a1], application={
        "members": [{"name": "王小明", "id_number": bad, "relation": "子"}]})
    assert r.status_code == 422 and "application" in r.get_json()["error"]["fields"]
    assert db.session.query(Case).count() == 0


def test_one_case_per_household_and_year(client, db):
    w = factories.world(db.session)
    h = w.households[w.village_a1]
    appraise(db, h, "C")
    assert open_case(client, w, h, method="修缮加固").status_code == 201
    assert open_case(client, w, h, method="修缮加固").status_code == 422


def test_status_is_never_written_directly(client, db):
    w = factories.world(db.session)
    c = factories.case(db.session, w.households[w.village_a1])
    for body in ({"status": "in_progress"}, {"status": "paid", "notes": "x"},
                 {"status_effective_on": "2026-04-02"}):
        r = client.patch(f"/api/v1/cases/{c.id}", json=body, headers=w.headers("county_admin"))
        assert r.status_code == 422, body
        assert "POST /api/v1/cases/{id}/actions" in str(r.get_json()["error"]["fields"])
    db.session.expire_all()
    assert db.session.get(Case, c.id).status == "planned"
    r = client.patch(f"/api/v1/cases/{c.id}", json={"notes": "已核实"},
                     headers=w.headers("county_admin"))
    assert r.status_code == 200 and r.get_json()["status"] == "planned"


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


def test_list_parameters_out_of_range_are_refused_not_crashed(client, db):
    w = factories.world(db.session)
    factories.case(db.session, w.households[w.village_a1])
    for query in ("limit=-30", "limit=0", "limit=501", "year=43076105015834",
                  f"household_id={2**40}"):
        r = client.get(f"/api/v1/cases?{query}", headers=w.headers("county_admin"))
        assert r.status_code == 422, query


def test_a_case_cannot_move_to_a_year_the_household_already_has(client, db):
    w = factories.world(db.session)
    h = w.households[w.village_a1]
    factories.case(db.session, h, year=2025)
    later = factories.case(db.session, h, year=2026)
    r = client.patch(f"/api/v1/cases/{later.id}", json={"year": 2025},
                     headers=w.headers("county_admin"))
    assert r.status_code == 422 and "year" in r.get_json()["error"]["fields"]
    db.session.expire_all()
    assert db.session.get(Case, later.id).year == 2026
