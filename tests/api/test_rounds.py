"""Rounds: open, assign, record outcomes, revisit, cover every household, close, export."""

import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook

from backend.models import Household, Round, RoundHousehold, Visit
from tests import factories, images
from tests.api.test_photos import put_photo


@pytest.fixture
def world(db, templates):
    return factories.round_world(db.session)


def open_round(client, w, role="town_reviewer", **over):
    body = {"kind": "routine", "name": "2026年第四季度常规排查", "period": "2026Q4",
            "starts_on": "2026-10-01", "due_on": "2026-12-31", "area_codes": [w.town_a],
            "categories": [], **over}
    return client.post("/api/v1/rounds", json=body, headers=w.headers(role))


def survey(client, w, round_id, household_id, outcome, *, minutes_ago=30, role="inspector",
           **extra):
    now = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    body = {"household_id": household_id, "round_id": round_id, "kind": "routine_survey",
            "phase": "before", "template": {"code": "routine_survey"}, "outcome": outcome,
            "started_at": (now - timedelta(minutes=10)).isoformat(), "ended_at": now.isoformat(),
            **extra}
    return client.put(f"/api/v1/visits/{uuid.uuid4()}", json=body, headers=w.headers(role))


def test_open_round_assigns_every_household_in_the_area(client, db, world):
    r = open_round(client, world)
    assert r.status_code == 201, r.get_json()
    rnd = r.get_json()
    rows = db.session.query(RoundHousehold).filter_by(round_id=rnd["id"]).all()
    assert len(rows) == 6  # 2 from the world + 3 孙 + 1 一般户, all in town A
    assert {row.inspector_id for row in rows} == {world.users["inspector"].id}
    targets = open_round(client, world, categories=["tekun"], name="特困户排查").get_json()
    assert db.session.query(RoundHousehold).filter_by(round_id=targets["id"]).count() == 3


def test_refusals_when_opening(client, world):
    assert open_round(client, world, role="inspector").status_code == 403
    r = open_round(client, world, area_codes=[world.town_b])
    assert r.status_code == 422 and "area_codes" in r.get_json()["error"]["fields"]
    r = open_round(client, world, due_on="2026-09-01")
    assert r.status_code == 422 and "due_on" in r.get_json()["error"]["fields"]


def test_assignments_record_revisit_and_progress(client, db, world):
    w = world
    rnd = open_round(client, w).get_json()
    mine = client.get("/api/v1/me/assignments", headers=w.headers("inspector")).get_json()
    assert len(mine) == 1 and len(mine[0]["households"]) == 6
    households = [a["household"]["id"] for a in mine[0]["households"]]
    # Offline-recorded outcomes arrive: safe, nobody home (revisit), suspected danger.
    assert survey(client, w, rnd["id"], households[0], "safe").status_code == 201
    assert survey(client, w, rnd["id"], households[1], "nobody_home").status_code == 201
    pid = put_photo(client, w, images.make_jpeg(seed=90),
                    village=db.session.get(Household, households[2]).village_code,
                    household_id=households[2]).get_json()["id"]
    r = survey(client, w, rnd["id"], households[2], "suspected_danger",
               danger_points=["wall.crack"], photos=[pid])
    assert r.status_code == 201, r.get_json()
    progress = client.get(f"/api/v1/rounds/{rnd['id']}/progress",
                          headers=w.headers("town_reviewer")).get_json()
    # 已查 counts the safe and the suspected house, not the one where nobody was home
    # (UNCHECKED_OUTCOMES): it is still to be checked, and listed as such.
    assert progress["totals"] == {"total": 6, "visited": 2, "unvisited": 4,
                                  "revisit_needed": 1, "found": 0}
    outcomes = {k: sum(v["outcomes"][k] for v in progress["villages"])
                for k in ("safe", "nobody_home", "suspected_danger")}
    assert outcomes == {"safe": 1, "nobody_home": 1, "suspected_danger": 1}
    assert len(progress["unvisited"]) == 4
    # The revisit finds someone home: the household no longer needs a revisit.
    assert survey(client, w, rnd["id"], households[1], "safe", minutes_ago=5).status_code == 201
    again = client.get(f"/api/v1/rounds/{rnd['id']}/progress",
                       headers=w.headers("town_reviewer")).get_json()
    assert again["totals"]["revisit_needed"] == 0
    assert again["totals"]["visited"] == 3
    # Walking order: village by village, the not yet visited first in each.
    order = client.get("/api/v1/me/assignments", headers=w.headers("inspector")).get_json()
    walk = [(a["household"]["village_code"], a["visited_at"] is not None)
            for a in order[0]["households"]]
    assert walk == sorted(walk)


