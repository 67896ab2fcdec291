"""The towns' annual tasks and their weekly ranking over the API (000 武乡 一周一通报, 003 §八
五到乡镇): bounds on every number and date, another county not found, this week's snapshot
retaken while a closed week answers 409, and the spreadsheet read back."""

import io
from datetime import date

import openpyxl
import pytest

from backend.models import RankingSnapshot
from tests import factories

TODAY = date(2026, 6, 3)  # a Wednesday; the week of 2026-06-01
OTHER_COUNTY = "140622000000"


@pytest.fixture
def world(db, monkeypatch):
    monkeypatch.setattr("backend.api.ranking.today", lambda: TODAY)
    w = factories.world(db.session)
    factories.region(db.session, OTHER_COUNTY, "应县", "county", "140600000000")
    factories.region(db.session, "140622100000", "金城镇", "town", OTHER_COUNTY)
    db.session.commit()
    return w


def set_task(client, w, town, households, *, role="county_admin", year=2026):
    return client.put(f"/api/v1/tasks/{town}/{year}", json={"households": households},
                      headers=w.headers(role))


def lagging_town_b(db, client, w):
    """Tasks of 10; by 2026-05-20 岱岳镇 has started 6 (3 completed), 玉井镇 2 (1)."""
    for town in (w.town_a, w.town_b):
        assert set_task(client, w, town, 10).status_code == 200
    for village, started, completed in ((w.village_a2, 6, 3), (w.village_b2, 2, 1)):
        for i in range(started):
            case = factories.case(db.session, factories.household(db.session, village))
            case.started_on = date(2026, 5, 20)
            case.completed_on = date(2026, 5, 20) if i < completed else None
    db.session.commit()


def test_the_county_admin_sets_tasks_and_the_county_reads_them(client, db, world):
    w = world
    r = set_task(client, w, w.town_a, 30)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["households"] == 30 and r.get_json()["town_name"] == "岱岳镇"
    assert set_task(client, w, w.town_a, 32).get_json()["households"] == 32
    r = client.get("/api/v1/tasks?year=2026", headers=w.headers("inspector"))
    body = r.get_json()
    assert (body["county_name"], body["year"], body["total"]) == ("山阴县", 2026, 32)
    assert [(t["town_name"], t["households"]) for t in body["items"]] == [
        ("岱岳镇", 32), ("玉井镇", None)]
    assert client.get("/api/v1/tasks", headers=w.headers("auditor")).get_json()["year"] == 2026


@pytest.mark.parametrize("households", [-1, 100_001, "12", 1.5, None, 10**30])
def test_a_task_is_a_whole_number_of_households_within_bounds(client, world, households):
    r = set_task(client, world, world.town_a, households)
    assert r.status_code == 422 and "households" in r.get_json()["error"]["fields"]


def test_a_task_is_set_for_a_town_of_my_county_in_a_plausible_year(client, world):
    w = world
    assert set_task(client, w, w.town_a, 5, year=1999).status_code == 422
    assert set_task(client, w, w.town_a, 5, year=3000).status_code == 422
    # beyond a database integer the path's converter answers: no such year
    assert set_task(client, w, w.town_a, 5, year=10**20).status_code == 404
    assert set_task(client, w, w.village_a1, 5).status_code == 422  # a village is not a town
    assert set_task(client, w, "140622100000", 5).status_code == 404  # another county's town
    assert set_task(client, w, "nonsense", 5).status_code == 404
    r = client.put(f"/api/v1/tasks/{w.town_a}/2026", json={"households": 5, "year": 2027},
                   headers=w.headers("county_admin"))
    assert r.status_code == 422  # unknown field


def test_the_ranking_names_the_town_in_the_bottom_three_of_both_rates(client, db, world):
    w = world
    lagging_town_b(db, client, w)
    r = client.get("/api/v1/ranking", headers=w.headers("town_reviewer"))  # 岱岳镇's reviewer
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["county_code"], body["as_of"], body["week_start"], body["week_end"]) == (
        w.county, "2026-06-03", "2026-06-01", "2026-06-07")
    assert not body["stored"] and not body["closed"]
    a, b = body["rows"]
    assert (a["town_name"], a["start_rate"], a["completion_rate"], a["named"]) == (
        "岱岳镇", "60.0", "30.0", False)
    # Named since the week of 05-18: this week is the third in a row.
    assert (b["town_name"], b["started"], b["start_rate"], b["start_rank"]) == (
        "玉井镇", 2, "20.0", 2)
    assert (b["named"], b["consecutive"], b["consequence_label"]) == (True, 3, "诫勉谈话")
    r = client.get("/api/v1/ranking?date=2026-05-27", headers=w.headers("inspector"))
    assert r.get_json()["rows"][1]["consequence_label"] == "媒体公开曝光"
    assert r.get_json()["closed"]


