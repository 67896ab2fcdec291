"""The desk's half of the review loop (issue 17) in real Chromium: the 待审核 tab returns a survey
visit with danger points to the phone, the 疑似危房 tab shows its clocks and photos, the position
plot stays readable with an 800 m outlier, and wide tables scroll inside their cards at 360 px.
Screenshots go to build/screenshots/loop-*.png."""

import pytest

from backend.extensions import db
from backend.services.policy import Actor
from tests import factories
from tests.browser.conftest import browser_app, no_sideways_scroll, screenshot, serving, sign_in
from tests.web import review_case, round_with_a_suspected_house, upload

pytestmark = pytest.mark.browser
SIZES = {"phone": (360, 800), "desk": (1366, 900)}


@pytest.fixture(scope="module")
def loop_site(tmp_path_factory):
    app = browser_app(tmp_path_factory.mktemp("loop-live"))
    with app.app_context():
        rc = review_case(db.session, extra_photos=6)
        w, household = rc.world, rc.case.household
        inspector = Actor.of(w.users["inspector"])
        # 813 m to the north-east: the photo that used to set the scale to 500 m.
        far = upload(db.session, inspector, household, phase="during", seed=303,
                     node="wall", case_id=rc.case.id, north_m=575, east_m=575, days_ago=18)
        rnd, neighbour, visit_id, photo = round_with_a_suspected_house(db.session, w)
        site = {"case_id": rc.case.id, "far": far, "visit_id": visit_id, "photo": photo,
                "round_id": rnd.id, "case_household_id": household.id,
                "household_id": neighbour.id, "household": neighbour.name,
                "inspector_token": factories.token_for(db.session, w.users["inspector"])}
        db.session.remove()
    with serving(app) as url:
        yield {**site, "url": url, "app": app}


def box(page, selector):
    return page.locator(selector).first.bounding_box()


def overlaps(a, b) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


def inside(inner, outer) -> bool:
    return (inner["x"] >= outer["x"] - 0.5 and inner["y"] >= outer["y"] - 0.5
            and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5
            and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 0.5)


@pytest.mark.parametrize("size", SIZES)
def test_plot_with_an_800_m_outlier_stays_readable(loop_site, page_for, size):
    site = loop_site
    page = page_for(*SIZES[size])
    sign_in(page, site["url"], "town_reviewer")
    page.goto(f"{site['url']}/review/cases/{site['case_id']}#plot")
    frame = box(page, "svg.plot")
    far = page.locator("g.pt", has=page.locator("text", has_text="813 米")).first
    assert far.count() == 1, "the outlier is labelled with its distance"
    far_dot, far_label = far.locator("circle.dev").bounding_box(), far.locator(
        "text").bounding_box()
    # Every marker and label inside the frame.
    for i in range(page.locator("g.pt circle.dev").count()):
        assert inside(page.locator("g.pt circle.dev").nth(i).bounding_box(), frame)
    assert inside(far_label, frame) and inside(far_dot, frame)
    # The outlier clear of the north arrow, the scale bar's label and the house label.
    for selector in ("path.north", "text.north", "text.scale"):
        assert not overlaps(far_label, box(page, selector)), selector
        assert not overlaps(far_dot, box(page, selector)), selector
    # House scale chosen from the near photos (5-20 m), not from the 350 m and 813 m ones: the
    # outer ring holds them with little to spare and both outliers are drawn at the edge.
    rings = [int(t.split()[0]) for t in page.locator("text.ring-label").all_text_contents()]
    assert rings == [10, 20, 50], rings
    assert page.locator("text.scale").text_content() == "20 米"
    assert page.locator("g.pt text.label", has_text="→").count() == 2
    outer = page.locator("circle.ring").last.bounding_box()
    labels = []
    for i in range(page.locator("g.pt").count()):
        pt = page.locator("g.pt").nth(i)
        label = pt.locator("text.label")
        if "→" in label.text_content():
            continue
        assert inside(pt.locator("circle.dev, rect.exif").first.bounding_box(), outer)
        labels.append((label.text_content(), label.bounding_box()))
    assert len(labels) >= 9
    # The near markers' numbers are readable: no label covers another or the house's.
    house = box(page, "text.house-label")
    for n, (text, b) in enumerate(labels):
        assert not overlaps(b, house), text
        for other, c in labels[n + 1:]:
            assert not overlaps(b, c), (text, other)
    assert "离房屋较远，画在图边缘并注明距离" in page.locator(".plot-wrap table").inner_text()
    page.locator("#plot").scroll_into_view_if_needed()
    screenshot(page, f"loop-plot-{size}")
    assert page.errors == []