def test_round_cannot_close_with_unvisited_households_without_reasons(client, db, world):
    w = world
    rnd = open_round(client, w).get_json()
    ids = [row.household_id for row in
           db.session.query(RoundHousehold).filter_by(round_id=rnd["id"])]
    for household_id in ids[:4]:
        survey(client, w, rnd["id"], household_id, "safe")
    r = client.post(f"/api/v1/rounds/{rnd['id']}/close", json={},
                    headers=w.headers("town_reviewer"))
    assert r.status_code == 409
    error = r.get_json()["error"]
    assert error["code"] == "round_has_unvisited"
    assert sorted(error["details"]["unvisited"]) == sorted(ids[4:])
    partial = {str(ids[4]): "外出务工，全家不在"}
    assert client.post(f"/api/v1/rounds/{rnd['id']}/close", json={"reasons": partial},
                       headers=w.headers("town_reviewer")).status_code == 409
    db.session.expire_all()
    assert db.session.get(Round, rnd["id"]).status == "open"
    assert all(row.skip_reason is None for row in db.session.query(RoundHousehold))
    reasons = {**partial, str(ids[5]): "房屋已拆除，户已迁出"}
    r = client.post(f"/api/v1/rounds/{rnd['id']}/close", json={"reasons": reasons},
                    headers=w.headers("town_reviewer"))
    assert r.status_code == 200 and r.get_json()["status"] == "closed"
    late = survey(client, w, rnd["id"], ids[5], "safe", minutes_ago=0)  # recorded after closing
    assert late.status_code == 422
    assert "已结束" in late.get_json()["error"]["fields"]["round_id"]


def test_discovery_adds_a_house_to_the_round(client, db, world):
    w = world
    rnd = open_round(client, w).get_json()
    body = {"village_code": w.village_a2, "name": "新发现户", "id_number": factories.id_number(),
            "category": "ordinary", "lat": 39.53, "lon": 112.82}
    r = client.post(f"/api/v1/rounds/{rnd['id']}/discoveries", json=body,
                    headers=w.headers("inspector"))
    assert r.status_code == 201, r.get_json()
    found = r.get_json()
    assert found["found_in_round"] and found["household"]["location"]["lat"] == 39.53
    r = survey(client, w, rnd["id"], found["household"]["id"], "new_found",
               photos=[put_photo(client, w, images.make_jpeg(seed=91),
                                 household_id=found["household"]["id"]).get_json()["id"]])
    assert r.status_code == 201, r.get_json()
    progress = client.get(f"/api/v1/rounds/{rnd['id']}/progress",
                          headers=w.headers("town_reviewer")).get_json()
    assert progress["totals"]["found"] == 1 and progress["totals"]["total"] == 7


def test_a_discovery_without_an_identity_is_refused_not_a_500(client, db, world):
    w = world
    rnd = open_round(client, w).get_json()
    body = {"village_code": w.village_a2, "name": "新发现户", "id_number": factories.id_number()}
    r = client.post(f"/api/v1/rounds/{rnd['id']}/discoveries", json=body,
                    headers=w.headers("inspector"))
    assert r.status_code == 422 and "category" in r.get_json()["error"]["fields"]
    assert db.session.query(RoundHousehold).filter_by(found_in_round=True).count() == 0