@pytest.mark.parametrize("query,status", [
    ("date=1999-12-31", 422), ("date=2026-06-04", 422), ("date=2101-01-01", 422),
    ("date=June", 422), (f"county={OTHER_COUNTY}", 404), ("county=140621100000", 404),
    ("county=14062", 422)])
def test_ranking_dates_and_counties_are_bounded(client, world, query, status):
    for url in ("/api/v1/ranking", "/api/v1/ranking.xlsx"):
        r = client.get(f"{url}?{query}", headers=world.headers("county_admin"))
        assert r.status_code == status, (url, query, r.get_json())


def test_a_county_outside_my_area_is_not_found_anywhere(client, world):
    headers = world.headers("town_reviewer")
    for url in (f"/api/v1/tasks?county={OTHER_COUNTY}",
                f"/api/v1/ranking/snapshots?county={OTHER_COUNTY}"):
        assert client.get(url, headers=headers).status_code == 404
    r = client.post("/api/v1/ranking/snapshots", json={"county": OTHER_COUNTY},
                    headers=world.headers("county_admin"))
    assert r.status_code == 404


def test_this_weeks_snapshot_is_retaken_and_a_closed_week_answers_409(client, db, world):
    w = world
    lagging_town_b(db, client, w)
    admin = w.headers("county_admin")
    r = client.post("/api/v1/ranking/snapshots", json={}, headers=admin)
    assert r.status_code == 201, r.get_json()
    taken = r.get_json()
    assert (taken["week_start"], taken["as_of"], taken["stored"]) == ("2026-06-01",
                                                                      "2026-06-03", True)
    assert taken["rows"][1]["consequence"] == "admonition"
    r = client.post("/api/v1/ranking/snapshots", json={"county": w.county,
                                                       "week_start": "2026-06-01"},
                    headers=admin)
    assert r.status_code == 200 and r.get_json()["id"] == taken["id"]
    # The week of 05-25 is over and was stored as of its Sunday when the count needed it.
    db.session.expire_all()
    before = db.session.query(RankingSnapshot).filter_by(week_start=date(2026, 5, 25)).one()
    assert (before.as_of, before.taken_by) == (date(2026, 5, 31), None)
    r = client.post("/api/v1/ranking/snapshots", json={"week_start": "2026-05-25"},
                    headers=admin)
    assert r.status_code == 409
    error = r.get_json()["error"]
    assert error["code"] == "week_closed" and "已结束" in error["message"]
    db.session.expire_all()
    assert db.session.query(RankingSnapshot).filter_by(
        week_start=date(2026, 5, 25)).one().as_of == date(2026, 5, 31)
    for week in ("2026-06-02", "2026-06-08", "1999-12-27"):
        r = client.post("/api/v1/ranking/snapshots", json={"week_start": week},
                        headers=admin)
        assert r.status_code == 422 and "week_start" in r.get_json()["error"]["fields"]


def test_the_last_weeks_are_listed_this_week_first(client, db, world):
    w = world
    lagging_town_b(db, client, w)
    r = client.get("/api/v1/ranking/snapshots?weeks=3", headers=w.headers("village_cadre"))
    body = r.get_json()
    assert not body["this_week_taken"]
    assert [s["week_start"] for s in body["items"]] == ["2026-05-25", "2026-05-18"]
    client.post("/api/v1/ranking/snapshots", json={}, headers=w.headers("county_admin"))
    body = client.get("/api/v1/ranking/snapshots?weeks=3",
                      headers=w.headers("village_cadre")).get_json()
    assert body["this_week_taken"]
    assert [(s["week_start"], s["closed"], s["rows"][1]["consecutive"]) for s in body["items"]] \
        == [("2026-06-01", False, 3), ("2026-05-25", True, 2), ("2026-05-18", True, 1)]
    for weeks in (0, 27, "x"):
        assert client.get(f"/api/v1/ranking/snapshots?weeks={weeks}",
                          headers=w.headers("auditor")).status_code == 422


def test_the_ranking_spreadsheet_reads_back(client, db, world):
    w = world
    lagging_town_b(db, client, w)
    r = client.get("/api/v1/ranking.xlsx?date=2026-06-03", headers=w.headers("finance"))
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "private, no-store"
    book = openpyxl.load_workbook(io.BytesIO(r.data))
    sheet = book["2026-06-03排名"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:8] == ("开工率排名", "竣工率排名", "乡镇", "年度任务（户）", "开工（户）",
                           "开工率（%）", "竣工（户）", "竣工率（%）")
    assert rows[1][:8] == (1, 1, "岱岳镇", 10, 6, 60.0, 3, 30.0)
    assert rows[2][2] == "玉井镇" and rows[2][10:13] == ("是", 3, "诫勉谈话")
    about = dict(book["说明"].iter_rows(min_row=2, values_only=True))
    assert about["县"] == "山阴县" and "连续三次排名后三位的进行诫勉谈话" in about["通报规则"]
