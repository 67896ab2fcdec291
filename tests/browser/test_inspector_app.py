"""The inspector PWA in real headless Chromium: offline visit with photos, restart, sync once."""

import json
import random
import time
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backend.extensions import db
from backend.models import Photo, Visit
from backend.services import accounts
from tests import factories
from tests.browser.conftest import HOUSE, screenshot
from tests.images import make_jpeg

pytestmark = pytest.mark.browser
REBUILD = json.loads((Path(__file__).resolve().parents[2] / "backend/checklists/rebuild.json")
                     .read_text(encoding="utf-8"))


def node_item(node_code: str) -> dict:
    node = next(n for n in REBUILD["nodes"] if n["code"] == node_code)
    return node["items"][0]


def photo_files(tmp_path, n: int) -> list[Path]:
    paths = []
    for i in range(n):
        path = tmp_path / f"shot{i}.jpg"
        path.write_bytes(make_jpeg(1600, 1200, seed=i + 1, pattern="noisy", make="Xiaomi",
                                   taken_at=datetime(2026, 5, 1, 10, i)))
        paths.append(path)
    return paths


def log_in(page, url: str, username: str = "inspector") -> None:
    page.goto(f"{url}/app/")
    page.wait_for_selector("#login")
    page.fill("#username", username)
    page.fill("#password", factories.PASSWORD)
    page.click("#login button[type=submit]")
    page.wait_for_selector("text=我的农户")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")


def outbox_summary(page) -> dict:
    return page.evaluate("window.app.outbox.summary()")


# Keep a copy of the outbox in the page (to replay later) and return each item's first bytes.
DUMP_OUTBOX = """window.app.outbox.items().then(list => {
    window.__copy = list;
    return list.map(i => ({...i,
        bytes: i.bytes ? Array.from(new Uint8Array(i.bytes, 0, 64)) : null}));
})"""


def network_state(page) -> str:
    """Whether a fetch from the page reaches the server (keeps the offline emulation honest)."""
    return page.evaluate("fetch('/api/v1/checklists').then(() => 'online', () => 'offline')")


def queued_count(page) -> int:
    summary = outbox_summary(page)
    return summary["total"]


