"""The survey-round pages in real headless Chromium, on a desktop and at 360 px.

A town reviewer opens the list of rounds, the coverage page, and tries to close a round with
an unvisited household that has no reason. Screenshots go to build/screenshots/review-round*.png.
"""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from backend.api.visits import VisitBodySchema
from backend.extensions import db
from backend.models import RoundHousehold
from backend.services import rounds, visits
from backend.services.policy import Actor
from backend.services.rounds.lifecycle import RoundSpec
from tests import factories
from tests.browser.conftest import browser_app, no_sideways_scroll, screenshot, serving

pytestmark = pytest.mark.browser
NAMES = ("王建国", "李秀兰", "张卫东", "刘桂花", "陈永福", "杨玉梅", "赵长顺", "黄春燕", "周德明",
         "吴淑珍", "徐国庆", "孙凤英", "马有才")


def survey(session, actor, round_id, household_id, outcome, *, minutes_ago):
    now = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    raw = {"household_id": household_id, "round_id": round_id, "kind": "routine_survey",
           "phase": "before", "template": {"code": "routine_survey"}, "outcome": outcome,
           "started_at": (now - timedelta(minutes=10)).isoformat(), "ended_at": now.isoformat()}
    visits.record_visit(session, actor, str(uuid.uuid4()), VisitBodySchema().load(raw),
                        rules=visits.VisitRules(), digest=visits.body_hash(raw))


@pytest.fixture(scope="module")
def round_site(tmp_path_factory):
    """A live server with town A in an open routine round half done, and two other rounds."""
    app = browser_app(tmp_path_factory.mktemp("rounds-live"))
    with app.app_context():
        w = factories.world(db.session)
        for i, name in enumerate(NAMES):
            factories.household(db.session, w.village_a1 if i % 3 else w.village_a2, name=name,
                                category="tekun" if i % 4 == 0 else "dibao")
        w.users["inspector"].name = "赵检查"
        w.users["town_reviewer"].name = "钱审核"
        db.session.commit()
        reviewer = Actor.of(w.users["town_reviewer"])
        today = date.today()
        old = rounds.open_round(db.session, reviewer, RoundSpec(
            kind="routine", name="2026年第三季度常规排查", period="2026Q3",
            starts_on=today - timedelta(days=120), due_on=today - timedelta(days=30),
            area_codes=[w.town_a], categories=[]))
        rounds.close_round(db.session, reviewer, old.id, {
            r.household_id: "外出务工，全家不在" for r in
            db.session.query(RoundHousehold).filter_by(round_id=old.id)})
        rounds.open_round(db.session, reviewer, RoundSpec(
            kind="emergency", name="7月暴雨后应急排查", cause="7月暴雨，部分土坯房受损",
            starts_on=today - timedelta(days=20), due_on=today - timedelta(days=6),
            area_codes=[w.village_a2], categories=[]))
        rnd = rounds.open_round(db.session, reviewer, RoundSpec(
            kind="routine", name="2026年第四季度常规排查", period="2026Q4",
            starts_on=today - timedelta(days=10), due_on=today + timedelta(days=30),
            area_codes=[w.town_a], categories=[]))
        inspector = Actor.of(w.users["inspector"])
        rows = db.session.query(RoundHousehold).filter_by(round_id=rnd.id) \
            .order_by(RoundHousehold.household_id).all()
        for i, row in enumerate(rows[:9]):
            survey(db.session, inspector, rnd.id, row.household_id,
                   "nobody_home" if i % 4 == 1 else "safe", minutes_ago=60 + i)
        # Not yet 已查: the 6 never visited and the 2 found nobody home.
        site = {"round_id": rnd.id, "unvisited": len(rows) - 7, "total": len(rows)}
        db.session.remove()
    with serving(app) as url:
        yield {**site, "url": url}


def login(page, site):
    page.goto(f"{site['url']}/review/login?next=/review/rounds")
    page.fill("input[name=username]", "town_reviewer")
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def shot(page, name):
    screenshot(page, f"review-{name}", full_page=True)


@pytest.mark.parametrize("width", [1280, 360])
def test_rounds_list_and_coverage_page(round_site, page_for, width):
    site = round_site
    page = page_for(width)
    suffix = "" if width > 600 else "-phone"
    login(page, site)
    assert page.locator("h1").inner_text() == "排查轮次"
    items = page.locator(".round-item")
    assert items.count() == 3
    assert "已逾期" in items.nth(0).inner_text() or "已逾期" in items.nth(1).inner_text()
    assert "已结束" in items.nth(2).inner_text()
    page.click(".open-round summary")
    assert page.locator("input[name=area]").count() == 3  # town A and its two villages
    no_sideways_scroll(page)
    shot(page, f"rounds{suffix}")

    page.click(f"a[href='/review/rounds/{site['round_id']}']")
    page.wait_for_load_state()
    # 9 visited, 2 of them 无人在家: not 已查 (vocabulary.UNCHECKED_OUTCOMES).
    assert page.locator(".bar-text").inner_text().startswith(
        f"已查 7 / {site['total']} 户")
    assert page.locator("table.unvisited tbody tr").count() == site["unvisited"]
    no_sideways_scroll(page)
    shot(page, f"round{suffix}")

    page.click("#close-form button[value=close]")
    page.wait_for_load_state()
    assert "未说明原因" in page.locator(".error").inner_text()
    assert page.locator("tr.missing").count() == site["unvisited"]
    no_sideways_scroll(page)
    shot(page, f"round-refused{suffix}")
    assert page.errors == []
