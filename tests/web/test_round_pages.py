"""The survey-round pages under /review: list, open, coverage, reasons, close, reassign, export."""

import io
import re
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from backend.models import AuditEvent, Household, Round, RoundHousehold
from backend.services import rounds
from backend.services.policy import Actor
from backend.services.rounds.lifecycle import RoundSpec
from tests import factories, images
from tests.api.test_photos import put_photo
from tests.api.test_rounds import survey
from tests.web import login_as


@pytest.fixture
def world(db, templates):
    """Town A: 东坪村 with 4 households (3 特困), 西坪村 with 2; town B: one in each village."""
    w = factories.round_world(db.session)
    w.users["inspector"].name = "赵检查"
    db.session.commit()
    return w



def open_round(db, w, *, areas=None, due_on=date(2026, 12, 31), **over) -> Round:
    spec = RoundSpec(**{"kind": "routine", "name": "2026年第四季度常规排查", "period": "2026Q4",
                        "starts_on": date(2026, 10, 1), "due_on": due_on,
                        "area_codes": areas or [w.town_a], "categories": [], **over})
    return rounds.open_round(db.session, Actor.of(w.users["town_reviewer"]), spec)


def household_ids(db, rnd, village=None) -> list[int]:
    query = db.session.query(RoundHousehold).filter_by(round_id=rnd.id)
    if village:
        query = query.filter_by(village_code=village)
    return sorted(row.household_id for row in query)


def name_of(db, household_id) -> str:
    return db.session.get(Household, household_id).name


def village_row(text: str, code: str) -> list[int]:
    """The numbers in a village's row of the coverage table."""
    row = re.search(rf'<tr data-village="{code}">(.*?)</tr>', text, re.S)[1]
    return [int(n) for n in re.findall(r'<td class="num[^"]*">(?:<a [^>]*>)?(\d+)(?:</a>)?</td>',
                                       row)]


def unvisited_section(text: str) -> str:
    return text[text.index('id="unvisited"'):]


def record_three_outcomes(client, db, w, rnd) -> dict:
    """东坪村: one safe, one nobody home; 西坪村: one suspected danger (with its photo)."""
    a1, a2 = household_ids(db, rnd, w.village_a1), household_ids(db, rnd, w.village_a2)
    assert survey(client, w, rnd.id, a1[0], "safe").status_code == 201
    assert survey(client, w, rnd.id, a1[1], "nobody_home").status_code == 201
    photo = put_photo(client, w, images.make_jpeg(seed=71), village=w.village_a2,
                      household_id=a2[0]).get_json()["id"]
    r = survey(client, w, rnd.id, a2[0], "suspected_danger", danger_points=["wall.crack"],
               photos=[photo])
    assert r.status_code == 201, r.get_json()
    return {"visited": [a1[0], a2[0]], "nobody_home": a1[1], "unvisited": [*a1[2:], *a2[1:]]}


def test_coverage_page_counts_each_village_and_lists_the_unvisited(client, db, world):
    w = world
    rnd = open_round(db, w)
    done = record_three_outcomes(client, db, w, rnd)
    login_as(client, db, w.users["town_reviewer"])
    r = client.get(f"/review/rounds/{rnd.id}")
    assert r.status_code == 200
    text = r.get_data(as_text=True)
    # 应查 已查 未查 需复查 新发现 | 安全 疑似危房 无人在家 房屋已不存在
    # 无人在家 is not 已查 (UNCHECKED_OUTCOMES): it stays 未查 and is listed to revisit.
    assert village_row(text, w.village_a1) == [4, 1, 3, 1, 0, 1, 0, 1, 0]
    assert village_row(text, w.village_a2) == [2, 1, 1, 0, 0, 0, 1, 0, 0]
    assert text.count(">新发现<") == 2  # the total and the column, not again as an outcome
    # A count is a link to its households: 西坪村's one 疑似危房 names its house.
    row = re.search(rf'<tr data-village="{w.village_a2}">.*?</tr>', text, re.S)[0]
    link = re.search(r'<a href="([^"]+outcome=suspected_danger[^"]*)"', row)[1]
    link = link.replace("&amp;", "&")
    listed = client.get(link).get_data(as_text=True)
    assert name_of(db, done["visited"][1]) in listed and "承重墙体：裂缝" in listed
    for header in ("应查", "已查", "未查", "需复查", "新发现", "安全", "疑似危房", "无人在家",
                   "房屋已不存在", "东坪村", "西坪村", "合计"):
        assert f">{header}<" in text, header
    assert "已查 2 / 6 户（33%）" in text
    unvisited = unvisited_section(text)
    assert "未排查农户（4 户）" in unvisited
    for household_id in [done["nobody_home"], *done["unvisited"]]:
        assert name_of(db, household_id) in unvisited
        assert f'name="reason-{household_id}"' in unvisited
    for household_id in done["visited"]:
        assert f'id="household-{household_id}"' not in unvisited
    assert "赵检查" in unvisited
    assert "玉井村" not in text  # town B is outside the round


