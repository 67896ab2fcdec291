"""The PWA's own machinery in real headless Chromium: updating the shell, the backoff timer,
Retry-After, Background Sync from the service worker, exporting the outbox, setting the house
location from the phone, and a completion visit (竣工验收) with its sign-offs."""

import base64
import hashlib
import json
import re
import time
from pathlib import Path

import pytest
from flask import jsonify, request
from sqlalchemy import func, select

from backend.extensions import db
from backend.models import Case, Household, Visit
from tests import factories
from tests.browser.conftest import HOUSE, screenshot
from tests.browser.test_inspector_app import (
    answer,
    log_in,
    outbox_summary,
    photo_files,
    queued_count,
    start_construction_visit,
    wait_until,
)

pytestmark = pytest.mark.browser
VISIT_PUTS = "**/api/v1/visits/*"


def phone(launch, profile: str, **options):
    """A fresh phone profile and its page; waits fail after 10 s rather than Playwright's 30."""
    context = launch(profile, **options)
    context.set_default_timeout(10_000)
    page = context.pages[0] if context.pages else context.new_page()
    return context, page


def new_household(live, name: str, *, case_status: str | None = None, **values) -> int:
    """A household of 西坪村 (in the inspector's town) that no other test touches."""
    with live.app.app_context():
        h = factories.household(db.session, live.world.village_a2, name=name, **values)
        if case_status:
            factories.case(db.session, h, status=case_status)
        household_id = h.id
        db.session.remove()
    return household_id


def visit_count(live, household_id: int) -> int:
    with live.app.app_context():
        n = db.session.scalar(select(func.count()).select_from(Visit)
                              .where(Visit.household_id == household_id))
        db.session.remove()
    return n


def record_safe_survey(page, household_id: int) -> None:
    """Fill and save a 常规排查 with the outcome 安全 for one household, through the form."""
    page.goto(page.url.split("#")[0] + f"#/h/{household_id}")
    page.click("text=新建检查记录")
    page.wait_for_selector("#kind")
    if page.input_value("#kind") != "routine_survey":
        page.select_option("#kind", "routine_survey")
    page.wait_for_selector("#visit[data-kind=routine_survey]")
    page.click("label[for=outcome-safe]")
    page.click("#save")
    page.wait_for_selector(f"a[href='#/h/{household_id}/visit']")


def open_outbox(page) -> None:
    """Open 待上传 through its badge: a same-document navigation keeps the page's timers."""
    page.click("#outbox-badge")
    page.wait_for_selector("#outbox-summary")


def put_times(page) -> list[float]:
    """Start recording when the page sends a visit (aborted or not), as monotonic seconds."""
    times: list[float] = []
    page.on("request", lambda r: times.append(time.monotonic())
            if r.method == "PUT" and "/api/v1/visits/" in r.url else None)
    return times


def sw_version(page) -> str:
    return page.evaluate("""() => new Promise((resolve) => {
        navigator.serviceWorker.addEventListener('message', (e) => resolve(e.data.version),
                                                 {once: true});
        navigator.serviceWorker.controller.postMessage('version');
    })""")


def served_version(client) -> str:
    with client.get("/app/sw.js") as res:
        return re.search(r'const VERSION = "([0-9a-f]{12})"', res.text).group(1)


# 1. A new shell version ---------------------------------------------------------------------

