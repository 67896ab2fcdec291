"""The supervisor review pages in real headless Chromium, against a live server.

A reviewer logs in, opens a case with photos in all three phases and flags, sees the grid and
the position plot, opens a photo, returns a visit with a comment and dismisses a flag; a
reviewer of another town gets 404. Screenshots go to build/screenshots/review-*.png.
"""

import pytest

from backend.extensions import db
from tests import factories
from tests.browser.conftest import browser_app, screenshot, serving
from tests.web import review_case

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def review_site(tmp_path_factory):
    """A live server with its own database, photo folder and the case.

    Not the shared `live_server`: this case needs its own county (factories.world) and a
    2026 case on household A1, which would collide with the other browser tests' data.
    """
    app = browser_app(tmp_path_factory.mktemp("review-live"))
    with app.app_context():
        rc = review_case(db.session, extra_photos=6)
        site = {"case_id": rc.case.id, "household": rc.case.household.name,
                "far_photo": rc.photo_ids["depth_far"], "during_visit": rc.visit_ids["during"]}
        db.session.remove()
    with serving(app) as url:
        yield {**site, "url": url, "app": app}


def login(page, site, username):
    page.goto(f"{site['url']}/review/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def shot(page, name):
    """Scroll through so lazy thumbnails load, then save a full-page screenshot."""
    height = page.evaluate("document.body.scrollHeight")
    for y in range(0, height + 800, 600):
        page.evaluate(f"window.scrollTo(0, {y})")
        page.wait_for_timeout(30)
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_function("[...document.images].every(i => i.complete)")
    screenshot(page, f"review-{name}", full_page=True)


def test_reviewer_judges_a_case(review_site, page_for):
    site = review_site
    page = page_for()
    page.goto(f"{site['url']}/review/login")
    shot(page, "login")
    login(page, site, "town_reviewer")
    assert page.locator("h1").inner_text() == "改造项目总览"
    shot(page, "overview")

    page.click(f"a[href='/review/cases/{site['case_id']}']")
    page.wait_for_load_state()
    for phase in ("before", "during", "after"):
        photos = page.locator(f".phase[data-phase={phase}] .photo:not(.slot) img")
        assert photos.count() >= 1, phase
    assert page.locator(".slot-box").count() >= 1  # the missing 地圈梁 photo
    assert page.locator("#timeline").get_by_text("拍摄位置距房屋过远（待处理）").count() >= 1
    assert page.locator("svg.plot .pt").count() >= 8
    assert page.locator("svg.plot .ring").count() == 3
    first = page.locator(".phase[data-phase=before] .photo img").first
    first.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=first.element_handle())
    shot(page, "case")

    page.click(f"a[href='/review/cases/{site['case_id']}/plot']")
    page.wait_for_load_state()
    assert page.locator("svg.plot .pt").count() >= 8
    shot(page, "plot")

    page.goto(f"{site['url']}/review/cases/{site['case_id']}")
    page.locator(".phase[data-phase=during] .photo a.thumb").first.click()
    page.wait_for_load_state()
    large = page.locator(".stage img")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=large.element_handle())
    assert page.get_by_text("手机定位（拍照时）").count() == 1
    page.click("[data-original]")
    page.wait_for_function("() => document.querySelector('.stage img').src.endsWith('/original')")
    shot(page, "photo")

    # Return the construction visit with a comment.
    page.goto(f"{site['url']}/review/cases/{site['case_id']}")
    visit = page.locator(f"#visit-{site['during_visit']}")
    visit.locator("button[value=return]").click()  # no comment: the page asks for one
    assert page.url.endswith(f"/review/cases/{site['case_id']}")
    visit.locator("textarea[name=comment]").fill("地圈梁没有照片，请补拍后重新提交")
    visit.locator("button[value=return]").click()
    page.wait_for_load_state()
    assert "已退回该检查记录" in page.locator(".notice").inner_text()
    visit = page.locator(f"#visit-{site['during_visit']}")
    assert "已退回" in visit.inner_text()
    assert "地圈梁没有照片，请补拍后重新提交" in visit.inner_text()

    # Dismiss the far-from-house flag with a reason, from the worklist.
    page.goto(f"{site['url']}/review/flags?code=far_from_house")
    shot(page, "flags")
    link = page.locator(f"a[href='/review/photos/{site['far_photo']}']")
    item = page.locator("article", has=link)
    item.locator("input[name=reason]").fill("基槽在院外，现场核实属实")
    item.locator("button[value=dismiss]").click()
    page.wait_for_load_state()
    assert "已排除该标记" in page.locator(".notice").inner_text()
    page.goto(f"{site['url']}/review/photos/{site['far_photo']}")
    body = page.locator("body").inner_text()
    assert "拍摄位置距房屋过远（已排除）" in body and "基槽在院外，现场核实属实" in body

    page.goto(f"{site['url']}/review/reused")
    assert page.locator(".pair img").count() == 2
    shot(page, "reused")
    page.goto(f"{site['url']}/review/overdue")
    shot(page, "overdue")
    assert page.errors == []


def test_case_on_a_phone(review_site, page_for):
    page = page_for(360, 800)
    login(page, review_site, "town_reviewer")
    page.goto(f"{review_site['url']}/review/cases/{review_site['case_id']}")
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate("""[...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > 361).slice(0, 5)
        .map(e => `${e.tagName}.${e.className} ${e.getBoundingClientRect().right}`)""")
    assert width <= 360, (width, wide)
    shot(page, "case-phone")
    page.goto(f"{review_site['url']}/review/")
    shot(page, "overview-phone")
    assert page.errors == []


def test_a_reviewer_of_another_town_gets_404(review_site, page_for):
    page = page_for()
    login(page, review_site, "reviewer_b")
    response = page.goto(f"{review_site['url']}/review/cases/{review_site['case_id']}")
    assert response.status == 404
    assert review_site["household"] not in page.locator("body").inner_text()
    response = page.goto(f"{review_site['url']}/review/photos/{review_site['far_photo']}/large")
    assert response.status == 404
    shot(page, "404")