def test_a_phone_syncing_after_the_round_closed_keeps_its_evidence(client, db, world):
    """Recorded while the round was open, synced after: kept, and the closed round unchanged."""
    w = world
    rnd = open_round(client, w).get_json()
    listed = db.session.query(RoundHousehold).filter_by(round_id=rnd["id"]).all()
    r = client.post(f"/api/v1/rounds/{rnd['id']}/close", json={"default_reason": "外出"},
                    headers=w.headers("town_reviewer"))
    assert r.status_code == 200
    body = {"village_code": w.village_a2, "name": "迟到户", "id_number": factories.id_number(),
            "category": "ordinary", "lat": 39.53, "lon": 112.82}
    r = client.post(f"/api/v1/rounds/{rnd['id']}/discoveries", json=body,
                    headers=w.headers("inspector"))
    assert r.status_code == 201, r.get_json()
    house = r.get_json()["household"]["id"]
    assert r.get_json()["found_in_round"] is False  # registered, not added to the closed round
    for household_id in (house, listed[0].household_id):
        photo = put_photo(client, w, images.make_jpeg(seed=93 + household_id),
                          household_id=household_id).get_json()["id"]
        r = survey(client, w, rnd["id"], household_id, "new_found", photos=[photo])
        assert r.status_code == 201, r.get_json()
    db.session.expire_all()
    rows = db.session.query(RoundHousehold).filter_by(round_id=rnd["id"]).all()
    assert len(rows) == len(listed) and all(r.visited_at is None for r in rows)
    assert {r.skip_reason for r in rows} == {"外出"}
    assert db.session.query(Visit).filter_by(round_id=rnd["id"]).count() == 2


def test_reassign_to_an_inspector_covering_the_village(client, db, world):
    w = world
    rnd = open_round(client, w).get_json()
    other = factories.user(db.session, "inspector", [w.village_a1], username="dongping_insp")
    in_a1 = [row.household_id for row in db.session.query(RoundHousehold)
             .filter_by(round_id=rnd["id"], village_code=w.village_a1)]
    r = client.patch(f"/api/v1/rounds/{rnd['id']}/assignments",
                     json={"household_ids": in_a1, "inspector_id": other.id},
                     headers=w.headers("town_reviewer"))
    assert r.status_code == 200 and r.get_json()["moved"] == len(in_a1)
    in_a2 = [row.household_id for row in db.session.query(RoundHousehold)
             .filter_by(round_id=rnd["id"], village_code=w.village_a2)]
    r = client.patch(f"/api/v1/rounds/{rnd['id']}/assignments",
                     json={"household_ids": in_a2, "inspector_id": other.id},
                     headers=w.headers("town_reviewer"))
    assert r.status_code == 422


def test_a_closed_round_keeps_its_assignments(client, db, world):
    w = world
    rnd = open_round(client, w).get_json()
    rows = db.session.query(RoundHousehold).filter_by(round_id=rnd["id"]).all()
    reasons = {str(r.household_id): "外出务工，房屋无人居住" for r in rows}
    assert client.post(f"/api/v1/rounds/{rnd['id']}/close", json={"reasons": reasons},
                       headers=w.headers("county_admin")).status_code == 200
    before = {r.household_id: r.inspector_id for r in rows}
    r = client.patch(f"/api/v1/rounds/{rnd['id']}/assignments",
                     json={"household_ids": list(before), "inspector_id": w.users["inspector"].id},
                     headers=w.headers("county_admin"))
    assert r.status_code == 409
    assert r.get_json()["error"]["message"] == "本轮排查已结束，不能再调整分工"
    db.session.expire_all()
    assert {r.household_id: r.inspector_id for r in
            db.session.query(RoundHousehold).filter_by(round_id=rnd["id"])} == before


def test_export_has_a_row_per_household_and_a_village_summary(client, db, world):
    w = world
    rnd = open_round(client, w).get_json()
    first = db.session.query(RoundHousehold).filter_by(round_id=rnd["id"]).first()
    survey(client, w, rnd["id"], first.household_id, "safe")
    r = client.get(f"/api/v1/rounds/{rnd['id']}/export.xlsx", headers=w.headers("town_reviewer"))
    assert r.status_code == 200
    book = load_workbook(io.BytesIO(r.data))
    detail, summary = book["明细"], book["汇总"]
    assert detail.max_row == 1 + 6
    outcomes = [row[8].value for row in detail.iter_rows(min_row=2)]
    assert outcomes.count("安全") == 1 and outcomes.count("未排查") == 5
    last = [c.value for c in summary[summary.max_row]]
    assert last[:4] == ["合计", 6, 1, 5]


