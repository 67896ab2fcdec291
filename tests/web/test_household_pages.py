"""The household pages under /review: search, register, edit, import, one household's page."""

import io
import re
from datetime import date

import pytest

from backend import display
from backend.models import Appraisal, AuditEvent, Household
from tests import factories
from tests.web import login_as


@pytest.fixture
def world(db):
    return factories.world(db.session)



def form_for(w, csrf, **over) -> dict:
    return {"csrf": csrf, "village_code": w.village_a1, "group_name": "第三组", "name": "李秀英",
            "id_number": factories.id_number(), "phone": "13800001111", "family_size": "3",
            "category": "dibao", "address": "东坪村南街12号", "year_built": "1986",
            "floor_area_m2": "72.5", "rooms": "3", "storeys": "1", "structure_type": "土木",
            "notes": "", **over}


def csv_upload(rows: list[list[str]], name="台账.csv") -> dict:
    text = "\n".join(",".join(row) for row in rows)
    return {"file": (io.BytesIO(text.encode("utf-8")), name)}


def test_search_lists_my_area_with_id_numbers_masked_without_the_pii_right(client, db, world):
    w = world
    mine, theirs = w.households[w.village_a1], w.households[w.village_b1]
    login_as(client, db, w.users["town_reviewer"])
    text = client.get("/review/households").get_data(as_text=True)
    assert mine.id_number in text and f'href="/review/households/{mine.id}"' in text
    assert f'href="/review/households/{theirs.id}"' not in text  # town B is not theirs
    assert "东坪村" in text and "低保户" in text

    login_as(client, db, w.users["auditor"])  # the whole county, without the PII right
    text = client.get("/review/households").get_data(as_text=True)
    assert f'href="/review/households/{theirs.id}"' in text
    for h in w.households.values():
        assert h.id_number not in text and display.masked_id_number(h.id_number) in text


def test_search_by_name_id_tail_village_and_category(client, db, world):
    w = world
    a = factories.household(db.session, w.village_a2, name="欧阳春花", category="tekun")
    factories.household(db.session, w.village_a2, name="欧阳秋月", category="dibao")
    login_as(client, db, w.users["town_reviewer"])

    def names(**query):
        text = client.get("/review/households", query_string=query).get_data(as_text=True)
        return set(re.findall(r'<td class="name"><a href="/review/households/\d+">(.+?)</a>', text))

    assert names(q="欧阳") == {"欧阳春花", "欧阳秋月"}
    assert names(q=a.id_number[-4:]) == {"欧阳春花"}
    assert names(q="欧阳", category="tekun") == {"欧阳春花"}
    assert names(region=w.village_a2) == {"欧阳春花", "欧阳秋月", w.households[w.village_a2].name}
    assert names(region=w.village_b1) == set()  # outside the area: refused, nothing listed
    r = client.get("/review/households", query_string={"region": w.village_b1})
    assert r.status_code == 422 and "不在您的管辖范围内" in r.get_data(as_text=True)


def test_the_list_pages_by_fifty(client, db, world):
    w = world
    for i in range(60):
        factories.household(db.session, w.village_a2, name=f"户{i:02d}")
    login_as(client, db, w.users["town_reviewer"])
    text = client.get("/review/households", query_string={"region": w.village_a2}) \
        .get_data(as_text=True)
    assert text.count('<tr id="household-') == 50
    link = re.search(r'<a rel="next" href="([^"]+)"', text)[1].replace("&amp;", "&")
    assert "region=" + w.village_a2 in link
    text = client.get(link).get_data(as_text=True)
    assert text.count('<tr id="household-') == 11  # 60 + the world's own household
    assert 'rel="next"' not in text and "« 第一页" in text and "（第 2 页）" in text


def test_register_a_household(client, db, world):
    w = world
    csrf = login_as(client, db, w.users["town_reviewer"])
    page = client.get("/review/households/new").get_data(as_text=True)
    assert f'<option value="{w.village_a1}">东坪村</option>' in page
    assert w.village_b1 not in page  # villages outside my area are not offered
    form = form_for(w, csrf)
    r = client.post("/review/households/new", data=form)
    assert r.status_code == 303
    household_id = int(re.search(r"/review/households/(\d+)\?notice=created$",
                                 r.headers["Location"])[1])
    h = db.session.get(Household, household_id)
    assert (h.name, h.id_number, h.id_tail, h.family_size, h.floor_area_m2, h.structure_type,
            h.notes) == ("李秀英", form["id_number"], form["id_number"][-4:], 3, 72.5, "土木", None)
    audit = db.session.query(AuditEvent).filter_by(entity="household", action="create").one()
    assert form["id_number"] not in str(audit.changes)
    text = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "已登记该农户" in text and "李秀英" in text and "72.5 平方米" in text