def test_an_unvisited_household_with_a_case_links_to_its_case(client, db, world):
    w = world
    h = factories.household(db.session, w.village_a2, name="有项目户")
    case = factories.case(db.session, h)
    rnd = open_round(db, w)
    login_as(client, db, w.users["town_reviewer"])
    text = unvisited_section(client.get(f"/review/rounds/{rnd.id}").get_data(as_text=True))
    assert f'<a href="/review/cases/{case.id}">有项目户</a>' in text


def test_list_shows_open_rounds_first_with_progress_and_overdue(client, db, world):
    w = world
    old = open_round(db, w, name="2026年第一季度常规排查", period="2026Q1",
                     starts_on=date(2026, 1, 1), due_on=date(2026, 3, 31))
    rounds.close_round(db.session, Actor.of(w.users["town_reviewer"]), old.id,
                       {hid: "测试" for hid in household_ids(db, old)})
    late = open_round(db, w, kind="emergency", name="7月暴雨应急排查", period=None,
                      cause="7月暴雨", starts_on=date.today() - timedelta(days=20),
                      due_on=date.today() - timedelta(days=5))
    current = open_round(db, w, starts_on=date.today(), due_on=date.today() + timedelta(days=60))
    survey(client, w, current.id, household_ids(db, current)[0], "nobody_home")
    login_as(client, db, w.users["town_reviewer"])
    r = client.get("/review/rounds")
    assert r.status_code == 200
    text = r.get_data(as_text=True)
    assert '<a href="/review/rounds"' in text and 'aria-current="page">排查轮次' in text
    chunks = text.split('<li class="round-item')[1:]
    order = [int(re.search(r'href="/review/rounds/(\d+)"', c)[1]) for c in chunks]
    assert order.index(old.id) == 2  # both open rounds before the closed one
    item = dict(zip(order, chunks, strict=True))
    assert "应急排查" in item[late.id] and "<b>起因</b>7月暴雨" in item[late.id]
    assert "已逾期" in item[late.id] and "已查 0 / 6 户" in item[late.id]
    assert "已查 0 / 6 户" in item[current.id] and "需复查</b>1 户" in item[current.id]
    assert "已逾期" not in item[current.id]
    assert "已结束" in item[old.id] and "已逾期" not in item[old.id]


def test_open_a_round_from_the_form(client, db, world):
    w = world
    csrf = login_as(client, db, w.users["county_admin"])
    page = client.get("/review/rounds").get_data(as_text=True)
    assert "开启新一轮排查" in page
    for code in (w.town_a, w.town_b, w.village_a1, w.village_b2):
        assert f'name="area" value="{code}"' in page
    assert 'name="category" value="tekun"' in page
    form = {"csrf": csrf, "kind": "routine", "name": "2026年第四季度特困户排查",
            "period": "2026Q4", "cause": "忽略", "starts_on": "2026-10-01",
            "due_on": "2026-12-31", "area": [w.village_a1, w.town_b], "category": ["tekun"]}
    r = client.post("/review/rounds", data=form)
    assert r.status_code == 303
    round_id = int(re.search(r"/review/rounds/(\d+)\?notice=opened$", r.headers["Location"])[1])
    rnd = db.session.get(Round, round_id)
    assert (rnd.name, rnd.period, rnd.cause, rnd.categories) == (
        "2026年第四季度特困户排查", "2026Q4", None, ["tekun"])
    assert sorted(rnd.area_codes) == sorted([w.village_a1, w.town_b])
    assert len(household_ids(db, rnd)) == 3  # the 3 特困 households of 东坪村
    assert "已开启本轮排查" in client.get(r.headers["Location"]).get_data(as_text=True)


