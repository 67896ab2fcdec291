"""The desk's 排名通报 page (000 武乡 一周一通报): the towns ranked as of a day with the named
town highlighted, its weeks in a row and what follows; the week's snapshot button; the county
admin's annual task form (003 §八 五到乡镇); the spreadsheet."""

import io
import re
from datetime import date

import openpyxl
import pytest

from backend.models import AnnualTask, RankingSnapshot
from backend.services.policy import Actor
from backend.services.reports import tasks
from tests import factories
from tests.web import login_as

TODAY = date(2026, 6, 3)  # a Wednesday


@pytest.fixture
def world(db, monkeypatch):
    for module in ("backend.web.desk.ranking", "backend.web.desk.base"):
        monkeypatch.setattr(f"{module}.today", lambda: TODAY)
    w = factories.world(db.session)
    tasks.set_tasks(db.session, Actor.of(w.users["county_admin"]), 2026,
                    {w.town_a: 10, w.town_b: 10})
    # By 2026-05-20 岱岳镇 has started 6 (3 completed), 玉井镇 2 (1): 玉井镇 lags on both.
    for village, started, completed in ((w.village_a2, 6, 3), (w.village_b2, 2, 1)):
        for i in range(started):
            case = factories.case(db.session, factories.household(db.session, village))
            case.started_on = date(2026, 5, 20)
            case.completed_on = date(2026, 5, 20) if i < completed else None
    db.session.commit()
    return w


def rows_of(html: str) -> dict[str, str]:
    """Each table row of the ranking, by the town named in its second cell."""
    body = html.split('<table class="ranking">')[1].split("</table>")[0]
    return {re.findall(r"<td>([^<]+)</td>", row)[0]: row
            for row in re.findall(r"<tr[^>]*>.*?</tr>", body, re.S)[1:]}


def test_the_named_town_is_highlighted_with_its_weeks_and_consequence(client, db, world):
    login_as(client, db, world.users["county_admin"])
    r = client.get("/review/ranking")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert 'aria-current="page">排名通报</a>' in html
    rows = rows_of(html)
    assert 'class="late"' in rows["玉井镇"] and "连续 3 周 · 诫勉谈话" in rows["玉井镇"]
    assert "20.0%" in rows["玉井镇"] and "10.0%" in rows["玉井镇"]
    assert 'class="late"' not in rows["岱岳镇"] and "60.0%" in rows["岱岳镇"]
    # The weeks before, stored as of their Sundays: named twice, then once.
    assert "连续 2 周 · 媒体公开曝光" in html and "连续 1 周 · 全县通报批评" in html
    assert "本周（2026-06-01 起）尚未生成排名" in html
    # At 360 px every table scrolls inside its own box.
    assert html.count("<table") == html.count('<div class="table-wrap"><table') == 3


def test_the_snapshot_button_takes_this_week_then_retakes_it(client, db, world):
    csrf = login_as(client, db, world.users["county_admin"])
    r = client.post("/review/ranking/snapshots", data={"csrf": csrf})
    assert r.status_code == 303 and "notice=taken" in r.headers["Location"]
    r = client.post("/review/ranking/snapshots", data={"csrf": csrf})
    assert "notice=retaken" in r.headers["Location"]
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "已重新生成本周排名" in html and "重新生成本周排名</button>" in html
    assert "测试用户" in html  # who took it
    assert db.session.query(RankingSnapshot).filter_by(week_start=date(2026, 6, 1)).count() == 1


def test_the_county_admin_sets_every_towns_task_from_one_form(client, db, world):
    w = world
    csrf = login_as(client, db, w.users["county_admin"])
    r = client.post("/review/ranking/tasks", data={
        "csrf": csrf, "year": "2027", f"town_{w.town_a}": "25", f"town_{w.town_b}": "18"})
    assert r.status_code == 303 and r.headers["Location"].endswith("notice=tasks#tasks")
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "已保存年度任务" in html and "全县合计 43 户" in html
    # One bad number: nothing saved, the form shows what was typed and why.
    r = client.post("/review/ranking/tasks", data={
        "csrf": csrf, "year": "2027", f"town_{w.town_a}": "30", f"town_{w.town_b}": "-5"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "年度任务未保存" in html and 'value="-5"' in html
    r = client.post("/review/ranking/tasks", data={
        "csrf": csrf, "year": "2027", f"town_{w.town_a}": "100001"})
    assert r.status_code == 422
    db.session.expire_all()
    assert {t.town_code: t.households for t in db.session.query(AnnualTask).filter_by(
        year=2027)} == {w.town_a: 25, w.town_b: 18}


def test_a_town_user_reads_the_ranking_without_the_forms(client, db, world):
    csrf = login_as(client, db, world.users["town_reviewer"])
    html = client.get("/review/ranking").get_data(as_text=True)
    assert "连续 3 周 · 诫勉谈话" in html  # the other town's figures: the point of 通报
    assert "生成本周排名</button>" not in html and "保存 2026 年度任务" not in html
    assert client.post("/review/ranking/snapshots", data={"csrf": csrf}).status_code == 403
    r = client.post("/review/ranking/tasks", data={"csrf": csrf, "year": "2026",
                                                   f"town_{world.town_a}": "99"})
    assert r.status_code == 403


def test_a_mistyped_or_future_day_shows_todays_ranking_and_why(client, db, world):
    login_as(client, db, world.users["auditor"])
    for day in ("2026-13-01", "2026-06-04"):
        r = client.get(f"/review/ranking?date={day}")
        assert r.status_code == 422
        assert "截至 2026-06-03" in r.get_data(as_text=True)


def test_the_spreadsheet_downloads_from_the_page(client, db, world):
    login_as(client, db, world.users["finance"])
    r = client.get("/review/ranking.xlsx?date=2026-05-27")
    assert r.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(r.data))["2026-05-27排名"].values)
    assert rows[2][2] == "玉井镇" and rows[2][11:13] == (2, "媒体公开曝光")


def test_a_user_of_two_counties_picks_one(client, db, world):
    factories.region(db.session, "140622000000", "应县", "county", "140600000000")
    both = factories.user(db.session, "auditor", [world.county, "140622000000"])
    login_as(client, db, both)
    html = client.get("/review/ranking").get_data(as_text=True)
    assert "山阴县乡镇排名通报" in html and '<option value="140622000000">应县</option>' in html
    html = client.get("/review/ranking?county=140622000000").get_data(as_text=True)
    assert "应县乡镇排名通报" in html
    assert client.get("/review/ranking?county=140623000000").status_code == 404