def test_export_counts_like_the_desk_and_details_each_visit(client, db, world):
    """Issue 17: one 新发现 column; 已查 without 无人在家; widths; danger points, note, position
    and a link to the photos in 明细."""
    w = world
    rnd = open_round(client, w).get_json()
    ids = [r.household_id for r in db.session.query(RoundHousehold).filter_by(round_id=rnd["id"])]
    survey(client, w, rnd["id"], ids[0], "nobody_home")
    r = put_photo(client, w, images.make_jpeg(seed=5), household_id=ids[1],
                  village=db.session.get(Household, ids[1]).village_code)
    assert survey(client, w, rnd["id"], ids[1], "suspected_danger", note="后墙开裂",
                  danger_points=["wall.crack"], photos=[r.get_json()["id"]],
                  position={"lat": 39.5201, "lon": 112.8101}).status_code == 201
    r = client.get(f"/api/v1/rounds/{rnd['id']}/export.xlsx", headers=w.headers("town_reviewer"))
    book = load_workbook(io.BytesIO(r.data))
    summary, detail = book["汇总"], book["明细"]
    titles = [c.value for c in summary[1]]
    assert len(titles) == len(set(titles)) and titles[:6] == [
        "村", "应查", "已查", "未查", "需复查", "新发现（以房找人）"]
    assert [c.value for c in summary[summary.max_row]][:5] == ["合计", 6, 1, 5, 1]
    assert all(summary.column_dimensions[col].width >= 4 for col in "ABCDEF")
    headers = [c.value for c in detail[1]]
    row = next(r for r in detail.iter_rows(min_row=2) if r[8].value == "疑似危房")
    cell = dict(zip(headers, row, strict=True))
    assert cell["危险点"].value == "承重墙体：裂缝" and cell["备注"].value == "后墙开裂"
    assert (cell["纬度（WGS-84）"].value, cell["经度（WGS-84）"].value) == (39.5201, 112.8101)
    assert cell["照片"].value == "1 张照片"
    assert cell["照片"].hyperlink.target.startswith("http://localhost/review/households/")
    assert detail.column_dimensions["M"].width > 10


def test_rounds_are_invisible_outside_their_area(client, db, world):
    w = world
    rnd = open_round(client, w).get_json()
    outsider = factories.user(db.session, "town_reviewer", [w.town_b], username="yujing")
    headers = {"Authorization": f"Bearer {factories.token_for(db.session, outsider)}"}
    assert client.get(f"/api/v1/rounds/{rnd['id']}/progress", headers=headers).status_code == 404
    assert client.get("/api/v1/rounds", headers=headers).get_json() == []


def test_only_a_user_covering_the_whole_round_closes_it(client, db, world):
    w = world
    rnd = open_round(client, w, role="county_admin", area_codes=[w.town_a, w.town_b]).get_json()
    body = {"default_reason": "地震后道路中断"}
    r = client.post(f"/api/v1/rounds/{rnd['id']}/close", json=body,
                    headers=w.headers("town_reviewer"))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"
    assert all(row.skip_reason is None for row in
               db.session.query(RoundHousehold).filter_by(round_id=rnd["id"]))
    r = client.post(f"/api/v1/rounds/{rnd['id']}/close", json=body,
                    headers=w.headers("county_admin"))
    assert r.status_code == 200 and r.get_json()["status"] == "closed"
    db.session.expire_all()
    assert {row.skip_reason for row in
            db.session.query(RoundHousehold).filter_by(round_id=rnd["id"])} == {"地震后道路中断"}


def test_a_round_number_beyond_any_row_is_not_found(client, db, world):
    for method, path in (("GET", "/progress"), ("POST", "/close"), ("GET", "")):
        r = client.open(f"/api/v1/rounds/{2**70}{path}", method=method, json={} if method ==
                        "POST" else None, headers=world.headers("county_admin"))
        assert r.status_code == 404, path