def test_open_form_refusals_keep_what_was_typed(client, db, world):
    w = world
    csrf = login_as(client, db, w.users["town_reviewer"])
    form = {"csrf": csrf, "kind": "emergency", "name": "暴雨后应急排查", "cause": "",
            "starts_on": "2026-07-20", "due_on": "2026-07-30", "area": [w.town_a]}
    r = client.post("/review/rounds", data=form)
    assert r.status_code == 422
    text = r.get_data(as_text=True)
    assert "应急排查须填写起因" in text and 'value="暴雨后应急排查"' in text
    r = client.post("/review/rounds", data={**form, "cause": "7月暴雨", "area": [w.town_b]})
    assert r.status_code == 422  # town B is outside a town A reviewer's scope
    text = r.get_data(as_text=True)
    assert "不在您的管辖范围内" in text and 'value="7月暴雨"' in text
    r = client.post("/review/rounds", data={**form, "cause": "7月暴雨", "due_on": "2026-07-01"})
    assert r.status_code == 422 and "截止日期早于开始日期" in r.get_data(as_text=True)
    r = client.post("/review/rounds", data={**form, "cause": "7月暴雨", "area": []})
    assert r.status_code == 422 and "请选择排查范围" in r.get_data(as_text=True)
    assert db.session.query(Round).count() == 0


def test_closing_is_refused_while_an_unvisited_household_has_no_reason(client, db, world):
    w = world
    rnd = open_round(db, w)
    done = record_three_outcomes(client, db, w, rnd)
    left = done["unvisited"]
    csrf = login_as(client, db, w.users["town_reviewer"])
    url = f"/review/rounds/{rnd.id}/reasons"
    # Nobody was home there: not 已查, so it too needs a reason to close the round.
    typed = {f"reason-{left[0]}": "外出务工，全家不在", f"reason-{left[1]}": "房屋已拆除",
             f"reason-{done['nobody_home']}": "三次上门无人在家"}
    r = client.post(url, data={"csrf": csrf, "op": "close", **typed})
    assert r.status_code == 409
    text = r.get_data(as_text=True)
    assert "仍有 1 户未排查且未说明原因" in text
    assert 'value="外出务工，全家不在"' in text and 'value="房屋已拆除"' in text
    assert f'<tr id="household-{left[2]}" class="missing">' in text
    assert f'<tr id="household-{left[0]}" class="missing">' not in text
    db.session.expire_all()
    assert db.session.get(Round, rnd.id).status == "open"
    assert all(row.skip_reason is None for row in db.session.query(RoundHousehold))

    typed[f"reason-{left[2]}"] = "户主住院"
    r = client.post(url, data={"csrf": csrf, "op": "close", **typed})
    assert r.status_code == 303 and r.headers["Location"].endswith("?notice=closed")
    db.session.expire_all()
    assert db.session.get(Round, rnd.id).status == "closed"
    reasons = {row.household_id: row.skip_reason for row in
               db.session.query(RoundHousehold).filter(RoundHousehold.visited_at.is_(None))}
    assert reasons == {left[0]: "外出务工，全家不在", left[1]: "房屋已拆除", left[2]: "户主住院"}
    text = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "本轮排查已结束" in text and "户主住院" in text
    assert 'id="close-form"' not in text and 'id="reassign-form"' not in text