def test_new_version_is_offered_and_installed_keeping_the_outbox(shell_server, live_server,
                                                                   launch):
    household_id = new_household(live_server, "孙有田")
    context, page = phone(launch, "update")
    log_in(page, shell_server.url)
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    old = page.get_attribute("body", "data-version")
    assert old == served_version(shell_server.app.test_client()) == sw_version(page)

    # Something queued that cannot be sent yet (its uploads fail at the network level).
    context.route(VISIT_PUTS, lambda route: route.abort("connectionreset"))
    record_safe_survey(page, household_id)
    assert queued_count(page) == 1

    # The county ships a new shell: one changed stylesheet is a new version.
    css = shell_server.static / "app" / "app.css"
    css.write_text(css.read_text(encoding="utf-8") + "\n/* 2026-05 */\n", encoding="utf-8")
    new = served_version(shell_server.app.test_client())
    assert new != old

    page.reload()  # the inspector opens the app again; the browser checks the worker
    page.wait_for_selector("#update:has-text('有新版本可用')")
    assert page.get_attribute("body", "data-version") == old  # still the cached old shell
    screenshot(page, "pwa-01-update-offered")

    with page.expect_navigation():
        page.click("#update button:has-text('立即更新')")
    page.wait_for_selector("h1:has-text('孙有田')")  # back on the page it was showing
    assert page.get_attribute("body", "data-version") == new
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    assert sw_version(page) == new
    assert not page.is_visible("#update")
    assert page.evaluate("caches.keys()") == [f"shell-{new}"]  # the old shell-* cache is gone
    assert queued_count(page) == 1
    screenshot(page, "pwa-02-updated")

    # The queued record is intact: with the network back it reaches the server.
    context.unroute(VISIT_PUTS)
    open_outbox(page)
    page.click("#drain")
    wait_until(lambda: queued_count(page) == 0, timeout=10)
    assert visit_count(live_server, household_id) == 1


# 2. Retrying on a timer ---------------------------------------------------------------------

def test_backoff_timer_uploads_once_the_network_works(live_server, launch):
    household_id = new_household(live_server, "周桂兰")
    context, page = phone(launch, "backoff")
    log_in(page, live_server.url)
    attempts = put_times(page)
    context.route(VISIT_PUTS, lambda route: route.abort("connectionreset"))
    record_safe_survey(page, household_id)  # online: saving starts an upload, which fails
    open_outbox(page)
    page.wait_for_selector(".status.pending:has-text('无网络，联网后自动上传')")
    assert page.inner_text(".status.pending").count("自动") == 1  # said once
    assert queued_count(page) == 1 and visit_count(live_server, household_id) == 0
    screenshot(page, "pwa-03-outbox-retrying")

    context.unroute(VISIT_PUTS)
    failed = len(attempts)
    # No click, no online/offline event: only the backoff timer can send it now.
    wait_until(lambda: queued_count(page) == 0, timeout=12)
    assert visit_count(live_server, household_id) == 1
    assert len(attempts) == failed + 1
    gaps = [b - a for a, b in zip(attempts, attempts[1:], strict=False)]
    assert all(g > 1.5 for g in gaps), gaps  # a timer with a delay, not a busy loop
    page.wait_for_selector("text=没有待上传的内容")


def busy_server(attempts: list[float], *, times: int, retry_after: int):
    """A route handler: answer 503 with Retry-After `times` times, then let requests through."""
    def handle(route):
        attempts.append(time.monotonic())
        if len(attempts) > times:
            return route.continue_()
        return route.fulfill(status=503, headers={"Retry-After": str(retry_after)},
                             content_type="application/json",
                             body=json.dumps({"error": {"code": "busy", "message": "服务器繁忙"}}))
    return handle


def test_retry_after_is_honoured(live_server, launch):
    household_id = new_household(live_server, "吴来福")
    context, page = phone(launch, "retry-after")
    log_in(page, live_server.url)
    attempts: list[float] = []
    context.route(VISIT_PUTS, busy_server(attempts, times=2, retry_after=4))
    record_safe_survey(page, household_id)
    open_outbox(page)
    page.wait_for_selector(".status.pending:has-text('服务器繁忙')")
    screenshot(page, "pwa-04-outbox-server-busy")
    wait_until(lambda: queued_count(page) == 0, timeout=15)
    assert visit_count(live_server, household_id) == 1
    gaps = [round(b - a, 1) for a, b in zip(attempts, attempts[1:], strict=False)]
    assert len(attempts) == 3, gaps
    # The server said "not before 4 s" twice; the plain backoff would have retried after 2 s.
    assert all(g >= 3.9 for g in gaps), f"attempts {gaps} s apart, Retry-After: 4"


