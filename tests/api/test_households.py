from backend.models import AuditEvent, Household
from tests import factories


def new_household(w, **over):
    body = {"village_code": w.village_a1, "name": "李秀英", "id_number": factories.id_number(),
            "category": "dibao", "family_size": 3, "structure_type": "土木", "phone": "13800001111"}
    return {**body, **over}


def test_create_and_read_household(client, db):
    w = factories.world(db.session)
    body = new_household(w)
    r = client.post("/api/v1/households", json=body, headers=w.headers("town_reviewer"))
    assert r.status_code == 201, r.get_json()
    created = r.get_json()
    assert created["id_number"] == body["id_number"]  # reviewers hold the PII right
    assert created["category_label"] == "低保户"
    assert created["village_name"] == "东坪村" and created["town_name"] == "岱岳镇"
    r = client.get(f"/api/v1/households/{created['id']}", headers=w.headers("inspector"))
    shown = r.get_json()
    assert shown["id_number"] == body["id_number"][:4] + "*" * 10 + body["id_number"][-4:]
    assert shown["phone"] == "138****1111"
    audit = db.session.query(AuditEvent).filter_by(entity="household", action="create").one()
    assert body["id_number"] not in str(audit.changes)


def test_bad_check_digit_is_422_naming_the_field(client, db):
    w = factories.world(db.session)
    r = client.post("/api/v1/households", json=new_household(w, id_number="110105194912310021"),
                    headers=w.headers("town_reviewer"))
    assert r.status_code == 422
    error = r.get_json()["error"]
    assert error["code"] == "invalid_input"
    assert "校验位" in error["fields"]["id_number"]
    assert db.session.query(Household).count() == 4


def test_unknown_or_foreign_village_is_refused(client, db):
    w = factories.world(db.session)
    for code in ("140621999201", w.village_b1):
        r = client.post("/api/v1/households", json=new_household(w, village_code=code),
                        headers=w.headers("town_reviewer"))
        assert r.status_code == 422
        assert "village_code" in r.get_json()["error"]["fields"]


def test_duplicate_id_number_is_409(client, db):
    w = factories.world(db.session)
    existing = w.households[w.village_a1].id_number
    r = client.post("/api/v1/households", json=new_household(w, id_number=existing),
                    headers=w.headers("town_reviewer"))
    assert r.status_code == 409
    assert r.get_json()["error"]["code"] == "duplicate_household"


def test_inspector_cannot_create_households(client, db):
    w = factories.world(db.session)
    r = client.post("/api/v1/households", json=new_household(w), headers=w.headers("inspector"))
    assert r.status_code == 403


def test_patch_changes_fields_and_is_audited(client, db):
    w = factories.world(db.session)
    h = w.households[w.village_a1]
    r = client.patch(f"/api/v1/households/{h.id}", json={"family_size": 5, "storeys": 2},
                     headers=w.headers("village_cadre"))
    assert r.status_code == 200
    assert r.get_json()["family_size"] == 5
    event = db.session.query(AuditEvent).filter_by(entity="household", action="update").one()
    assert event.changes["family_size"][1] == 5
    assert event.user_id == w.users["village_cadre"].id


def test_patch_with_bad_value_changes_nothing(client, db):
    w = factories.world(db.session)
    h = w.households[w.village_a1]
    r = client.patch(f"/api/v1/households/{h.id}", json={"family_size": 4, "id_number": "123"},
                     headers=w.headers("town_reviewer"))
    assert r.status_code == 422
    db.session.expire_all()
    assert db.session.get(Household, h.id).family_size == 3  # as the factory made it


def test_set_location_records_source_and_user(client, db):
    w = factories.world(db.session)
    h = w.households[w.village_a2]
    r = client.put(f"/api/v1/households/{h.id}/location", json={"lat": 39.5, "lon": 112.8},
                   headers=w.headers("inspector"))
    assert r.status_code == 200
    loc = r.get_json()["location"]
    assert loc["lat"] == 39.5 and loc["source"] == "inspector" and loc["crs"] == "WGS-84"