def test_reasons_can_be_saved_before_closing(client, db, world):
    w = world
    rnd = open_round(db, w)
    first, second = household_ids(db, rnd)[:2]
    csrf = login_as(client, db, w.users["town_reviewer"])
    r = client.post(f"/review/rounds/{rnd.id}/reasons",
                    data={"csrf": csrf, "op": "save", f"reason-{first}": " 常年外出 ",
                          f"reason-{second}": ""})
    assert r.status_code == 303 and r.headers["Location"].endswith("?notice=reasons")
    db.session.expire_all()
    saved = {row.household_id: row.skip_reason for row in db.session.query(RoundHousehold)}
    assert saved[first] == "常年外出" and saved[second] is None
    assert db.session.get(Round, rnd.id).status == "open"
    assert db.session.query(AuditEvent).filter_by(action="skip_reasons").count() == 1
    text = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "已保存未排查原因" in text and 'value="常年外出"' in text


def test_reassign_chosen_households_to_another_inspector(client, db, world):
    w = world
    rnd = open_round(db, w)
    other = factories.user(db.session, "inspector", [w.village_a1], username="dongping_insp")
    other.name = "钱东坪"
    db.session.commit()
    in_a1, in_a2 = household_ids(db, rnd, w.village_a1), household_ids(db, rnd, w.village_a2)
    csrf = login_as(client, db, w.users["town_reviewer"])
    page = client.get(f"/review/rounds/{rnd.id}").get_data(as_text=True)
    assert f'<option value="{other.id}">钱东坪（东坪村）</option>' in page
    url = f"/review/rounds/{rnd.id}/reassign"
    r = client.post(url, data={"csrf": csrf, "inspector_id": other.id, "household": in_a1[:2]})
    assert r.status_code == 303 and r.headers["Location"].endswith("?notice=moved")
    db.session.expire_all()
    owners = {row.household_id: row.inspector_id
              for row in db.session.query(RoundHousehold).filter_by(round_id=rnd.id)}
    assert [owners[h] for h in in_a1] == [other.id, other.id, w.users["inspector"].id,
                                          w.users["inspector"].id]
    text = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "已改派所选农户" in text and text.count("钱东坪") >= 3  # option + 2 rows
    r = client.post(url, data={"csrf": csrf, "inspector_id": other.id, "household": in_a2})
    assert r.status_code == 422
    text = r.get_data(as_text=True)
    assert "该检查员的负责区域不包含这些农户" in text
    assert f'value="{in_a2[0]}" form="reassign-form" aria-label' in text and "checked" in text
    r = client.post(url, data={"csrf": csrf, "inspector_id": other.id})
    assert r.status_code == 422 and "请先勾选要改派的农户" in r.get_data(as_text=True)


def test_export_downloads_the_workbook(client, db, world):
    w = world
    rnd = open_round(db, w)
    survey(client, w, rnd.id, household_ids(db, rnd)[0], "safe")
    login_as(client, db, w.users["town_reviewer"])
    page = client.get(f"/review/rounds/{rnd.id}").get_data(as_text=True)
    assert f'href="/review/rounds/{rnd.id}/export.xlsx"' in page
    r = client.get(f"/review/rounds/{rnd.id}/export.xlsx")
    assert r.status_code == 200
    assert r.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert f"round-{rnd.id}.xlsx" in r.headers["Content-Disposition"]
    assert "no-store" in r.headers["Cache-Control"]
    book = load_workbook(io.BytesIO(r.data))
    assert book["明细"].max_row == 1 + 6
    assert [c.value for c in book["汇总"][book["汇总"].max_row]][:4] == ["合计", 6, 1, 5]