def test_a_long_retry_after_holds_automatic_drains_but_not_the_button(live_server, launch):
    household_id = new_household(live_server, "冯长庚")
    context, page = phone(launch, "retry-after-long")
    log_in(page, live_server.url)
    attempts: list[float] = []
    context.route(VISIT_PUTS, busy_server(attempts, times=1, retry_after=600))
    record_safe_survey(page, household_id)
    wait_until(lambda: len(attempts) == 1)
    # The busy answer is read once that drain ends; a drain asked for before then joins it.
    wait_until(lambda: not page.evaluate("window.app.outbox.isDraining()"))
    # What the app does by itself (timer, coming back to the app, the minute tick) waits.
    assert page.evaluate("window.app.outbox.drain()") == {"deferred": True}
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    time.sleep(0.5)
    assert len(attempts) == 1 and queued_count(page) == 1
    # The inspector's own 立即上传 goes now.
    open_outbox(page)
    page.click("#drain")
    wait_until(lambda: queued_count(page) == 0)
    assert len(attempts) == 2 and visit_count(live_server, household_id) == 1


# 3. Background Sync -------------------------------------------------------------------------

# The outbox's size, read from IndexedDB by any page of the site (db.js opens the same database).
OUTBOX_SIZE = "import('/static/app/db.js').then(db => db.all('outbox')).then(l => l.length)"


def test_background_sync_drains_the_outbox_from_the_service_worker(live_server, launch):
    household_id = new_household(live_server, "郑宝山")
    context, page = phone(launch, "bgsync", permissions=["geolocation", "background-sync"])
    log_in(page, live_server.url)
    assert page.evaluate("navigator.serviceWorker.ready.then(r => 'sync' in r)")

    context.set_offline(True)
    record_safe_survey(page, household_id)
    assert queued_count(page) == 1
    assert page.evaluate("navigator.serviceWorker.ready.then(r => r.sync.getTags())") == ["outbox"]
    page.close()  # the inspector leaves the app; no page of it is open any more
    assert context.pages == []
    assert visit_count(live_server, household_id) == 0

    context.set_offline(False)  # only the service worker's sync event can send it now
    wait_until(lambda: visit_count(live_server, household_id) == 1, timeout=15)

    page = context.new_page()
    page.goto(f"{live_server.url}/app/#/outbox")
    page.wait_for_selector("#outbox-summary")
    assert outbox_summary(page)["visits"] == 0
    assert page.evaluate("navigator.serviceWorker.ready.then(r => r.sync.getTags())") == []


def test_failed_background_sync_is_rescheduled_by_the_browser(shell_server, live_server, launch):
    """A sync whose uploads fail must fail, so Chromium fires it again after the worker is gone."""
    household_id = new_household(live_server, "钱有余")
    busy = {"on": True, "hits": 0}

    @shell_server.app.before_request
    def server_busy():
        if request.method == "PUT" and request.path.startswith("/api/v1/visits/") and busy["on"]:
            busy["hits"] += 1
            return jsonify(error={"code": "busy", "message": "服务器繁忙"}), 503
        return None

    context, page = phone(launch, "bgsync-retry", permissions=["geolocation", "background-sync"])
    log_in(page, shell_server.url)
    other = context.new_page()  # a page of the same site outside the app: it sends nothing
    other.goto(f"{shell_server.url}/healthz")
    cdp = context.new_cdp_session(other)
    events: list[dict] = []
    cdp.on("BackgroundService.backgroundServiceEventReceived",
           lambda e: events.append(e["backgroundServiceEvent"]))
    cdp.send("BackgroundService.startObserving", {"service": "backgroundSync"})
    cdp.send("BackgroundService.setRecording", {"shouldRecord": True, "service": "backgroundSync"})

    context.set_offline(True)
    record_safe_survey(page, household_id)
    page.close()
    context.set_offline(False)
    deadline = time.monotonic() + 10
    while not {"sync event failed", "Sync completed"} & {e["eventName"] for e in events}:
        assert time.monotonic() < deadline, [e["eventName"] for e in events]
        other.wait_for_timeout(100)  # lets Playwright deliver the CDP events
    names = [e["eventName"] for e in events]
    assert names[:3] == ["Registered sync", "Dispatched sync event", "sync event failed"], names
    failed = {m["key"]: m["value"] for m in events[2]["eventMetadata"]}
    assert failed["Failure Reason"] == "waitUntil rejected"
    assert int(failed["Next Attempt Delay (ms)"]) > 0  # the browser will fire it again
    assert busy["hits"] >= 1 and visit_count(live_server, household_id) == 0
    tags = "navigator.serviceWorker.getRegistration('/app/').then(r => r.sync.getTags())"
    assert other.evaluate(tags) == ["outbox"]
    assert other.evaluate(OUTBOX_SIZE) == 1

    # The server recovers. Fire the rescheduled sync now rather than in five minutes.
    busy["on"] = False
    cdp.send("ServiceWorker.enable")
    cdp.send("ServiceWorker.dispatchSyncEvent", {
        "origin": shell_server.url, "registrationId": events[0]["serviceWorkerRegistrationId"],
        "tag": "outbox", "lastChance": False})
    wait_until(lambda: visit_count(live_server, household_id) == 1, timeout=10)
    wait_until(lambda: other.evaluate(OUTBOX_SIZE) == 0, timeout=5)


