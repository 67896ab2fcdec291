"""The 进度报表 page: the month's form previewed as the seed lays it out, its spreadsheet, and
filing a report the county owes from the page."""

import io

import openpyxl

from backend.models.base import china_today
from backend.services.reports.schedule import last_period
from tests import factories
from tests.api.test_reports import county, world  # noqa: F401 (fixtures)
from tests.web import login_as


def test_the_month_previews_as_the_seed_lays_it_out(client, db, county):  # noqa: F811
    login_as(client, db, county.users["county_admin"])
    r = client.get("/review/reports?month=2026-11")
    text = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "山阴县 2026 年 11 月农村危房改造进度报表" in text
    assert '<th colspan="9">开工户数</th>' in text and '<th rowspan="2">完成投资总额</th>' in text
    assert "岱岳镇" in text and "山阴县合计" in text and "150.0000" in text
    assert "第 19 栏包括已落实的省、市、县等各级补助资金之和" in text
    assert 'href="/review/reports"' in text  # the nav leads here
    r = client.get("/review/reports/monthly.xlsx?month=2026-11&form=seismic")
    sheet = openpyxl.load_workbook(io.BytesIO(r.data)).active
    assert sheet["A1"].value == "山阴县 2026 年 11 月既有房屋抗震改造进度报表"


def test_a_bad_month_says_so_and_an_inspector_is_refused(client, db, world):  # noqa: F811
    login_as(client, db, world.users["town_reviewer"])
    r = client.get("/review/reports?month=2026-13")
    assert r.status_code == 422 and "月份" in r.get_data(as_text=True)
    login_as(client, db, world.users["inspector"])
    assert client.get("/review/reports").status_code == 403
    assert 'href="/review/reports"' not in client.get("/review/todo").get_data(as_text=True)


def test_tancheng_files_last_months_form_from_the_page(client, db, templates):
    factories.region(db.session, "370000000000", "山东省", "province")
    factories.region(db.session, "371300000000", "临沂市", "prefecture", "370000000000")
    factories.region(db.session, "371322000000", "郯城县", "county", "371300000000")
    admin = factories.user(db.session, "county_admin", ["371322000000"], username="tc")
    csrf = login_as(client, db, admin)
    todo = client.get("/review/todo").get_data(as_text=True)
    assert "郯城县" in todo and "农村危房改造进度报表" in todo
    period = last_period(china_today())
    r = client.post("/review/reports/filings", data={
        "csrf": csrf, "region_code": "371322000000", "report": "monthly_progress",
        "period": f"{period:%Y-%m}"})
    assert r.status_code == 303
    page = client.get("/review/reports").get_data(as_text=True)
    assert "已报送" in page and "004 §五(五)" in page
    assert "农村危房改造进度报表（附件1" not in client.get("/review/todo").get_data(as_text=True)
