"""One case from the application to the county's acceptance, on the desk pages only, in real
Chromium: every action through its form, its documents uploaded in the same form.

Only what an inspector does on the phone (photos and visits) is recorded through the services
beside the pages. The dates typed into the forms walk the procedure's periods: applied 40 days
ago, the village notice up for 7 days, the town's for 7, the departments silent for 26.
Screenshots: build/screenshots/desk-{todo,case,apply}-{1366,360}.png.
"""

from datetime import UTC, date, datetime, timedelta

import pytest

from backend.api.visits import VisitBodySchema  # the phone's body, as the API parses it
from backend.extensions import db
from backend.models import Appraisal, Case, User
from backend.models.base import china_today
from backend.services import visits
from backend.services.policy import Actor
from tests import factories
from tests.browser.conftest import browser_app, screenshot, serving, sign_in
from tests.web import record, upload

pytestmark = pytest.mark.browser
TODAY = china_today()
D = TODAY - timedelta(days=40)
PDF = b"%PDF-1.4\n% test document\n%%EOF\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    app = browser_app(tmp_path_factory.mktemp("procedure-live"))
    with app.app_context():
        w = factories.world(db.session)
        h = w.households[w.village_a1]
        db.session.add(Appraisal(
            household_id=h.id, grade="D", appraised_on=D - timedelta(days=20),
            appraiser="山阴县房屋鉴定站", filed_on=D - timedelta(days=10), signatures=[
                {"role": "民主监督员", "name": "赵一"}, {"role": "村委负责人", "name": "钱二"},
                {"role": "乡镇负责人", "name": "孙三"}]))
        db.session.commit()
        ids = {"household": h.id, "inspector": w.users["inspector"].id}
        db.session.remove()
    with serving(app) as url:
        yield {"url": url, "app": app, **ids}


def document(tmp_path, name: str) -> str:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(PDF + name.encode())
    return str(path)


def act(page, label, *, on: date | None = None, fields=None, files=None, tmp_path=None):
    """Open the action's form on the case page, fill it, send it, and expect no refusal."""
    form = page.locator("details.action", has=page.locator("summary", has_text=label))
    if not form.evaluate("details => details.open"):
        form.locator("summary").click()
    for name, value in (fields or {}).items():
        field = form.locator(f"[name={name}]")
        if field.get_attribute("type") == "radio" or name in ("outcome", "result"):
            form.locator(f"[name={name}][value={value}]").check()
        elif field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    for kind in files or ():
        form.locator(f"input[name=doc-{kind}]").set_input_files(document(tmp_path, kind))
    if on is not None:
        form.locator("input[name=effective_on]").fill(on.isoformat())
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert not page.locator("#action-error").count(), page.locator("#action-error").inner_text()
    assert "已办理" in page.locator(".notice").inner_text()


def stage(page) -> str:
    return page.locator("#workflow-h").inner_text()