# 4. Export ----------------------------------------------------------------------------------

def test_outbox_export_holds_every_item_with_its_photo_bytes(live_server, launch, tmp_path):
    household_id = new_household(live_server, "冯金凤", case_status="in_progress")
    context, page = phone(launch, "export")
    log_in(page, live_server.url)
    context.set_offline(True)
    page.goto(f"{live_server.url}/app/#/h/{household_id}")
    answer(page, start_construction_visit(page, photo_files(tmp_path, 4)), "墙体砂浆不饱满")
    page.click("#save")
    page.wait_for_selector(f"a[href='#/h/{household_id}/visit']")
    queued = page.evaluate("window.app.outbox.items().then(l => l.map(i => "
                           "({id: i.id, type: i.type, sha256: i.sha256 || null})))")
    assert sorted(i["type"] for i in queued) == ["photo"] * 4 + ["visit"]

    open_outbox(page)
    with page.expect_download() as caught:
        page.click("#export:has-text('导出待上传数据到文件')")
    download = caught.value
    page.wait_for_selector("#toast:has-text('已导出 5 项')")
    assert download.suggested_filename.startswith("待上传-")
    assert download.suggested_filename.endswith(".json")
    screenshot(page, "pwa-05-outbox-export")
    exported = json.loads(Path(download.path()).read_text(encoding="utf-8"))

    items = {i["id"]: i for i in exported["items"]}
    assert set(items) == {i["id"] for i in queued}
    photos = [i for i in items.values() if i["type"] == "photo"]
    for photo in photos:
        data = base64.b64decode(photo["bytes"], validate=True)
        assert data[:2] == b"\xff\xd8" and len(data) == photo["size"]
        assert hashlib.sha256(data).hexdigest() == photo["sha256"]
    (visit,) = (i for i in items.values() if i["type"] == "visit")
    assert visit["body"]["household_id"] == household_id
    sent = {p for r in visit["body"]["results"] for p in r["photos"]} | set(visit["body"]["photos"])
    assert sent == {p["id"] for p in photos}
    assert queued_count(page) == 5  # exporting keeps everything queued


# 5. House location from the phone -----------------------------------------------------------

AT_DOOR = {"latitude": 39.53117, "longitude": 112.82342, "accuracy": 8}


def household_location(live, household_id: int) -> tuple[float | None, float | None, str | None]:
    with live.app.app_context():
        h = db.session.get(Household, household_id)
        found = (h.lat, h.lon, h.location_source)
        db.session.remove()
    return found


