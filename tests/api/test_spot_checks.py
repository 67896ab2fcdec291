"""/api/v1/spot-checks: draw, read with the seed, verify, one draw per purpose (409), the
bounds of every number, the sample's spreadsheet read back."""

import io
import re

import pytest
from openpyxl import load_workbook

from backend.models import AuditEvent, Case, RoundHousehold
from backend.services.spot_checks import sampling
from tests import factories


@pytest.fixture
def world(db):
    """岱岳镇: 6 households with an approved case of 2026 (东坪村 2, 西坪村 4); 玉井镇: 2."""
    w = factories.world(db.session)
    for code in (w.village_a1, w.village_a2, w.village_b1, w.village_b2):
        factories.case(db.session, w.households[code], status="in_progress")
    for code, name in ((w.village_a1, "孙一"), (w.village_a2, "孙二"), (w.village_a2, "孙三"),
                       (w.village_a2, "孙四")):
        factories.case(db.session, factories.household(db.session, code, name=name),
                       status="accepted")
    return w


def draw(client, w, role="county_admin", **over):
    body = {"area_code": w.county, "year": 2026, "count": 4, "purpose": "2026年国家抽查复核",
            **over}
    return client.post("/api/v1/spot-checks", json=body, headers=w.headers(role))


def test_a_draw_is_stratified_and_opens_its_round(client, db, world):
    r = draw(client, world)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert re.fullmatch(r"[0-9a-f]{16}", body["seed"]) and len(body["population_sha256"]) == 64
    assert (body["size"], body["population_size"], body["requested_count"]) == (4, 8, 4)
    # One each; the other two by 5:1 → 1.67 and .33: 岱岳镇 3, 玉井镇 1.
    assert [(t["town_name"], t["population"], t["drawn"]) for t in body["towns"]] == [
        ("岱岳镇", 6, 3), ("玉井镇", 2, 1)]
    towns = [row["village_code"][:9] for row in body["sample"]]
    assert towns.count(world.town_a[:9]) == 3 and towns.count(world.town_b[:9]) == 1
    assert [row["number"] for row in body["sample"]] == [1, 2, 3, 4]
    assert all(row["case_status"] in ("施工中", "已验收") for row in body["sample"])
    ids = [row["household_id"] for row in body["sample"]]
    members = db.session.query(RoundHousehold.household_id).filter_by(
        round_id=body["round_id"]).all()
    assert sorted(ids) == sorted(h for (h,) in members)
    rnd = client.get(f"/api/v1/rounds/{body['round_id']}",
                     headers=world.headers("town_reviewer")).get_json()
    assert rnd["kind"] == "spot_check" and rnd["kind_label"] == "随机抽查"
    assert db.session.query(AuditEvent).filter_by(entity="spot_check", action="draw").count() == 1


def test_the_stored_seed_reproduces_the_sample(client, world):
    created = draw(client, world, count=None, percent="50").get_json()
    read = client.get(f"/api/v1/spot-checks/{created['id']}",
                      headers=world.headers("auditor")).get_json()
    assert read["seed"] == created["seed"] and read["requested_percent"] == "50.00"
    ids = [row["household_id"] for row in read["sample"]]
    population = read["population"]
    assert sampling.fingerprint(population) == read["population_sha256"]
    shares, again = sampling.draw(population, read["size"], read["seed"])
    assert again == ids and shares == {t["town_code"]: t["drawn"] for t in read["towns"]}
    r = client.get(f"/api/v1/spot-checks/{created['id']}/verify",
                   headers=world.headers("auditor"))
    assert r.status_code == 200
    assert r.get_json() | {"population_sha256": None} == {
        "spot_check_id": created["id"], "reproduced": True, "matches": True,
        "population_unchanged": True, "population_size": 8, "population_sha256": None,
        "sample": ids, "added": [], "removed": []}