def test_refusals_show_each_field_keep_what_was_typed_and_save_nothing(client, db, world):
    w = world
    csrf = login_as(client, db, w.users["town_reviewer"])
    form = form_for(w, csrf, name="", id_number="110105194912310021", family_size="abc",
                    village_code=w.village_b1, address="玉井村北")
    r = client.post("/review/households/new", data=form)
    assert r.status_code == 422
    text = r.get_data(as_text=True)
    errors = dict(re.findall(r'<span class="field-error" id="(\w+)-error">(.+?)</span>', text))
    assert errors == {"name": "请填写户主姓名（不超过50字）",
                      "family_size": "家庭人口应为 1–30 的整数",
                      "id_number": "身份证号校验位错误，请核对",
                      "village_code": "村代码不存在或不在您的管辖范围内"}
    assert 'name="name" value=""' in text and 'aria-invalid="true" aria-describedby="name-error"' \
        in text
    for kept in ('value="110105194912310021"', 'value="abc"', 'value="玉井村北"',
                 'value="第三组"', 'value="72.5"', '<option selected>土木</option>'):
        assert kept in text, kept
    existing = w.households[w.village_a1].id_number
    r = client.post("/review/households/new", data=form_for(w, csrf, id_number=existing))
    assert r.status_code == 409
    text = r.get_data(as_text=True)
    assert "该身份证号的农户已登记" in text and 'value="李秀英"' in text
    assert db.session.query(Household).count() == 4


def test_edit_a_household(client, db, world):
    w = world
    h = w.households[w.village_a1]
    csrf = login_as(client, db, w.users["town_reviewer"])
    page = client.get(f"/review/households/{h.id}/edit").get_data(as_text=True)
    assert f'value="{h.id_number}"' in page and 'value="13912345678"' in page
    form = form_for(w, csrf, id_number=h.id_number, name="王建军", village_code=w.village_a2,
                    storeys="2")
    r = client.post(f"/review/households/{h.id}/edit", data=form)
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/{h.id}?notice=saved")
    db.session.expire_all()
    h = db.session.get(Household, h.id)
    assert (h.name, h.village_code, h.storeys, h.phone) == ("王建军", w.village_a2, 2,
                                                           "13800001111")
    audit = db.session.query(AuditEvent).filter_by(entity="household", action="update").one()
    assert audit.changes["name"][1] == "王建军" and audit.changes["storeys"] == [None, 2]
    r = client.post(f"/review/households/{h.id}/edit", data={**form, "storeys": "12"})
    assert r.status_code == 422
    text = r.get_data(as_text=True)
    assert "层数应为 1–10 的整数" in text and 'value="12"' in text and 'value="王建军"' in text
    db.session.expire_all()
    assert db.session.get(Household, h.id).storeys == 2


def test_a_village_cadre_edits_without_seeing_the_id_number(client, db, world):
    w = world
    h = w.households[w.village_a1]
    number = h.id_number
    csrf = login_as(client, db, w.users["village_cadre"])
    page = client.get(f"/review/households/{h.id}/edit").get_data(as_text=True)
    assert number not in page and "13912345678" not in page
    assert f'placeholder="{display.masked_id_number(number)}"' in page
    assert f'placeholder="{display.masked_phone("13912345678")}"' in page
    form = form_for(w, csrf, id_number="", phone="", name="王建军")
    r = client.post(f"/review/households/{h.id}/edit", data=form)
    assert r.status_code == 303
    db.session.expire_all()
    h = db.session.get(Household, h.id)
    assert (h.name, h.id_number, h.phone) == ("王建军", number, "13912345678")
    page = client.get(f"/review/households/{h.id}").get_data(as_text=True)
    assert number not in page and display.masked_id_number(number) in page


def test_household_pages_are_404_outside_my_area(client, db, world):
    w = world
    theirs = w.households[w.village_b1]
    csrf = login_as(client, db, w.users["town_reviewer"])
    for url in (f"/review/households/{theirs.id}", f"/review/households/{theirs.id}/edit",
                "/review/households/999999"):
        r = client.get(url)
        assert r.status_code == 404, url
        assert theirs.name not in r.get_data(as_text=True)
    r = client.post(f"/review/households/{theirs.id}/edit",
                    data=form_for(w, csrf, id_number=theirs.id_number, name="改名"))
    assert r.status_code == 404
    db.session.expire_all()
    assert db.session.get(Household, theirs.id).name != "改名"


def test_roles_without_the_right_get_403(client, db, world):
    w = world
    h = w.households[w.village_a1]
    for role in ("inspector", "auditor"):
        csrf = login_as(client, db, w.users[role])
        page = client.get(f"/review/households/{h.id}").get_data(as_text=True)
        assert "编辑农户信息" not in page and "登记改造申请" not in page
        assert "登记农户" not in client.get("/review/households").get_data(as_text=True)
        for url in ("/review/households/new", f"/review/households/{h.id}/edit",
                    "/review/households/import"):
            assert client.get(url).status_code == 403, (role, url)
        assert client.post("/review/households/new",
                           data=form_for(w, csrf)).status_code == 403
        assert client.post(f"/review/households/{h.id}/edit",
                           data=form_for(w, csrf, name="改名")).status_code == 403
    csrf = login_as(client, db, w.users["town_reviewer"])  # may write, may not import
    assert client.get("/review/households/import").status_code == 403
    r = client.post("/review/households/import", data={"csrf": csrf, **csv_upload(
        [["户主姓名", "身份证号", "村"], ["赵四", factories.id_number(), "东坪村"]])})
    assert r.status_code == 403
    assert db.session.query(Household).count() == 4