def test_set_house_location_here(live_server, launch):
    household_id = new_household(live_server, "陈满仓", lat=39.52, lon=112.81)
    context, page = phone(launch, "locate", geolocation=AT_DOOR)
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/app/#/h/{household_id}")
    page.wait_for_selector("#distance:has-text('米')")
    assert page.inner_text("#loc") == "39.52000, 112.81000"
    assert "公里" in page.inner_text("#distance")  # about 1.7 km from the recorded spot

    # Offline: it says the network is needed and changes nothing, here or on the server.
    context.set_offline(True)
    page.click("#set-location")
    page.wait_for_selector("#toast:has-text('无网络，联网后再设置房屋位置')")
    screenshot(page, "pwa-06-location-offline")
    assert page.inner_text("#loc") == "39.52000, 112.81000"
    assert page.is_enabled("#set-location")
    assert household_location(live_server, household_id) == (39.52, 112.81, None)

    context.set_offline(False)
    page.click("#set-location")
    page.wait_for_selector("#toast:has-text('已设置房屋位置')")
    page.wait_for_selector("#loc:has-text('39.53117, 112.82342')")
    assert household_location(live_server, household_id) == (
        AT_DOOR["latitude"], AT_DOOR["longitude"], "inspector")
    page.wait_for_selector("#distance:has-text('米（定位精度 ±8 米）')")
    metres = int(re.match(r"(\d+) 米", page.inner_text("#distance")).group(1))
    assert metres <= 5
    screenshot(page, "pwa-07-location-set")

    # The phone's copy is updated too: it still shows after a restart offline.
    context.set_offline(True)
    page.reload()
    page.wait_for_selector("#loc:has-text('39.53117, 112.82342')")


# 6. Completion visit ------------------------------------------------------------------------

SIGNERS = {"town": "岱岳镇 李卫东", "household": "韩春生", "builder": "王师傅"}


def test_completion_visit_needs_signoffs_and_reaches_the_server(live_server, launch):
    household_id = new_household(live_server, "韩春生", case_status="in_progress")
    context, page = phone(launch, "completion")
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/app/#/h/{household_id}")
    page.click("text=新建检查记录")
    page.wait_for_selector("#kind")
    page.select_option("#kind", "completion")
    page.wait_for_selector("#visit[data-kind=completion][data-template=completion]")
    assert page.locator("#phase").count() == 0  # a completion visit is 改造后: no choice shown

    def item(code):
        return page.locator(f"[data-item='{code}']")

    item("basis.appraisal").locator("label.pass").click()
    item("basis.area").locator("label.pass").click()
    item("basis.area").locator("input[data-field=value]").fill("86")
    item("structure.foundation").locator("label.pass").click()
    page.select_option("#appraisal_after", "B")
    page.locator("[data-signoff=town]").fill(SIGNERS["town"])

    page.click("#save")
    page.wait_for_selector("#problems .error")
    problems = page.inner_text("#problems")
    assert "缺少签字：农户、施工方/工匠" in problems
    assert "乡镇验收人员" not in problems
    assert queued_count(page) == 0 and visit_count(live_server, household_id) == 0
    screenshot(page, "pwa-08-completion-signoffs-missing")

    page.locator("[data-signoff=household]").fill(SIGNERS["household"])
    page.locator("[data-signoff=builder]").fill(SIGNERS["builder"])
    page.locator("[data-signoff=builder]").scroll_into_view_if_needed()
    screenshot(page, "pwa-09-completion-signed")
    page.click("#save")
    page.wait_for_selector(f"a[href='#/h/{household_id}/visit']")
    wait_until(lambda: visit_count(live_server, household_id) == 1, timeout=10)
    wait_until(lambda: queued_count(page) == 0, timeout=5)

    with live_server.app.app_context():
        visit = db.session.scalars(select(Visit).where(Visit.household_id == household_id)).one()
        assert visit.kind == "completion" and visit.phase == "after"
        assert visit.appraisal_after == "B"
        assert {s["role"]: s["name"] for s in visit.signoffs} == SIGNERS
        assert all(s["signed_at"] for s in visit.signoffs)
        assert {r.item_code: r.result for r in visit.results} == {
            "basis.appraisal": "pass", "basis.area": "pass", "structure.foundation": "pass"}
        assert visit.device_lat == pytest.approx(HOUSE["latitude"])
        case = db.session.get(Case, visit.case_id)
        assert case.status == "completed"  # an acceptance marks the works completed
        db.session.remove()
