"""A survey round on the phone: outcomes recorded offline, synced, counted; one returned."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from backend.extensions import db
from backend.models import Household, Photo, RoundHousehold, User, Visit
from backend.services import rounds, visits
from backend.services.policy import Actor
from backend.services.rounds.lifecycle import RoundSpec
from tests import factories
from tests.browser.conftest import HOUSE, screenshot
from tests.browser.test_inspector_app import log_in, photo_files, queued_count, wait_until

pytestmark = pytest.mark.browser
RETURN_COMMENT = "危险点近景不清楚，请补拍"


@pytest.fixture
def survey_round(live_server):
    """Two 特困 households of 西坪村 in an open routine round assigned to the inspector."""
    w = live_server.world
    with live_server.app.app_context():
        homes = [factories.household(db.session, w.village_a2, name=name, category="tekun")
                 for name in ("赵二虎", "钱秀英")]
        admin = db.session.get(User, w.users["county_admin"].id)
        rnd = rounds.open_round(db.session, Actor.of(admin), RoundSpec(
            kind="routine", name="2026年第四季度常规排查", period="2026Q4",
            starts_on=date.today(), due_on=date.today() + timedelta(days=30),
            area_codes=[w.village_a2], categories=["tekun"]))
        found = {"round_id": rnd.id, "households": [h.id for h in homes]}
        db.session.remove()
    return found


def round_rows(live, round_id: int) -> dict[int, RoundHousehold]:
    with live.app.app_context():
        rows = db.session.scalars(select(RoundHousehold)
                                  .where(RoundHousehold.round_id == round_id)).all()
        db.session.expunge_all()
        db.session.remove()
    return {r.household_id: r for r in rows}


def counts(live, household_ids: list[int]) -> tuple[int, int]:
    with live.app.app_context():
        photos = db.session.scalar(select(func.count()).select_from(Photo)
                                   .where(Photo.household_id.in_(household_ids)))
        visit_count = db.session.scalar(select(func.count()).select_from(Visit)
                                        .where(Visit.household_id.in_(household_ids)))
        db.session.remove()
    return photos, visit_count


def test_survey_round_outcomes_recorded_offline_count_in_coverage(
        live_server, survey_round, launch, tmp_path):
    round_id = survey_round["round_id"]
    safe_home, danger_home = survey_round["households"]
    shot = photo_files(tmp_path, 1)[0]
    context = launch("surveyor")
    page = context.pages[0] if context.pages else context.new_page()
    log_in(page, live_server.url)
    card = page.locator(f"a.task[data-round='{round_id}']")
    assert "已查 0 / 2 户" in card.inner_text()

    context.set_offline(True)
    card.click()
    page.wait_for_selector(f"#round[data-round='{round_id}']")
    screenshot(page, "app-10-round")

    # 安全: two taps and save.
    page.click(f"a[data-household='{safe_home}']")
    page.wait_for_selector("#visit[data-kind=routine_survey]")
    assert "2026年第四季度常规排查" in page.inner_text("#round-task")
    page.click("label[for=outcome-safe]")
    page.click("#save")
    page.wait_for_selector(f"a[href='#/h/{safe_home}/visit']")

    # 疑似危房 needs a danger point and a photo before it can be saved.
    assert page.inner_text("#outbox-badge") == "待上传 1 条"  # a visit, no photo
    page.goto(f"{live_server.url}/app/#/round/{round_id}")
    page.click(f"a[data-household='{danger_home}']")
    page.wait_for_selector("#visit[data-kind=routine_survey]")
    page.click("label[for=outcome-suspected_danger]")
    page.evaluate("scrollTo(0, 0)")
    screenshot(page, "app-11-survey-outcome")
    page.click("#save")
    page.wait_for_selector("#problems .error")
    problems = page.inner_text("#problems")
    assert "危险点" in problems and "照片" in problems
    page.check("input[name=danger][value='foundation.settlement']")
    page.locator("#survey input[data-capture=camera]").set_input_files(str(shot))
    page.wait_for_selector("#survey img[data-preview]")
    screenshot(page, "app-11-survey-danger")
    page.click("#save")
    page.wait_for_selector(f"a[href='#/h/{danger_home}/visit']")

    page.goto(f"{live_server.url}/app/#/round/{round_id}")
    page.wait_for_selector("#round-progress")
    assert "已查 2 / 2 户" in page.inner_text("#round-progress")
    assert "2 户已记录、待上传" in page.inner_text("#round-progress")
    assert counts(live_server, survey_round["households"]) == (0, 0)

    context.set_offline(False)
    wait_until(lambda: queued_count(page) == 0)
    assert counts(live_server, survey_round["households"]) == (1, 2)
    rows = round_rows(live_server, round_id)
    assert rows[safe_home].outcome == "safe" and rows[safe_home].visit_id
    assert rows[danger_home].outcome == "suspected_danger" and rows[danger_home].visit_id

    # The phone's own copy already counts them as sent, offline too.
    context.set_offline(True)
    page.reload()
    page.wait_for_selector("#round-progress")
    assert "已查 2 / 2 户" in page.inner_text("#round-progress")
    assert "待上传" not in page.inner_text("#round-progress")

    # The town reviewer returns one; after a refresh the phone shows it first, with the comment.
    with live_server.app.app_context():
        reviewer = db.session.get(User, live_server.world.users["town_reviewer"].id)
        visits.review_visit(db.session, Actor.of(reviewer), rows[danger_home].visit_id, "return",
                            RETURN_COMMENT, today=date.today())
        db.session.remove()
    context.set_offline(False)
    page.goto(f"{live_server.url}/app/#/")
    page.click("#refresh")
    page.wait_for_selector(f"#returned:has-text('{RETURN_COMMENT}')")
    top = page.locator("#returned").bounding_box()["y"]
    assert top < page.locator("h1").first.bounding_box()["y"]  # above the list
    screenshot(page, "app-12-returned")
    page.click(f"#returned a[href='#/h/{danger_home}']")
    page.wait_for_selector(f".returned:has-text('{RETURN_COMMENT}')")


def test_house_found_on_the_spot_is_registered_and_surveyed_offline(
        live_server, survey_round, launch, tmp_path):
    """以房找人: a house not on the list is registered offline, surveyed, and synced once."""
    round_id = survey_round["round_id"]
    good = factories.id_number(seed=777, born="19580101")
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    shot = photo_files(tmp_path, 1)[0]
    context = launch("finder")
    page = context.pages[0] if context.pages else context.new_page()
    log_in(page, live_server.url)

    context.set_offline(True)
    page.goto(f"{live_server.url}/app/#/round/{round_id}")
    page.click("#new-house")
    page.wait_for_selector("#discovery")
    page.fill("#f-name", "孙有田")
    page.fill("#f-id", wrong)
    page.select_option("#f-category", "dibao_edge")
    page.fill("#f-address", "西坪村三组 12 号")
    page.wait_for_selector("#gps:has-text('精度')")
    screenshot(page, "app-13-discovery")
    page.click("#found button[type=submit]")
    page.wait_for_selector("#problems:has-text('校验位')")  # checked on the phone, offline
    assert page.get_attribute("#f-id", "aria-invalid") == "true"
    page.fill("#f-id", good)
    page.click("#found button[type=submit]")

    page.wait_for_selector("#visit[data-kind=routine_survey]")
    assert page.is_checked("#outcome-new_found")
    page.locator("#survey input[data-capture=camera]").set_input_files(str(shot))
    page.wait_for_selector("#survey img[data-preview]")
    page.click("#save")
    page.wait_for_selector(f"#round[data-round='{round_id}']")
    found_row = page.locator("a.hh:has-text('孙有田')")
    assert "已记录，待上传" in found_row.inner_text() and "新发现" in found_row.inner_text()
    listed = len(round_rows(live_server, round_id))
    assert f"已查 1 / {listed + 1} 户" in page.inner_text("#round-progress")
    assert queued_count(page) == 3  # the house, its photo, its survey
    ref = page.evaluate(
        "window.app.outbox.items().then(l => l.find(i => i.type === 'discovery').id)")
    page.goto(f"{live_server.url}/app/#/h/{ref}")
    page.wait_for_selector("text=现场登记的房屋")
    assert page.locator("#set-location").count() == 0
    page.click("#outbox-badge")
    page.wait_for_selector("#outbox-summary")
    listed = page.inner_text("#view")
    assert "新发现房屋 · 孙有田" in listed and "照片 · 孙有田" in listed
    assert "新发现房屋登记后上传" in listed
    assert "1 张照片、1 条检查记录、1 户新发现房屋" in listed
    assert page.inner_text("#outbox-badge") == "待上传 1 张 1 条 1 户"
    screenshot(page, "app-14-outbox-discovery")

    context.set_offline(False)  # back online: the outbox drains by itself
    wait_until(lambda: queued_count(page) == 0)
    with live_server.app.app_context():
        house = db.session.scalar(select(Household).where(Household.id_number == good))
        assert house is not None and house.village_code == live_server.world.village_a2
        assert house.category == "dibao_edge" and house.address == "西坪村三组 12 号"
        assert abs(house.lat - HOUSE["latitude"]) < 1e-6 and house.location_source == "inspector"
        photos = db.session.scalars(select(Photo).where(Photo.household_id == house.id)).all()
        assert len(photos) == 1 and photos[0].device_lat is not None
        visit_rows = db.session.scalars(select(Visit).where(Visit.household_id == house.id)).all()
        assert [v.outcome for v in visit_rows] == ["new_found"]
        assert visit_rows[0].round_id == round_id
        house_id = house.id
        db.session.remove()
    row = round_rows(live_server, round_id)[house_id]
    assert row.found_in_round and row.outcome == "new_found" and row.visit_id

    # The phone now knows the house by its registered id; a second drain sends nothing again.
    page.goto(f"{live_server.url}/app/#/h/{ref}")
    page.wait_for_url(f"**/app/#/h/{house_id}")
    page.goto(f"{live_server.url}/app/#/round/{round_id}")
    page.wait_for_selector(f"a[data-household='{house_id}']")
    page.evaluate("window.app.outbox.drain()")
    assert counts(live_server, [house_id]) == (1, 1)


def test_house_registered_online_mid_survey_sends_its_later_photos_and_visit(
        live_server, survey_round, launch, tmp_path):
    """The registration is confirmed while its survey page is open: what follows still goes."""
    round_id = survey_round["round_id"]
    number = factories.id_number(seed=778, born="19580101")
    shot = photo_files(tmp_path, 1)[0]
    context = launch("finder-online")
    page = context.pages[0] if context.pages else context.new_page()
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/app/#/round/{round_id}/new")
    page.wait_for_selector("#gps:has-text('精度')")
    page.fill("#f-name", "周满仓")
    page.fill("#f-id", number)
    page.select_option("#f-category", "ordinary")
    page.click("#found button[type=submit]")
    page.wait_for_selector("#visit[data-kind=routine_survey]")
    ref = page.evaluate("location.hash").split("/")[2]
    assert ref.startswith("new-")
    house_id = None

    def registered():
        nonlocal house_id
        house_id = page.evaluate(f"window.app.store.foundAs('{ref}')")
        return house_id is not None

    wait_until(registered)  # the house is on the server; this page still names it by ref
    page.locator("#survey input[data-capture=camera]").set_input_files(str(shot))
    page.wait_for_selector("#survey img[data-preview]")
    page.click("#save")
    page.wait_for_selector(f"#round[data-round='{round_id}']")
    wait_until(lambda: queued_count(page) == 0)
    assert counts(live_server, [house_id]) == (1, 1)
    assert round_rows(live_server, round_id)[house_id].outcome == "new_found"
    # No draft is left behind to replay the same visit id later.
    assert page.evaluate(f"window.app.store.draft({house_id})") is None
    assert page.evaluate(f"window.app.store.draft('{ref}')") is None
    listed = page.locator(f"a[data-household='{house_id}']")
    # The page follows the outbox.
    page.wait_for_selector(f"a[data-household='{house_id}']:has-text('已查')")
    assert listed.count() == 1