def test_a_form_without_the_csrf_token_is_refused(client, db, world):
    w = world
    csrf = login_as(client, db, w.users["town_reviewer"])
    assert client.post("/review/households/new",
                       data={**form_for(w, csrf), "csrf": ""}).status_code == 400
    assert db.session.query(Household).count() == 4


def test_household_page_shows_facts_appraisals_and_cases(client, db, world):
    w = world
    h = w.households[w.village_a1]
    case = factories.case(db.session, h, grade="D")
    appraisal = db.session.query(Appraisal).filter_by(household_id=h.id).one()
    appraisal.signatures = [{"role": "民主监督员", "name": "周监督"},
                            {"role": "村委负责人", "name": "吴主任"}]
    appraisal.filed_on = date(2026, 3, 5)
    db.session.commit()
    login_as(client, db, w.users["town_reviewer"])
    text = client.get(f"/review/households/{h.id}").get_data(as_text=True)
    for shown in (h.name, h.id_number, "13912345678", "东坪村", "岱岳镇", "D级（整体危险）",
                  "2026-03-01", "鉴定站", "民主监督员：周监督", "村委负责人：吴主任",
                  "2026-03-05", "2026年度项目", "拆除重建", "已列入计划"):
        assert shown in text, shown
    assert f'href="/review/cases/{case.id}"' in text
    assert f'href="/review/households/{h.id}/apply">登记改造申请' in text
    assert f'href="/review/households/{h.id}/edit"' in text


def test_import_keeps_valid_rows_and_reports_each_rejected_row(client, db, world):
    w = world
    csrf = login_as(client, db, w.users["county_admin"])
    page = client.get("/review/households/import").get_data(as_text=True)
    assert 'type="file" name="file"' in page and 'enctype="multipart/form-data"' in page
    good, other = factories.id_number(), factories.id_number()
    rows = [["户主姓名", "身份证号", "村", "重点对象类别", "家庭人口"],
            ["赵四", good, "东坪村", "低保户", "4"],
            ["钱五", "110105194912310021", "东坪村", "", ""],
            ["孙六", factories.id_number(), "不存在村", "特困", "两"],
            ["李七", other, w.village_b1, "", ""]]
    r = client.post("/review/households/import", data={"csrf": csrf, **csv_upload(rows)})
    assert r.status_code == 200
    text = r.get_data(as_text=True)
    assert "已导入 2 户，2 行有误未导入" in text
    assert re.search(r"<dt>文件行数</dt><dd>4</dd>.*<dt>已导入</dt><dd>2</dd>.*"
                     r"<dt>未导入</dt><dd>2</dd>", text, re.S)
    row3 = re.search(r'<tr data-row="3">(.*?)</tr>', text, re.S)[1]
    assert "钱五" in row3 and "<b>身份证号</b>：身份证号校验位错误，请核对" in row3
    row4 = re.search(r'<tr data-row="4">(.*?)</tr>', text, re.S)[1]
    assert "<b>村</b>：未知的村或不在您的管辖范围内：不存在村" in row4
    assert "<b>重点对象类别</b>：未知的重点对象类别：特困" in row4
    assert "<b>家庭人口</b>：应为数字" in row4
    assert 'data-row="2"' not in text and 'data-row="5"' not in text
    assert {h.name for h in db.session.query(Household)} >= {"赵四", "李七"}
    assert db.session.query(Household).count() == 6


def test_an_unreadable_import_is_refused_with_its_reason(client, db, world):
    w = world
    csrf = login_as(client, db, w.users["county_admin"])
    r = client.post("/review/households/import", data={"csrf": csrf, **csv_upload(
        [["姓名", "电话"], ["赵四", "13800001111"]])})
    assert r.status_code == 422
    text = r.get_data(as_text=True)
    assert "导入文件的表头不正确" in text and "缺少列：身份证号、村" in text
    r = client.post("/review/households/import", data={"csrf": csrf})
    assert r.status_code == 422 and "请选择要导入的 CSV 或 XLSX 文件" in r.get_data(as_text=True)
    assert db.session.query(Household).count() == 4


def test_the_list_costs_the_same_queries_however_many_households(client, db, world,
                                                                  count_queries):
    w = world
    factories.case(db.session, w.households[w.village_a1])
    login_as(client, db, w.users["county_admin"])
    counts = []
    for extra in (0, 30):
        for i in range(extra):
            h = factories.household(db.session, w.village_a1 if i % 2 else w.village_b2,
                                    name=f"新户{i}")
            if i % 5 == 0:
                factories.case(db.session, h)
        with count_queries() as queries:
            assert client.get("/review/households").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