def test_wide_tables_scroll_inside_their_card_with_a_hint_at_360(loop_site, page_for):
    site = loop_site
    page = page_for(360, 800)
    sign_in(page, site["url"], "town_reviewer")
    page.goto(f"{site['url']}/review/cases/{site['case_id']}")
    no_sideways_scroll(page)
    wraps = page.locator(".table-wrap.scrolls")
    assert wraps.count() >= 1, "a review table wider than 360 px scrolls in its box"
    wrap = wraps.first
    hint = page.locator(".scroll-hint:visible").first
    assert "左右滑动" in hint.inner_text()
    card = wrap.evaluate_handle("w => w.closest('.card')").as_element().bounding_box()
    assert inside(wrap.bounding_box(), card)
    before = wrap.evaluate("w => w.scrollLeft")
    wrap.evaluate("w => w.scrollBy(200, 0)")
    assert wrap.evaluate("w => w.scrollLeft") > before
    wrap.scroll_into_view_if_needed()
    screenshot(page, "loop-table-360")


def test_review_queue_returns_a_survey_with_danger_points_to_the_phone(loop_site, page_for):
    site = loop_site
    for size, (width, height) in SIZES.items():
        page = page_for(width, height)
        sign_in(page, site["url"], "town_reviewer")
        page.goto(f"{site['url']}/review/todo")
        page.click("nav.tabs >> text=待审核")
        page.select_option("select[name=kind]", "routine_survey")
        page.click("form.filters button")
        item = page.locator(f"#visit-{site['visit_id']}")
        assert "承重墙体：裂缝" in item.inner_text() and "屋面：漏雨" in item.inner_text()
        assert item.locator("ul.strip img").evaluate("i => i.complete && i.naturalWidth > 0")
        no_sideways_scroll(page)
        screenshot(page, f"loop-queue-{size}", full_page=True)
        assert page.errors == []
    item.locator("textarea[name=comment]").fill("危险点照片不清楚，请补拍后墙裂缝")
    item.locator("button[value=return]").click()
    page.wait_for_load_state()
    assert "已退回该检查记录" in page.locator(".notice").inner_text()
    assert page.locator(f"#visit-{site['visit_id']}").count() == 0  # left the queue
    # The phone's list shows it returned and open.
    client = site["app"].test_client()
    mine = client.get("/api/v1/visits?mine=true", headers={
        "Authorization": f"Bearer {site['inspector_token']}"}).get_json()["items"]
    returned = next(v for v in mine if v["id"] == site["visit_id"])
    assert returned["return_open"] is True
    assert returned["review_comment"] == "危险点照片不清楚，请补拍后墙裂缝"


def test_suspected_houses_tab_shows_danger_points_photos_and_clocks(loop_site, page_for):
    site = loop_site
    for size, (width, height) in SIZES.items():
        page = page_for(width, height)
        sign_in(page, site["url"], "town_reviewer")
        page.goto(f"{site['url']}/review/todo/suspected")
        item = page.locator(f"#visit-{site['visit_id']}")
        text = item.inner_text()
        assert "5日内上报" in text and "7日内鉴定" in text and "还剩" in text
        assert "承重墙体：裂缝" in text and "后墙开裂约2米" in text
        assert item.locator("ul.strip img").evaluate("i => i.complete && i.naturalWidth > 0")
        no_sideways_scroll(page)
        screenshot(page, f"loop-suspected-{size}", full_page=True)
        # Its household has a page of its own, with the visit and the photo.
        item.locator("a.todo-name").click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == site["household"]
        assert page.locator(f"#visit-{site['visit_id']}").is_visible()
        assert page.locator(f"a[href='/review/photos/{site['photo']}']").count() >= 1
        no_sideways_scroll(page)
        screenshot(page, f"loop-household-{size}", full_page=True)
        assert page.errors == []


DESK_PAGES = {"todo": "/review/todo", "reviews": "/review/todo/reviews",
              "suspected-tab": "/review/todo/suspected", "case-household":
              "/review/households/{case_household_id}", "photo": "/review/photos/{far}",
              "plot": "/review/cases/{case_id}/plot", "round": "/review/rounds/{round_id}"}


@pytest.mark.parametrize("size", SIZES)
def test_desk_pages_of_the_loop_fit_the_screen(loop_site, page_for, size):
    """Each page the loop touches, at 360 px and 1366 px: no sideways page scroll, every
    button inside the screen and tall enough to press."""
    site = loop_site
    page = page_for(*SIZES[size])
    sign_in(page, site["url"], "town_reviewer")
    width = SIZES[size][0]
    for name, path in DESK_PAGES.items():
        page.goto(site["url"] + path.format(**site))
        no_sideways_scroll(page)
        for i in range(page.locator("main .button:visible, main button:visible").count()):
            b = page.locator("main .button:visible, main button:visible").nth(i).bounding_box()
            assert b["x"] >= 0 and b["x"] + b["width"] <= width + 0.5, (name, i, b)
            assert b["height"] >= 28, (name, i, b)
        screenshot(page, f"loop-page-{name}-{size}", full_page=True)
        assert page.errors == [], name
