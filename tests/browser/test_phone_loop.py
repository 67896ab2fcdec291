"""Issue 18 on a 360×800 phone in real Chromium: the server's rules before saving, nothing of a
discarded draft uploaded, offline unlock, returns reaching the phone and answered, the viewer."""

import json
import re
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from backend.extensions import db
from backend.models import Photo, Visit
from tests import factories
from tests.browser.conftest import screenshot
from tests.browser.test_inspector_app import log_in, outbox_summary, photo_files, wait_until

pytestmark = pytest.mark.browser


CASES: dict[int, int] = {}  # household id → the case this module made for it


@pytest.fixture
def live(live_server):
    return live_server


def phone(launch, profile, **overrides):
    context = launch(profile, **overrides)
    page = context.pages[0] if context.pages else context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    return context, page


def case_household(live, name: str) -> int:
    """A household of 东坪村 whose case is under construction (施工中)."""
    with live.app.app_context():
        h = factories.household(db.session, live.world.village_a1, name=name, lat=39.52, lon=112.81)
        CASES[h.id] = factories.case(db.session, h, status="in_progress").id
        household_id = h.id
        db.session.remove()
    return household_id


def api(live, method: str, path: str, role: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{live.url}/api/v1{path}", method=method, data=json.dumps(body).encode() if body else None,
        headers={"Authorization": f"Bearer {live.world.tokens[role]}",
                 "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read() or b"null")


def server_visit(live, household_id: int, item: str) -> dict:
    """A construction visit recorded through the API: `item` 合格 with no photo."""
    now = datetime.now(UTC)
    return api(live, "PUT", f"/visits/{uuid.uuid4()}", "inspector", {
        "household_id": household_id, "case_id": CASES[household_id], "kind": "construction",
        "phase": "during",
        "template": {"code": "rebuild"}, "started_at": (now - timedelta(minutes=20)).isoformat(),
        "ended_at": now.isoformat(), "results": [{"item": item, "result": "pass", "photos": []}],
        "photos": []})


QUEUE_A_VISIT = """window.app.outbox.addVisit(crypto.randomUUID(), {household_id: 1,
    kind: 'routine_survey', phase: 'before', template: {code: 'routine_survey'},
    started_at: new Date().toISOString(), ended_at: new Date().toISOString(), results: [],
    photos: []})"""


def photos_on_server(live, household_id: int) -> int:
    with live.app.app_context():
        n = db.session.scalar(select(func.count()).select_from(Photo)
                              .where(Photo.household_id == household_id))
        db.session.remove()
    return n


def stored_items(page) -> list:
    """Everything in the phone's outbox store, drafts' photos included."""
    return page.evaluate("import('/static/app/db.js').then(db => db.all('outbox'))"
                         ".then(list => list.map(i => ({id: i.id, type: i.type, held: !!i.held})))")


def open_visit(page, url: str, household_id: int) -> None:
    page.goto(f"{url}/app/#/h/{household_id}/visit")
    page.wait_for_selector("#visit[data-template]")
    page.wait_for_selector("#gps:has-text('已定位')")


def item(page, code: str):
    return page.locator(f"[data-item='{code}']")


def shoot(page, code: str, tmp_path) -> None:
    item(page, code).locator("input[data-capture=camera]").set_input_files(
        str(photo_files(tmp_path, 1)[0]))


def in_view(page, selector: str) -> bool:
    return page.evaluate("""sel => { const r = document.querySelector(sel).getBoundingClientRect();
        return r.top >= 0 && r.top < innerHeight; }""", selector)


def become_visible(page) -> None:
    """What the phone does when the inspector comes back to the app (no tap on 刷新)."""
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")


def test_required_photo_before_saving_and_errors_link_to_their_items(live, launch, tmp_path):
    household_id = case_household(live, "赵须拍")
    context, page = phone(launch, "required")
    log_in(page, live.url)
    open_visit(page, live.url, household_id)
    # A case under construction: 施工巡查 in 改造中, its current stage's first node open, 0/22.
    assert page.input_value("#kind") == "construction" and page.input_value("#phase") == "during"
    assert page.inner_text("#form-progress strong") == "0/22"
    assert page.get_attribute("[data-node=trench]", "open") is not None
    assert page.get_attribute("[data-node=roof]", "open") is None
    item(page, "trench.soil").locator("label.pass").click()
    assert page.inner_text("#form-progress strong") == "1/22"
    page.click("[data-node=roof] summary")
    item(page, "roof.truss").locator("label.pass").click()
    page.click("[data-node=roof] summary")  # closed again, far down the form
    page.click("#save")
    page.wait_for_selector("#problems a[data-goto='item-roof.truss']")
    problems = page.inner_text("#problems")
    assert "「屋架」须拍照" in problems or "须拍照" in problems
    assert problems.count("须拍照") == 2
    assert outbox_summary(page)["visits"] == 0  # not saved
    screenshot(page, "phone-18-required-photo")

    page.click("#problems a[data-goto='item-roof.truss']")
    page.wait_for_function("document.querySelector('[data-node=roof]').open")
    page.wait_for_timeout(300)
    assert in_view(page, "#item-roof\\.truss")
    screenshot(page, "phone-18-error-link")

    shots = photo_files(tmp_path, 2)
    item(page, "roof.truss").locator("input[data-capture=camera]").set_input_files(str(shots[0]))
    item(page, "trench.soil").locator("input[data-capture=camera]").set_input_files(str(shots[1]))
    page.wait_for_function("document.querySelectorAll('img[data-preview][src^=blob]').length === 2")
    page.click("#save")
    page.wait_for_selector(f"#view a[href='#/h/{household_id}/visit']")
    wait_until(lambda: outbox_summary(page)["total"] == 0)
    with live.app.app_context():
        visit = db.session.scalars(select(Visit).where(Visit.household_id == household_id)).one()
        assert {r.item_code for r in visit.results} == {"trench.soil", "roof.truss"}
        assert all(len(r.photo_ids) == 1 for r in visit.results)
        db.session.remove()


def test_discarded_draft_uploads_nothing(live, launch, tmp_path):
    household_id = case_household(live, "钱放弃")
    context, page = phone(launch, "discard")
    log_in(page, live.url)
    open_visit(page, live.url, household_id)
    shots = photo_files(tmp_path, 2)
    for shot in shots:
        item(page, "trench.soil").locator("input[data-capture=camera]").set_input_files(str(shot))
    page.wait_for_function("document.querySelectorAll('img[data-preview][src^=blob]').length === 2")
    # Every upload trigger fires while the draft is open: its photos are not sent.
    page.evaluate("window.app.outbox.drain({manual: true})")
    become_visible(page)
    page.wait_for_timeout(1500)
    assert [i["held"] for i in stored_items(page)] == [True, True]
    assert page.get_attribute("#outbox-badge", "data-count") == "0"
    page.click("#discard")
    page.wait_for_selector(f"#view a[href='#/h/{household_id}/visit']")
    assert stored_items(page) == []
    page.evaluate("window.app.outbox.drain({manual: true})")
    page.wait_for_timeout(500)
    assert photos_on_server(live, household_id) == 0


def test_offline_login_after_logout_and_its_lock(live, launch):
    context, page = phone(launch, "unlock")
    log_in(page, live.url)
    old_token = page.evaluate("window.app.store.session()")["token"]
    context.set_offline(True)
    page.evaluate(QUEUE_A_VISIT)
    page.goto(f"{live.url}/app/#/outbox")
    page.wait_for_selector("#logout")
    assert page.is_disabled("#drain")  # offline: nothing to press
    assert "离线" in page.inner_text("#drain-why")
    page.click("#logout")
    page.wait_for_selector("#login")

    # The same user, no network, the right password: back in, the outbox as it was.
    page.fill("#username", "inspector")
    page.fill("#password", factories.PASSWORD)
    page.click("#login button[type=submit]")
    page.wait_for_selector("text=我的农户")
    page.wait_for_selector("#offline-login")
    assert outbox_summary(page)["visits"] == 1
    screenshot(page, "phone-18-offline-unlocked")

    page.goto(f"{live.url}/app/#/outbox")
    page.click("#logout")
    page.wait_for_selector("#login")
    page.fill("#username", "inspector")
    for left in (4, 3, 2, 1):
        page.fill("#password", "wrong-password")
        page.click("#login button[type=submit]")
        page.wait_for_selector(f"#login-error:has-text('还可尝试 {left} 次')")
    page.fill("#password", "wrong-password")
    page.click("#login button[type=submit]")
    page.wait_for_selector("#login-error:has-text('已锁定')")
    page.fill("#password", factories.PASSWORD)  # even the right one, until an online login
    page.click("#login button[type=submit]")
    page.wait_for_selector("#login-error:has-text('已锁定')")
    screenshot(page, "phone-18-offline-locked")
    assert outbox_summary(page)["visits"] == 1
    stored = page.evaluate("import('/static/app/db.js').then(db => db.kvGet('offline_login'))")
    assert stored["iterations"] >= 600_000 and factories.PASSWORD not in json.dumps(stored)

    # Back online: the token dropped at logout is revoked on the server; an online login works.
    context.set_offline(False)
    page.wait_for_function("""t => fetch('/api/v1/me', {headers: {Authorization: 'Bearer ' + t}})
        .then(r => r.status === 401)""", arg=old_token, timeout=15000)
    page.fill("#password", factories.PASSWORD)
    page.click("#login button[type=submit]")
    page.wait_for_selector("text=我的农户")
    assert page.evaluate("window.app.store.session()")["token"]


def test_return_reaches_the_phone_and_its_answer_clears_it(live, launch, tmp_path):
    household_id = case_household(live, "孙退回")
    visit = server_visit(live, household_id, "trench.soil")
    context, page = phone(launch, "returns")
    log_in(page, live.url)
    api(live, "POST", f"/visits/{visit['id']}/review", "town_reviewer",
        {"decision": "return", "comment": "基槽照片缺失，请补拍"})
    become_visible(page)  # no tap on 刷新
    page.wait_for_selector("#returns:has-text('基槽照片缺失，请补拍')")
    screenshot(page, "phone-18-return-notice")
    page.click(f"#returns a[href='#/h/{household_id}/answer/{visit['id']}']")
    page.wait_for_selector("#answering")
    assert page.get_attribute("[data-node=trench]", "data-group") == "answer"
    assert page.get_attribute("[data-node=trench]", "open") is not None
    shoot(page, "trench.soil", tmp_path)
    page.wait_for_selector("img[data-preview][src^=blob]")
    item(page, "trench.soil").locator("label.pass").click()
    screenshot(page, "phone-18-answer-form")
    page.click("#save")
    page.wait_for_selector(f"#view a[href='#/h/{household_id}/visit']")
    wait_until(lambda: outbox_summary(page)["total"] == 0)
    with live.app.app_context():
        answer = db.session.scalars(select(Visit)
                                    .where(Visit.answers_visit_id == visit["id"])).one()
        answer_id = answer.id
        db.session.remove()

    page.goto(f"{live.url}/app/#/")
    become_visible(page)
    page.wait_for_selector(f"#returned li[data-visit='{visit['id']}']:has-text('已重新提交')")
    api(live, "POST", f"/visits/{answer_id}/review", "town_reviewer", {"decision": "approve"})
    become_visible(page)
    page.wait_for_selector(f"#returned li[data-visit='{visit['id']}']", state="detached")


def test_a_sync_asked_for_while_one_runs_follows_it(live, launch):
    """The app comes back while a sync is on its way whose answer was read before the visit
    was returned: a sync after it brings the return, not only the 60 s timer."""
    household_id = case_household(live, "钱在途")
    visit = server_visit(live, household_id, "trench.soil")
    context, page = phone(launch, "in-flight")
    log_in(page, live.url)
    held = []

    def hold_the_first(route):
        if held:
            route.continue_()
        else:  # read by the server now, handed to the phone later
            held.append((route, route.fetch()))

    page.route(re.compile(r"/api/v1/visits\?mine=true"), hold_the_first)
    become_visible(page)
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the first sync never asked for my visits"
    api(live, "POST", f"/visits/{visit['id']}/review", "town_reviewer",
        {"decision": "return", "comment": "在途时退回"})
    become_visible(page)  # asked while the first sync still waits for its answer
    route, response = held[0]
    route.fulfill(response=response)
    page.wait_for_selector("#returns:has-text('在途时退回')", timeout=10000)


def test_supplied_required_photo_clears_missing(live, launch, tmp_path):
    household_id = case_household(live, "李缺照")
    server_visit(live, household_id, "foundation.type")
    context, page = phone(launch, "missing")
    log_in(page, live.url)
    page.goto(f"{live.url}/app/#/h/{household_id}")
    page.wait_for_selector("#missing li[data-item='foundation.type']")
    screenshot(page, "phone-18-missing")
    page.click("text=新建检查记录")
    page.wait_for_selector("#gps:has-text('已定位')")
    assert "缺照片" in item(page, "foundation.type").inner_text()
    if page.get_attribute("[data-node=foundation]", "open") is None:
        page.click("[data-node=foundation] summary")
    shoot(page, "foundation.type", tmp_path)
    page.wait_for_selector("img[data-preview][src^=blob]")
    item(page, "foundation.type").locator("label.pass").click()
    page.click("#save")
    page.wait_for_selector(f"#view a[href='#/h/{household_id}/visit']")
    wait_until(lambda: outbox_summary(page)["total"] == 0)
    page.reload()
    page.wait_for_selector("#timeline img[data-photo]")
    page.wait_for_timeout(500)
    assert page.locator("#missing li").count() == 0


def test_photo_viewer_zooms_and_says_the_flags(live, launch, tmp_path):
    household_id = case_household(live, "周看图")
    far = {"latitude": 39.60, "longitude": 112.90, "accuracy": 12}  # some 11 km from the house
    context, page = phone(launch, "viewer", geolocation=far)
    log_in(page, live.url)
    open_visit(page, live.url, household_id)
    shoot(page, "trench.soil", tmp_path)
    page.wait_for_selector("img[data-preview][src^=blob]")
    item(page, "trench.soil").locator("label.pass").click()
    page.click("#save")
    wait_until(lambda: outbox_summary(page)["total"] == 0)
    page.goto(f"{live.url}/app/#/h/{household_id}")
    page.wait_for_selector("#timeline img[data-photo][src^=blob]")
    caption = page.inner_text("#timeline figcaption")
    assert re.search(r"#\d+", caption), caption  # the server's stable number
    page.click("#timeline [data-open]")
    page.wait_for_selector("#viewer .viewer-stage img")
    assert "拍摄位置距房屋过远" in page.inner_text("#viewer .viewer-flags")
    # Two fingers spread apart: the photo grows.
    page.evaluate("""() => {
        const stage = document.querySelector('.viewer-stage');
        const ev = (type, id, x) => stage.dispatchEvent(new PointerEvent(type, {pointerId: id,
            clientX: x,
            clientY: 300, bubbles: true, pointerType: 'touch'}));
        ev('pointerdown', 1, 150); ev('pointerdown', 2, 210);
        ev('pointermove', 1, 60); ev('pointermove', 2, 300);
        ev('pointerup', 1, 60); ev('pointerup', 2, 300);
    }""")
    page.wait_for_function("Number(document.querySelector('#viewer img').dataset.zoom) > 2")
    screenshot(page, "phone-18-viewer")
    page.click("#viewer [data-close]")
    assert page.locator("#viewer").count() == 0


def test_survey_offers_outcomes_that_fit_and_no_phase(live, launch):
    with live.app.app_context():
        h = factories.household(db.session, live.world.village_a2, name="吴排查", lat=39.52,
                                lon=112.81)
        household_id = h.id
        db.session.remove()
    context, page = phone(launch, "survey-choices")
    log_in(page, live.url)
    page.goto(f"{live.url}/app/#/h/{household_id}/visit")
    page.wait_for_selector("#visit[data-kind=routine_survey]")
    assert page.locator("#phase").count() == 0
    offered = page.eval_on_selector_all("input[name=outcome]", "xs => xs.map(x => x.value)")
    assert offered == ["safe", "suspected_danger", "nobody_home", "house_gone"]
    screenshot(page, "phone-18-survey")


def test_export_file_is_named_in_local_time(live, launch):
    context, page = phone(launch, "export")
    log_in(page, live.url)
    context.set_offline(True)
    page.evaluate(QUEUE_A_VISIT)
    page.goto(f"{live.url}/app/#/outbox")
    page.wait_for_selector("#export")
    with page.expect_download() as download:
        page.click("#export")
    local = datetime.now(UTC).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    name = download.value.suggested_filename
    assert name.startswith(f"待上传-{local:%Y-%m-%d}-"), name
    assert page.inner_text("#outbox-badge") == "待上传 1 条"
    screenshot(page, "phone-18-outbox-offline")