def test_list_is_scoped_and_searchable(client, db):
    w = factories.world(db.session)
    factories.household(db.session, w.village_a1, name="赵四海")
    r = client.get("/api/v1/households", headers=w.headers("inspector"))
    names = {h["village_code"] for h in r.get_json()["items"]}
    assert names == {w.village_a1, w.village_a2}
    r = client.get("/api/v1/households?q=赵四", headers=w.headers("inspector"))
    assert [h["name"] for h in r.get_json()["items"]] == ["赵四海"]
    tail = w.households[w.village_a2].id_number[-4:]
    r = client.get(f"/api/v1/households?q={tail}", headers=w.headers("inspector"))
    assert w.households[w.village_a2].id in [h["id"] for h in r.get_json()["items"]]
    r = client.get(f"/api/v1/households?region={w.village_a2}", headers=w.headers("inspector"))
    assert {h["village_code"] for h in r.get_json()["items"]} == {w.village_a2}


def test_cursor_pagination_walks_every_row_once(client, db):
    w = factories.world(db.session)
    for i in range(23):
        factories.household(db.session, w.village_a1, name=f"张{i:02d}")
    seen, cursor = [], None
    while True:
        url = "/api/v1/households?limit=5" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url, headers=w.headers("county_admin")).get_json()
        seen += [h["id"] for h in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 27


def test_tampered_cursor_is_refused(client, db):
    w = factories.world(db.session)
    for i in range(3):
        factories.household(db.session, w.village_a1, name=f"张{i}")
    cursor = client.get("/api/v1/households?limit=2",
                        headers=w.headers("county_admin")).get_json()["next_cursor"]
    body, sig = cursor.rsplit(".", 1)
    tampered = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + sig
    for bad in (tampered, "garbage", cursor + "x"):
        r = client.get(f"/api/v1/households?cursor={bad}", headers=w.headers("county_admin"))
        assert r.status_code == 422
        assert r.get_json()["error"]["code"] == "invalid_cursor"


def test_list_costs_a_constant_number_of_queries(client, db, count_queries):
    w = factories.world(db.session)
    for i in range(40):
        factories.case(db.session, factories.household(db.session, w.village_a1, name=f"陈{i}"))
    headers = w.headers("county_admin")
    with count_queries() as small:
        client.get("/api/v1/households?limit=5", headers=headers)
    with count_queries() as large:
        client.get("/api/v1/households?limit=40", headers=headers)
    assert len(small) == len(large)


def test_appraisal_is_recorded_by_reviewer(client, db):
    w = factories.world(db.session)
    h = w.households[w.village_a1]
    body = {"grade": "D", "appraised_on": "2026-05-01", "appraiser": "县鉴定站"}
    r = client.post(f"/api/v1/households/{h.id}/appraisals", json=body,
                    headers=w.headers("town_reviewer"))
    assert r.status_code == 201
    assert r.get_json()["grade_label"].startswith("D级")
    r = client.post(f"/api/v1/households/{h.id}/appraisals", json={**body, "grade": "E"},
                    headers=w.headers("town_reviewer"))
    assert r.status_code == 422


def test_list_shows_the_phase_of_each_current_case(client, db):
    w = factories.world(db.session)
    homes = {status: factories.household(db.session, w.village_a1, name=f"户{i}")
             for i, status in enumerate(("planned", "in_progress", "accepted"))}
    for status, h in homes.items():
        factories.case(db.session, h, status=status)
    listed = client.get(f"/api/v1/households?region={w.village_a1}&limit=100",
                        headers=w.headers("inspector")).get_json()["items"]
    shown = {h["id"]: h["current_case"] for h in listed if h["current_case"]}
    assert [(shown[h.id]["phase"], shown[h.id]["phase_label"]) for h in homes.values()] == [
        ("before", "改造前"), ("during", "改造中"), ("after", "改造后")]
