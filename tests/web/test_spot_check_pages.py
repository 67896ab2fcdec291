"""The desk's 随机抽查 page: the county admin draws, past draws show their seed and sample,
a draw is verified from its seed, the sample downloads; only its readers see the link."""

import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook

from backend.models import Case, SpotCheck
from tests import factories
from tests.web import login_as

TODAY = date(2026, 10, 8)


@pytest.fixture
def world(db, monkeypatch):
    """Approved cases of 2026: 岱岳镇 4 households, 玉井镇 1."""
    for module in ("backend.web.desk.spot_checks", "backend.web.desk.base"):
        monkeypatch.setattr(f"{module}.today", lambda: TODAY)
    w = factories.world(db.session)
    for code in (w.village_a1, w.village_a2, w.village_b1):
        factories.case(db.session, w.households[code], status="in_progress")
    for i in range(2):
        factories.case(db.session, factories.household(db.session, w.village_a1, name=f"孙{i}"),
                       status="accepted")
    return w


def draw(client, csrf, w, **over):
    return client.post("/review/spot-checks", data={
        "csrf": csrf, "area_code": w.county, "year": "2026", "purpose": "2026年国家抽查复核",
        "count": "3", "percent": "", "due_on": "2026-11-30", **over})


def sample_rows(html: str) -> list[str]:
    return re.findall(r'<tr data-household="(\d+)">', html)


def test_the_county_admin_draws_and_sees_seed_sample_and_round(client, db, world):
    csrf = login_as(client, db, world.users["county_admin"])
    page = client.get("/review/spot-checks").get_data(as_text=True)
    assert 'aria-current="page">随机抽查</a>' in page and "抽取并开启抽查轮次" in page
    r = draw(client, csrf, world)
    assert r.status_code == 303 and r.headers["Location"].endswith("notice=drawn")
    check = db.session.query(SpotCheck).one()
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "已抽取样本并开启抽查轮次" in html
    assert check.seed in html and check.population_sha256 in html
    assert [int(h) for h in sample_rows(html)] == check.sample
    towns = dict(re.findall(r'<tr data-town="(\d+)"><td>[^<]+</td><td class="num">\d+</td>'
                            r'<td class="num">(\d+)</td>', html))
    assert towns == {world.town_a: "2", world.town_b: "1"}  # one each, then 4:1 → 1 more to A
    assert f"/review/rounds/{check.round_id}" in html and "截止 2026-11-30" in html
    rnd = client.get(f"/review/rounds/{check.round_id}").get_data(as_text=True)
    assert "随机抽查" in rnd and "2026年国家抽查复核" in rnd


def test_a_second_draw_for_the_same_purpose_is_refused_on_the_page(client, db, world):
    csrf = login_as(client, db, world.users["county_admin"])
    draw(client, csrf, world)
    r = draw(client, csrf, world, count="5")
    assert r.status_code == 409
    html = r.get_data(as_text=True)
    assert "不能重新抽取" in html and 'value="2026年国家抽查复核"' in html  # the form kept
    assert db.session.query(SpotCheck).count() == 1
    assert draw(client, csrf, world, purpose="2026年省级抽查").status_code == 303
    r = draw(client, csrf, world, purpose="百分比", count="", percent="abc")
    assert r.status_code == 422 and "抽取比例应为数字" in r.get_data(as_text=True)
    r = draw(client, csrf, world, purpose="都填", count="2", percent="10")
    assert r.status_code == 422 and "二选一" in r.get_data(as_text=True)


def test_verify_on_the_page_reports_a_changed_population(client, db, world):
    csrf = login_as(client, db, world.users["county_admin"])
    draw(client, csrf, world)
    check = db.session.query(SpotCheck).one()
    html = client.get(f"/review/spot-checks/{check.id}?verify=1").get_data(as_text=True)
    assert "核验一致" in html and "总体未变" in html
    case = db.session.query(Case).filter_by(household_id=check.sample[0], year=2026).one()
    case.status = "cancelled"
    db.session.commit()
    html = client.get(f"/review/spot-checks/{check.id}?verify=1").get_data(as_text=True)
    assert "核验不一致" in html and "总体已变化" in html
    assert f"减少的农户编号：{check.sample[0]}" in html


def test_an_auditor_reads_and_downloads_but_does_not_draw(client, db, world):
    csrf = login_as(client, db, world.users["county_admin"])
    draw(client, csrf, world)
    check = db.session.query(SpotCheck).one()
    csrf = login_as(client, db, world.users["auditor"])
    html = client.get("/review/spot-checks").get_data(as_text=True)
    assert ">随机抽查</a>" in html and check.seed in html
    assert "抽取并开启抽查轮次" not in html
    assert draw(client, csrf, world, purpose="审计").status_code == 403
    r = client.get(f"/review/spot-checks/{check.id}/sample.xlsx")
    assert r.status_code == 200
    rows = list(load_workbook(io.BytesIO(r.data))["抽查样本"].iter_rows(values_only=True))
    header = next(i for i, row in enumerate(rows) if row[0] == "序号")
    assert [row[9] for row in rows[header + 1:]] == check.sample
    assert all("*" in row[5] for row in rows[header + 1:])  # the auditor has no PII right


@pytest.mark.parametrize("role", ["inspector", "village_cadre", "town_reviewer", "finance",
                                  "department"])
def test_other_roles_have_no_link_and_no_page(client, db, world, role):
    login_as(client, db, world.users[role])
    assert ">随机抽查</a>" not in client.get("/review/rounds").get_data(as_text=True)
    assert client.get("/review/spot-checks").status_code == 403