def wait_until(predicate, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def server_counts(live, household_id: int) -> tuple[int, int]:
    with live.app.app_context():
        photos = db.session.scalar(select(func.count()).select_from(Photo)
                                   .where(Photo.household_id == household_id))
        visits = db.session.scalar(select(func.count()).select_from(Visit)
                                   .where(Visit.household_id == household_id))
        db.session.remove()
    return photos, visits


def start_construction_visit(page, shots) -> dict:
    """Open the new-visit page of the household on screen and shoot four photos on three nodes."""
    page.click("text=新建检查记录")
    page.wait_for_selector("#kind")
    page.select_option("#kind", "construction")
    page.wait_for_selector("#template option[value=rebuild]", state="attached")
    page.select_option("#template", "rebuild")
    page.wait_for_selector("#visit[data-kind=construction][data-template=rebuild]")
    page.wait_for_selector("[data-node=trench][open]")  # the stage the works are at: its first node
    page.wait_for_selector("#gps:has-text('已定位')")

    foundation, wall, ring = node_item("foundation"), node_item("wall"), node_item("ring_beam")
    for node in ("foundation", "wall", "ring_beam"):
        if page.get_attribute(f"[data-node={node}]", "open") is None:
            page.click(f"[data-node={node}] summary")

    def item(code):
        return page.locator(f"[data-item='{code}']")

    item(foundation["code"]).locator("input[data-capture=camera]").set_input_files(str(shots[0]))
    item(foundation["code"]).locator("input[data-capture=gallery]").set_input_files(str(shots[1]))
    item(wall["code"]).locator("input[data-capture=camera]").set_input_files(str(shots[2]))
    item(ring["code"]).locator("input[data-capture=camera]").set_input_files(str(shots[3]))
    try:
        page.wait_for_function("document.querySelectorAll('img[data-preview]').length === 4")
    except Exception:
        print("THUMBS", page.eval_on_selector_all(".thumbs", "els => els.map(e => e.innerHTML)"))
        raise
    return {"foundation": foundation, "wall": wall, "ring": ring, "item": item}


def answer(page, items: dict, wall_note: str | None) -> None:
    item = items["item"]
    for it in (items["foundation"], items["ring"]):
        item(it["code"]).locator("label.pass").click()
        if it["measure"]:
            m = it["measure"]
            value = m["min"] if m["min"] is not None else (m["max"] or 1)
            item(it["code"]).locator("input[data-field=value]").fill(str(value))
    item(items["wall"]["code"]).locator("label.fail").click()
    if wall_note:
        item(items["wall"]["code"]).locator("input[data-field=note]").fill(wall_note)


def test_offline_visit_survives_restart_and_syncs_once(live_server, launch, tmp_path):
    household = live_server.world.households[live_server.world.village_a1]
    shots = photo_files(tmp_path, 4)
    context = launch()
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(f"{live_server.url}/app/")
    page.wait_for_selector("#login")
    screenshot(page, "app-01-login")
    page.fill("#username", "inspector")
    page.fill("#password", "wrong-password")
    page.click("#login button[type=submit]")
    page.wait_for_selector("#login-error:not([hidden])")
    assert "用户名或密码" in page.inner_text("#login-error") or page.inner_text("#login-error")
    log_in(page, live_server.url)
    screenshot(page, "app-02-households")

    context.set_offline(True)
    assert network_state(page) == "offline"
    page.fill("#search", household.id_number[-4:])
    page.click(f"a[href='#/h/{household.id}']")
    page.wait_for_selector("text=新建检查记录")
    page.wait_for_selector("#distance:not(:has-text('正在定位'))")
    screenshot(page, "app-03-household")
    items = start_construction_visit(page, shots)
    answer(page, items, None)
    page.click("#save")
    page.wait_for_selector("#problems .error")
    assert "须填写问题说明" in page.inner_text("#problems")
    screenshot(page, "app-04-visit-rules")
    items["item"](items["wall"]["code"]).locator("input[data-field=note]").fill("墙体砂浆不饱满，需返工")
    page.click("#save")
    page.wait_for_selector(f"a[href='#/h/{household.id}/visit']")
    assert outbox_summary(page)["photos"] == 4
    assert outbox_summary(page)["visits"] == 1
    page.goto(f"{live_server.url}/app/#/outbox")
    page.wait_for_selector("#outbox-summary")
    screenshot(page, "app-05-outbox-offline")
    context.close()

    context = launch(offline=True)
    context.set_offline(True)
    page = context.pages[0] if context.pages else context.new_page()
    assert server_counts(live_server, household.id) == (0, 0)
    page.goto(f"{live_server.url}/app/#/outbox")
    page.wait_for_selector("#outbox-summary")
    summary = outbox_summary(page)
    assert (summary["photos"], summary["visits"]) == (4, 1)
    assert server_counts(live_server, household.id) == (0, 0)
    queued = page.evaluate(DUMP_OUTBOX)
    for photo in (i for i in queued if i["type"] == "photo"):
        head = bytes(photo["bytes"])
        assert head[:2] == b"\xff\xd8" and photo["size"] < 700_000
        assert b"Exif" in head  # the camera's EXIF block carried over

    context.set_offline(False)  # the `online` event starts the drain, no button needed
    wait_until(lambda: queued_count(page) == 0)
    screenshot(page, "app-06-outbox-synced")
    assert server_counts(live_server, household.id) == (4, 1)

    # Replay the same items as a phone that lost the server's answers would: nothing new appears.
    page.evaluate("""async () => {
        const db = await import('/static/app/db.js');
        for (const i of window.__copy) {
            i.status = 'pending';
            await db.put('outbox', i);
        }
        await window.app.outbox.drain();
        while (window.app.outbox.isDraining()) await new Promise(r => setTimeout(r, 100));
        await window.app.outbox.drain();
    }""")
    assert queued_count(page) == 0
    assert server_counts(live_server, household.id) == (4, 1)

    with live_server.app.app_context():
        visit = db.session.scalars(select(Visit).where(Visit.household_id == household.id)).one()
        assert visit.kind == "construction"
        assert visit.device_lat == pytest.approx(HOUSE["latitude"])
        assert visit.device_lon == pytest.approx(HOUSE["longitude"])
        photos = db.session.scalars(select(Photo).where(Photo.household_id == household.id)).all()
        assert {p.node for p in photos} == {"foundation", "wall", "ring_beam"}
        assert all(p.device_lat == pytest.approx(HOUSE["latitude"]) for p in photos)
        assert all(p.device_accuracy_m == HOUSE["accuracy"] for p in photos)
        assert all(p.visit_id == visit.id for p in photos)
        assert all(p.exif_make == "Xiaomi" for p in photos)
        assert all(p.case_id == visit.case_id is not None for p in photos)
        db.session.remove()

    # The household's photo timeline, thumbnails included, stays readable offline.
    page.goto(f"{live_server.url}/app/#/h/{household.id}")
    page.wait_for_function("document.querySelectorAll('#timeline img[src^=blob]').length === 4")
    context.set_offline(True)
    page.reload()
    page.wait_for_function("document.querySelectorAll('#timeline img[src^=blob]').length === 4")
    page.locator("#timeline").scroll_into_view_if_needed()
    screenshot(page, "app-09-timeline-offline")


def test_app_shell_loads_offline_after_first_visit(live_server, launch):
    context = launch("shell")
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(f"{live_server.url}/app/")
    page.wait_for_selector("#login")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    context.close()

    context = launch("shell", offline=True)
    context.set_offline(True)
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(f"{live_server.url}/app/")
    page.wait_for_selector("#login")
    assert page.evaluate("!navigator.onLine")
    assert page.is_visible("text=离线模式")
    assert network_state(page) == "offline"
    screenshot(page, "app-00-offline-shell")


def test_flaky_network_ends_with_everything_uploaded_once(live_server, launch, tmp_path):
    """A third of uploads never reach the server, a third lose the answer: all arrive once."""
    household = live_server.world.households[live_server.world.village_a2]
    shots = photo_files(tmp_path, 4)
    context = launch("flaky")
    page = context.pages[0] if context.pages else context.new_page()
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/app/#/h/{household.id}")
    page.wait_for_selector("text=新建检查记录")
    context.set_offline(True)
    answer(page, start_construction_visit(page, shots), "墙体裂缝")
    page.click("#save")
    page.wait_for_selector(f"a[href='#/h/{household.id}/visit']")
    assert queued_count(page) == 5

    rng = random.Random(5)
    fates = {"before": 0, "after": 0, "through": 0}

    def flaky(route):
        if route.request.method != "PUT":
            return route.continue_()
        sent = sum(fates.values())
        fate = ("before", "after")[sent] if sent < 2 else rng.choice(list(fates))
        fates[fate] += 1
        if fate == "before":
            return route.abort("connectionreset")
        if fate == "after":
            route.fetch()  # the server stores it, the phone never hears back
            return route.abort("connectionreset")
        return route.continue_()

    context.route("**/api/v1/photos/*", flaky)
    context.route("**/api/v1/visits/*", flaky)
    context.set_offline(False)
    for _ in range(40):
        if queued_count(page) == 0:
            break
        page.evaluate("window.app.outbox.drain()")
    assert queued_count(page) == 0
    assert fates["before"] and fates["after"], fates
    assert server_counts(live_server, household.id) == (4, 1)
    with live_server.app.app_context():
        visit = db.session.scalars(select(Visit).where(Visit.household_id == household.id)).one()
        assert len({p for r in visit.results for p in r.photo_ids}) == 4
        db.session.remove()


def test_expired_login_and_rejected_visit_keep_the_outbox(live_server, launch, tmp_path):
    household = live_server.world.households[live_server.world.village_a1]
    before = server_counts(live_server, household.id)
    context = launch("expiry")
    page = context.pages[0] if context.pages else context.new_page()
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/app/#/h/{household.id}")
    page.wait_for_selector("text=新建检查记录")
    context.set_offline(True)
    answer(page, start_construction_visit(page, photo_files(tmp_path, 4)), "墙体裂缝")
    page.locator("[data-node=foundation]").scroll_into_view_if_needed()
    screenshot(page, "app-04-visit-photos")
    page.click("#save")
    page.wait_for_selector(f"a[href='#/h/{household.id}/visit']")
    page.evaluate("""async (householdId) => {
        const now = new Date();
        await window.app.outbox.addVisit(crypto.randomUUID(), {household_id: householdId,
            kind: 'construction', phase: 'during', template: {code: 'rebuild', version: 1},
            started_at: now.toISOString(), ended_at: new Date(now - 3600e3).toISOString(),
            results: [], photos: []});
    }""", household.id)
    assert queued_count(page) == 6

    token = page.evaluate("window.app.store.session()")["token"]
    with live_server.app.app_context():
        accounts.logout(db.session, token)
        db.session.remove()
    context.set_offline(False)
    page.goto(f"{live_server.url}/app/#/outbox")
    page.click("#drain")
    page.wait_for_selector("#auth:has-text('登录已过期')")
    assert queued_count(page) == 6
    assert server_counts(live_server, household.id) == before

    page.click("#auth a")
    page.wait_for_selector("#login")
    assert page.is_visible("text=待上传的照片和记录仍保存在本机")
    screenshot(page, "app-07-login-expired")
    page.fill("#password", factories.PASSWORD)
    page.click("#login button[type=submit]")
    page.wait_for_selector("text=我的农户")
    wait_until(lambda: queued_count(page) == 1)
    assert server_counts(live_server, household.id) == (before[0] + 4, before[1] + 1)
    page.goto(f"{live_server.url}/app/#/outbox")
    page.wait_for_selector(".status.failed")
    assert "结束时间早于开始时间" in page.inner_text("#view")
    screenshot(page, "app-08-outbox-rejected")


def test_wechat_browser_is_told_to_open_the_system_browser(live_server, launch):
    context = launch("wechat", user_agent="Mozilla/5.0 (Linux; Android 12) MicroMessenger/8.0.47")
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(f"{live_server.url}/app/")
    page.wait_for_selector("#wechat:has-text('在浏览器打开')")


@pytest.mark.parametrize(("username", "offered"), [("inspector", True), ("village_cadre", False)])
def test_appraisal_is_offered_only_to_who_may_appraise(live_server, launch, username, offered):
    context = launch(f"kinds-{username}")
    page = context.pages[0] if context.pages else context.new_page()
    log_in(page, live_server.url, username)
    household = live_server.world.households[live_server.world.village_a1]
    page.goto(f"{live_server.url}/app/#/h/{household.id}/visit")
    page.wait_for_selector("#kind")
    kinds = page.eval_on_selector_all("#kind option", "os => os.map(o => o.value)")
    assert "construction" in kinds and ("appraisal" in kinds) == offered
