"""The household and user pages in real headless Chromium, at 360×800 and at 1366×900.

A county administrator registers a household (first with a wrong ID number, refused beside the
field), finds it in the list, then creates a user with a generated password and sees them in
the list. Screenshots go to build/screenshots/desk-households-*.png and desk-users-*.png.
"""

from datetime import date

import pytest

from backend.extensions import db
from backend.models import Appraisal
from tests import factories
from tests.browser.conftest import browser_app, no_sideways_scroll, screenshot, serving

pytestmark = pytest.mark.browser
NAMES = ("王建国", "李秀兰", "张卫东", "刘桂花", "陈永福", "杨玉梅", "赵长顺", "黄春燕", "周德明")
CATEGORY_CYCLE = ("dibao", "tekun", "lifted_supported", "ordinary", "edge_at_risk")


@pytest.fixture(scope="module")
def admin_site(tmp_path_factory):
    """A live server with a county of households, one with a case and a signed appraisal."""
    app = browser_app(tmp_path_factory.mktemp("admin-live"))
    with app.app_context():
        w = factories.world(db.session)
        w.users["county_admin"].name = "孙管理"
        for i, name in enumerate(NAMES):
            factories.household(db.session, (w.village_a1, w.village_a2, w.village_b1)[i % 3],
                                name=name, category=CATEGORY_CYCLE[i % 5],
                                group_name=f"第{i % 4 + 1}组")
        h = w.households[w.village_a1]
        factories.case(db.session, h, status="in_progress")
        appraisal = db.session.query(Appraisal).filter_by(household_id=h.id).one()
        appraisal.signatures = [{"role": "民主监督员", "name": "周监督"},
                                {"role": "村委负责人", "name": "吴主任"}]
        appraisal.filed_on = date(2026, 3, 5)
        db.session.commit()
        site = {"appraised": h.id}
        db.session.remove()
    with serving(app) as url:
        yield {**site, "url": url}


def login(page, url, next_path):
    page.goto(f"{url}/review/login?next={next_path}")
    page.fill("input[name=username]", "county_admin")
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


@pytest.mark.parametrize("size", [(360, 800), (1366, 900)])
def test_enter_a_household_and_a_user(admin_site, page_for, size):
    width, height = size
    site = admin_site["url"]
    page = page_for(width, height)
    login(page, site, "/review/households")
    assert page.locator("h1").inner_text() == "农户"
    assert page.locator("table.households tbody tr").count() >= 4 + len(NAMES)
    no_sideways_scroll(page)

    # Register a household: a wrong check digit is refused beside the field, the rest is kept.
    page.click("text=登记农户")
    page.wait_for_load_state()
    screenshot(page, f"desk-household-new-{width}")
    name = f"欧阳秀英{width}"
    number = factories.id_number(seed=width, born="19750621")
    page.fill("input[name=name]", name)
    page.fill("input[name=id_number]", number[:-1] + ("0" if number[-1] != "0" else "1"))
    page.fill("input[name=phone]", "13800001111")
    page.fill("input[name=family_size]", "4")
    # 民政 certified 特困 and 低保 both: the household counts under 低保户, first by priority
    page.check("input[name=identities][value=tekun]")
    page.check("input[name=identities][value=dibao]")
    page.select_option("select[name=village_code]", label="西坪村")
    page.fill("input[name=group_name]", "第二组")
    page.fill("input[name=address]", "西坪村后街8号")
    page.select_option("select[name=structure_type]", "土木")
    page.fill("input[name=year_built]", "1983")
    page.fill("input[name=floor_area_m2]", "64.5")
    page.click("form.household-form button[type=submit]")
    page.wait_for_load_state()
    assert "身份证号校验位错误" in page.locator("#id_number-error").inner_text()
    assert page.input_value("input[name=address]") == "西坪村后街8号"
    no_sideways_scroll(page)
    screenshot(page, f"desk-household-refused-{width}", full_page=True)
    assert page.is_checked("input[name=identities][value=tekun]")  # kept after the refusal
    page.fill("input[name=id_number]", number)
    page.click("form.household-form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == name
    assert "低保户" in page.locator(".tag.kind").inner_text()
    assert "另：分散供养特困人员" in page.locator("main").inner_text()
    assert "已登记该农户" in page.locator(".notice").inner_text()
    no_sideways_scroll(page)
    screenshot(page, f"desk-household-{width}", full_page=True)

    # The list finds it, masked nowhere for an administrator with the PII right.
    page.goto(f"{site}/review/households")
    page.fill("input[name=q]", number[-4:])
    page.click("form.search button[type=submit]")
    page.wait_for_load_state()
    rows = page.locator("table.households tbody tr")
    assert rows.count() == 1 and name in rows.first.inner_text()
    page.goto(f"{site}/review/households")
    no_sideways_scroll(page)
    screenshot(page, f"desk-households-{width}", full_page=True)

    # Import a ledger: the good row is kept, the bad ones are reported with their reasons.
    page.goto(f"{site}/review/households/import")
    good, other = (factories.id_number(seed=width, born=born) for born in ("19580101", "19600101"))
    ledger = "\n".join(["户主姓名,身份证号,村,重点对象类别,家庭人口",
                        f"马有才{width},{good},东坪村,低保户,2",
                        f"吴淑珍{width},110105194912310021,东坪村,,",
                        f"徐国庆{width},{other},不存在村,特困,两"])
    page.set_input_files("input[name=file]", files=[{
        "name": "台账.csv", "mimeType": "text/csv", "buffer": ledger.encode()}])
    page.click("form.admin-form button[type=submit]")
    page.wait_for_load_state()
    assert "已导入 1 户，2 行有误未导入" in page.locator(".notice").first.inner_text()
    assert page.locator("table.import-errors tbody tr").count() == 2
    no_sideways_scroll(page)
    screenshot(page, f"desk-household-import-{width}", full_page=True)

    # A household with its signed appraisal and its case.
    page.goto(f"{site}/review/households/{admin_site['appraised']}")
    assert "民主监督员：周监督" in page.locator("table.appraisals").inner_text()
    assert page.locator("table.cases-of a").inner_text() == "2026年度项目"
    no_sideways_scroll(page)
    screenshot(page, f"desk-household-appraised-{width}", full_page=True)

    # Create a user; the generated password is shown once and works.
    page.goto(f"{site}/review/users")
    page.click("text=新增用户")
    page.wait_for_load_state()
    username = f"xipo{width}"
    page.fill("input[name=username]", username)
    page.fill("input[name=name]", f"钱西坪{width}")
    page.fill("input[name=phone]", "13700002222")
    page.check("input[name=role][value=inspector]")
    page.check("label:has-text('西坪村') input[name=regions]")
    page.click("form.user-form button[type=submit]")
    page.wait_for_load_state()
    password = page.locator("#new-password").inner_text()
    assert len(password) == 12
    no_sideways_scroll(page)
    screenshot(page, f"desk-user-created-{width}", full_page=True)
    login_reply = page.request.post(f"{site}/api/v1/auth/login",
                                    data={"username": username, "password": password})
    assert login_reply.status == 200

    page.goto(f"{site}/review/users")
    row = page.locator("table.users tbody tr", has_text=username)
    assert "西坪村" in row.inner_text() and "检查员" in row.inner_text()
    no_sideways_scroll(page)
    screenshot(page, f"desk-users-{width}", full_page=True)
    assert page.errors == []