def test_a_case_walks_the_procedure_on_the_desk(site, page_for, tmp_path):
    url, app = site["url"], site["app"]
    page = page_for(1366, 900)

    # 村委会 enters the household's application with a family member and its form.
    sign_in(page, url, "village_cadre")
    page.goto(f"{url}/review/households/{site['household']}/apply")
    page.fill("input[name=applied_on]", D.isoformat())
    page.fill("input[name=member-0-name]", "王小明")
    page.fill("input[name=member-0-id_number]", "11010519491231002")
    assert page.locator("[data-id-problem]").first.is_visible()  # checked as typed
    page.fill("input[name=member-0-id_number]", factories.id_number())
    assert not page.locator("[data-id-problem]").first.is_visible()
    page.fill("input[name=member-0-relation]", "子")
    page.fill("textarea[name=reason]", "承重墙开裂，屋面漏雨")
    page.set_input_files("input[name=doc-application_form]", document(tmp_path, "申请书"))
    screenshot(page, "desk-apply-1366", full_page=True)
    page.click("form[data-application] button[type=submit]")
    page.wait_for_load_state()
    assert "已登记改造申请" in page.locator(".notice").inner_text()
    case_url = page.url.split("?")[0]

    act(page, "提交申请", on=D)
    act(page, "审核通过", on=D, files=["meeting_minutes"],
        fields={"note": "四议两公开，同意上报"}, tmp_path=tmp_path)
    act(page, "张榜公示", on=D, fields={"report_phone": "0349-7021234"},
        files=["publicity_photo"], tmp_path=tmp_path)
    act(page, "公示期满", on=D + timedelta(days=7))
    assert "乡镇审核" in stage(page)

    sign_in(page, url, "town_reviewer")
    page.goto(case_url)
    form = page.locator("details.action", has=page.locator("summary", has_text="审核通过"))
    form.locator("summary").click()
    for box in form.locator("input[name=checks]").all():  # 003 §四(三): each one verified
        box.check()
    act(page, "审核通过", on=D + timedelta(days=7), files=["review_form"], tmp_path=tmp_path)
    act(page, "张榜公示", on=D + timedelta(days=7), fields={"report_phone": "0349-7020000"},
        files=["publicity_photo"], tmp_path=tmp_path)
    act(page, "公示期满", on=D + timedelta(days=14))
    # The eight departments had 10 working days and said nothing: passed by silence.
    assert page.locator("text=逾期未回复，视为合格").count() == 8
    act(page, "比对完成")
    # 核定补助 first: approval checks the county's rules on the plan, then fixes it.
    funding = page.locator("#money details.action",
                           has=page.locator("summary", has_text="核定补助"))
    if not funding.evaluate("details => details.open"):
        funding.locator("summary").click()
    funding.locator("input[name=central]").fill("25000")
    funding.locator("input[name=planned_area_m2]").fill("54")
    funding.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "已保存核定补助" in page.locator(".notice").inner_text()
    act(page, "批准", fields={"note": "核准拆除重建，补助 2.5 万元"})
    act(page, "签订协议", files=["agreement"], tmp_path=tmp_path)
    assert "已签订协议" in stage(page)

    # The inspector's phone: the first construction visit starts the works, photos of each
    # phase, the completion visit completes them.
    with app.app_context():
        case = db.session.query(Case).one()
        inspector = Actor.of(db.session.get(User, site["inspector"]))
        household = case.household
        before = upload(db.session, inspector, household, phase="before", seed=71,
                        node="site", item="site.safety", case_id=case.id, days_ago=0.01)
        record(db.session, inspector, case, phase="during", days_ago=0.005, results=[
            {"item": "foundation.type", "result": "pass",
             "photos": [upload(db.session, inspector, household, phase="during", seed=72,
                               node="foundation", item="foundation.type", case_id=case.id,
                               days_ago=0.006)]}])
        after = [upload(db.session, inspector, household, phase="after", seed=73 + i, node=node,
                        item=item, case_id=case.id, days_ago=0.004)
                 for i, (node, item) in enumerate([("basis", "basis.site"),
                                                   ("structure", "structure.walls")])]
        now = datetime.now(UTC)
        signoffs = [{"role": role, "name": name, "signed_at": now.isoformat()} for role, name
                    in (("town", "岱岳镇 李工"), ("household", "王建国"), ("builder", "赵师傅"))]
        raw = {"household_id": household.id, "case_id": case.id, "kind": "completion",
               "phase": "after", "template": {"code": "completion"},
               "started_at": (now - timedelta(minutes=30)).isoformat(),
               "ended_at": (now - timedelta(minutes=5)).isoformat(), "signoffs": signoffs,
               "appraisal_after": "A", "results": [
                   {"item": "basis.site", "result": "pass", "photos": [after[0]]},
                   {"item": "structure.walls", "result": "pass", "photos": [after[1]]}]}
        visits.record_visit(db.session, inspector, "7b1f0c5e-3f5a-4d7e-9a51-2c4f6d8e9a10",
                            VisitBodySchema().load(raw), rules=visits.VisitRules(),
                            digest=visits.body_hash(raw))
        assert before and db.session.get(Case, case.id).status == "completed"
        db.session.remove()

    page.goto(case_url)
    assert "乡镇验收" in stage(page)
    blocked = page.locator(".blocked").inner_text()
    assert "竣工验收检查记录尚未审核通过" in blocked and "档案缺少：户主照片" in blocked
    # The town approves the completion visit, then files the archive's missing papers.
    page.locator("#visit-7b1f0c5e-3f5a-4d7e-9a51-2c4f6d8e9a10 button[value=approve]").click()
    page.wait_for_load_state()
    page.goto(case_url)
    for kind, label in (("household_register", "户口簿及身份证明"),
                        ("income_proof", "低保/五保/残疾/收入证明"),
                        ("head_photo", "户主照片"), ("appraisal_report", "鉴定报告")):
        form = page.locator("form", has=page.locator("select[name=kind]"))
        form.locator("select[name=kind]").select_option(kind)
        form.locator("input[name=file]").set_input_files(document(tmp_path, kind))
        form.locator("button", has_text="上传附件").click()
        page.wait_for_load_state()
        assert label in page.locator("#workflow .docs").inner_text()
    waiting = page.locator(".blocked").all_inner_texts()
    assert not any("验收合格" in text for text in waiting), waiting
    act(page, "验收合格", fields={"note": "乡镇实地验收合格"})
    assert "县级验收" in stage(page)

    # 住建 and 财政 co-sign the county's acceptance.
    sign_in(page, url, "county_admin")
    page.goto(case_url)
    act(page, "验收合格", files=["acceptance_form"], tmp_path=tmp_path,
        fields={"area_m2": "54", "cost_yuan": "61000"})  # the house as built
    assert "县级验收" in stage(page)
    sign_in(page, url, "finance")
    page.goto(case_url)
    act(page, "验收合格", fields={"note": "财政局会签"})
    assert "待拨付" in stage(page)
    screenshot(page, "desk-case-1366", full_page=True)
    history = page.locator("#workflow details").last
    history.locator("summary").click()
    assert history.locator("tbody tr").count() >= 20
    assert not page.errors


@pytest.mark.parametrize("size", [(1366, 900), (360, 800)])
def test_todo_and_case_pages_fit_a_desk_and_a_phone(site, page_for, size):
    url = site["url"]
    page = page_for(*size)
    sign_in(page, url, "town_reviewer")
    page.goto(f"{url}/review/todo")
    assert page.locator("h1", has_text="待办").count() == 1
    screenshot(page, f"desk-todo-{size[0]}", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
    page.goto(f"{url}/review/cases/1")  # the case the walk above took to acceptance
    assert page.locator("#workflow-h").count() == 1
    screenshot(page, f"desk-case-{size[0]}", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
    if size[0] == 360:
        page.goto(f"{url}/review/households/{site['household']}/apply")
        screenshot(page, "desk-apply-360", full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
    assert not page.errors