def test_a_reviewer_of_another_town_gets_404(client, db, world):
    w = world
    rnd = open_round(db, w)
    outsider = factories.user(db.session, "town_reviewer", [w.town_b], username="yujing")
    csrf = login_as(client, db, outsider)
    for url in (f"/review/rounds/{rnd.id}", f"/review/rounds/{rnd.id}/export.xlsx"):
        r = client.get(url)
        assert r.status_code == 404, url
        assert "找不到" in r.get_data(as_text=True) and rnd.name not in r.get_data(as_text=True)
    first = household_ids(db, rnd)[0]
    for url, data in ((f"/review/rounds/{rnd.id}/reasons", {"op": "close"}),
                      (f"/review/rounds/{rnd.id}/reassign",
                       {"household": first, "inspector_id": w.users["inspector"].id})):
        assert client.post(url, data={"csrf": csrf, **data}).status_code == 404, url
    listing = client.get("/review/rounds").get_data(as_text=True)
    assert f'href="/review/rounds/{rnd.id}"' not in listing
    assert "辖区内还没有排查轮次" in listing
    assert client.get("/review/rounds/999999").status_code == 404
    db.session.expire_all()
    assert db.session.get(Round, rnd.id).status == "open"


def test_an_auditor_reads_but_sees_no_forms_and_cannot_post(client, db, world):
    w = world
    rnd = open_round(db, w)
    csrf = login_as(client, db, w.users["auditor"])
    listing = client.get("/review/rounds").get_data(as_text=True)
    assert rnd.name in listing and "开启新一轮排查" not in listing
    page = client.get(f"/review/rounds/{rnd.id}").get_data(as_text=True)
    assert "未排查农户（6 户）" in page and "export.xlsx" in page
    for marker in ('method="post" action="/review/rounds', 'name="reason-', 'name="household"',
                   "结束本轮排查", "改派"):
        assert marker not in page, marker
    assert client.get(f"/review/rounds/{rnd.id}/export.xlsx").status_code == 200
    r = client.post(f"/review/rounds/{rnd.id}/reasons",
                    data={"csrf": csrf, "op": "close",
                          **{f"reason-{h}": "x" for h in household_ids(db, rnd)}})
    assert r.status_code == 403
    r = client.post("/review/rounds", data={"csrf": csrf, "kind": "routine", "name": "x",
                                            "period": "2026Q4", "starts_on": "2026-10-01",
                                            "due_on": "2026-12-31", "area": [w.town_a]})
    assert r.status_code == 403
    db.session.expire_all()
    assert db.session.get(Round, rnd.id).status == "open" and db.session.query(Round).count() == 1


def test_a_post_without_the_csrf_token_is_refused(client, db, world):
    w = world
    rnd = open_round(db, w)
    csrf = login_as(client, db, w.users["town_reviewer"])
    wrong = csrf[:-1] + ("1" if csrf[-1] == "0" else "0")
    reasons = {f"reason-{h}": "外出" for h in household_ids(db, rnd)}
    for extra in ({}, {"csrf": wrong}):
        r = client.post(f"/review/rounds/{rnd.id}/reasons", data={"op": "close", **reasons,
                                                                   **extra})
        assert r.status_code == 400
        r = client.post("/review/rounds", data={"kind": "routine", "name": "x", **extra,
                                                "period": "2026Q4", "starts_on": "2026-10-01",
                                                "due_on": "2026-12-31", "area": [w.town_a]})
        assert r.status_code == 400
    db.session.expire_all()
    assert db.session.get(Round, rnd.id).status == "open" and db.session.query(Round).count() == 1


def test_coverage_page_queries_do_not_grow_with_households(client, db, world, count_queries):
    w = world
    small = open_round(db, w, areas=[w.village_a2])
    for i in range(12):
        factories.household(db.session, w.village_a1, name=f"新户{i}")
    for code in (w.village_a1, w.village_a2):
        factories.case(db.session, factories.household(db.session, code, name="有项目户"))
    factories.user(db.session, "inspector", [w.village_a1], username="second_insp")
    large = open_round(db, w)
    survey(client, w, large.id, household_ids(db, large)[0], "nobody_home")
    login_as(client, db, w.users["town_reviewer"])
    counts = []
    for rnd in (small, large):
        with count_queries() as queries:
            assert client.get(f"/review/rounds/{rnd.id}").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 12, counts
    with count_queries() as queries:
        assert client.get("/review/rounds").status_code == 200
    assert len(queries) <= 10, len(queries)