def test_a_second_draw_for_the_same_purpose_is_refused(client, world):
    first = draw(client, world).get_json()
    r = draw(client, world, count=6, purpose=" 2026年国家抽查复核")
    assert r.status_code == 409, r.get_json()
    assert r.get_json()["error"]["code"] == "spot_check_drawn"
    listed = client.get("/api/v1/spot-checks", headers=world.headers("county_admin")).get_json()
    assert [d["id"] for d in listed] == [first["id"]]
    assert draw(client, world, purpose="2026年省级抽查复核").status_code == 201
    assert draw(client, world, area_code=world.town_a).status_code == 201  # another area
    assert draw(client, world, year=2025).status_code == 422  # no approved case that year
    listed = client.get(f"/api/v1/spot-checks?area={world.town_a}",
                        headers=world.headers("auditor")).get_json()
    assert [d["area_code"] for d in listed] == [world.town_a]


def test_verify_detects_a_changed_population(client, db, world):
    created = draw(client, world, count=2).get_json()
    dropped = created["sample"][0]["household_id"]
    case = db.session.query(Case).filter_by(household_id=dropped, year=2026).one()
    case.status = "cancelled"
    db.session.commit()
    result = client.get(f"/api/v1/spot-checks/{created['id']}/verify",
                        headers=world.headers("county_admin")).get_json()
    assert result["reproduced"] and not result["matches"]
    assert not result["population_unchanged"] and result["removed"] == [dropped]
    assert result["population_size"] == 7 and dropped not in result["sample"]


@pytest.mark.parametrize("over", [
    {"count": 0}, {"count": 10_001}, {"count": 2.5}, {"count": "3"}, {"count": None},
    {"count": None, "percent": "0"}, {"count": None, "percent": "100.01"},
    {"count": None, "percent": "12.345"}, {"count": None, "percent": "NaN"},
    {"percent": "10"}, {"year": 1999}, {"year": 2101}, {"year": 10**12},
    {"purpose": ""}, {"purpose": "抽" * 101}, {"purpose": "抽\x00查"},
    {"area_code": "14062"}, {"due_on": "1999-12-31"}, {"seed": "0123456789abcdef"},
])
def test_every_bound_is_refused(client, world, over):
    r = draw(client, world, **over)
    assert r.status_code == 422, (over, r.get_json())
    assert client.get("/api/v1/spot-checks", headers=world.headers("county_admin")).get_json() \
        == []


def test_out_of_range_ids_are_not_found(client, world):
    for url in ("/api/v1/spot-checks/0", "/api/v1/spot-checks/99999999999",
                "/api/v1/spot-checks/7/verify"):
        assert client.get(url, headers=world.headers("auditor")).status_code == 404


def test_a_spot_check_round_is_opened_only_by_its_draw(client, world):
    r = client.post("/api/v1/rounds", headers=world.headers("county_admin"), json={
        "kind": "spot_check", "name": "随机抽查", "starts_on": "2026-10-01",
        "due_on": "2026-10-31", "area_codes": [world.town_a]})
    assert r.status_code == 422 and "kind" in r.get_json()["error"]["fields"]


def test_the_sample_spreadsheet_reads_back(client, world):
    created = draw(client, world).get_json()
    for role, full in (("county_admin", True), ("auditor", False)):
        r = client.get(f"/api/v1/spot-checks/{created['id']}/sample.xlsx",
                       headers=world.headers(role))
        assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
        book = load_workbook(io.BytesIO(r.data))
        sheet = book["抽查样本"]
        rows = [row for row in sheet.iter_rows(values_only=True)]
        assert created["seed"] in rows[3][0] and created["population_sha256"] in rows[2][0]
        header = rows.index(next(row for row in rows if row[0] == "序号"))
        body = rows[header + 1:]
        assert [row[0] for row in body] == [1, 2, 3, 4]
        assert [row[9] for row in body] == [s["household_id"] for s in created["sample"]]
        assert [row[4] for row in body] == [s["name"] for s in created["sample"]]
        numbers = {row[5] for row in body}
        assert all(("*" in n) != full for n in numbers)
        strata = list(book["分层"].iter_rows(values_only=True))
        assert strata[1:] == [("岱岳镇", world.town_a, 6, 3), ("玉井镇", world.town_b, 2, 1),
                              ("合计", None, 8, 4)]