def test_a_county_round_shows_a_town_reviewer_only_their_town_and_no_close_button(
        client, db, world):
    w = world
    spec = RoundSpec(kind="emergency", name="地震后应急排查", cause="4.5级地震",
                     starts_on=date(2026, 5, 1), due_on=date(2026, 5, 10),
                     area_codes=[w.town_a, w.town_b], categories=[])
    rnd = rounds.open_round(db.session, Actor.of(w.users["county_admin"]), spec)
    login_as(client, db, w.users["town_reviewer"])
    text = client.get(f"/review/rounds/{rnd.id}").get_data(as_text=True)
    assert "未排查农户（6 户）" in text and "玉井村" not in text
    assert 'name="reason-' in text and 'value="close"' not in text
    assert "须由覆盖全部范围的管理人员结束本轮排查" in text
    login_as(client, db, w.users["county_admin"])
    text = client.get(f"/review/rounds/{rnd.id}").get_data(as_text=True)
    assert "未排查农户（8 户）" in text and "玉井村" in text and 'value="close"' in text


def test_a_town_reviewer_cannot_close_a_county_round_by_posting(client, db, world):
    w = world
    spec = RoundSpec(kind="emergency", name="地震后应急排查", cause="4.5级地震",
                     starts_on=date(2026, 5, 1), due_on=date(2026, 5, 10),
                     area_codes=[w.town_a, w.town_b], categories=[])
    rnd = rounds.open_round(db.session, Actor.of(w.users["county_admin"]), spec)
    csrf = login_as(client, db, w.users["town_reviewer"])
    r = client.post(f"/review/rounds/{rnd.id}/reasons",
                    data={"csrf": csrf, "op": "close", "reason_all": "道路中断"})
    assert r.status_code == 403 and "须由覆盖全部范围的管理人员" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Round, rnd.id).status == "open"
    assert all(row.skip_reason is None for row in db.session.query(RoundHousehold))


def test_one_reason_for_every_remaining_household_closes_a_big_round(client, db, world):
    w = world
    rnd = open_round(db, w)
    left = record_three_outcomes(client, db, w, rnd)["unvisited"]
    csrf = login_as(client, db, w.users["town_reviewer"])
    r = client.post(f"/review/rounds/{rnd.id}/reasons",
                    data={"csrf": csrf, "op": "close", f"reason-{left[0]}": "户主住院",
                          "reason_all": "灾后道路中断，无法到达"})
    assert r.status_code == 303
    db.session.expire_all()
    reasons = {row.household_id: row.skip_reason for row in
               db.session.query(RoundHousehold).filter(RoundHousehold.visited_at.is_(None))}
    assert reasons == {left[0]: "户主住院", **{h: "灾后道路中断，无法到达" for h in left[1:]}}


def test_odd_digits_in_form_field_names_are_ignored_not_a_500(client, db, world):
    w = world
    rnd = open_round(db, w)
    csrf = login_as(client, db, w.users["town_reviewer"])
    r = client.post(f"/review/rounds/{rnd.id}/reasons",
                    data={"csrf": csrf, "op": "save", "reason-²": "x"})
    assert r.status_code == 303
    r = client.post(f"/review/rounds/{rnd.id}/reassign",
                    data={"csrf": csrf, "household": "²", "inspector_id": "1"})
    assert r.status_code == 422 and "请先勾选要改派的农户" in r.get_data(as_text=True)


def test_reassigning_in_a_round_closed_meanwhile_says_so_on_the_page(client, db, world):
    w = world
    rnd = open_round(db, w)
    csrf = login_as(client, db, w.users["town_reviewer"])
    rounds.close_round(db.session, Actor.of(w.users["town_reviewer"]), rnd.id, {},
                       default_reason="外出")
    r = client.post(f"/review/rounds/{rnd.id}/reassign",
                    data={"csrf": csrf, "household": str(household_ids(db, rnd)[0]),
                          "inspector_id": str(w.users["inspector"].id)})
    assert r.status_code == 409 and "本轮排查已结束" in r.get_data(as_text=True)
