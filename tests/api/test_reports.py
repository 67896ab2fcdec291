"""The monthly progress forms (004 附件1/附件2) against hand-counted fixtures, the spreadsheet
read back cell by cell, a household's identities as a set, and reports sent up on time."""

import io
import uuid
from datetime import date
from decimal import Decimal

import openpyxl
import pytest

from backend.models import Attachment, Case, FundAllocation, Payment
from tests import factories

NOV = "2026-11"


@pytest.fixture
def world(db, templates):
    return factories.world(db.session)


def started(db, household, *, on, completed=None, method="拆除重建", status="in_progress",
            left_on=None, subsidy=None):
    case = factories.case(db.session, household, status=status, method=method)
    case.started_on, case.completed_on = on, completed
    if left_on:
        case.stage_entered_on = left_on
    if subsidy:
        case.subsidy_yuan = case.subsidy_central_yuan = Decimal(subsidy)
        case.own_funds_yuan = Decimal("10000.00")
    db.session.commit()
    return case


def paid(db, w, case, amount, on, level="central"):
    attachment = Attachment(id=str(uuid.uuid4()), case_id=case.id,
                            village_code=case.village_code, kind="payment_voucher",
                            filename="凭证.pdf", mime="application/pdf", sha256="0" * 64,
                            size_bytes=10, uploaded_by=w.users["finance"].id)
    db.session.add(attachment)
    db.session.add(Payment(id=str(uuid.uuid4()), case_id=case.id, village_code=case.village_code,
                           tranche="full", fund_level=level, amount_yuan=Decimal(amount),
                           paid_on=on, payee_kind="household", payee_name="户主",
                           voucher_id=attachment.id, recorded_by=w.users["finance"].id))
    db.session.commit()


def funds(db, w, kind, level, amount, on):
    db.session.add(FundAllocation(county_code=w.county, year=2026, fund_level=level, kind=kind,
                                  amount_yuan=Decimal(amount), on=on,
                                  recorded_by=w.users["finance"].id))
    db.session.commit()


@pytest.fixture
def county(db, world):
    """岱岳镇 (town A) and 玉井镇 (town B), counted by hand below."""
    w = world
    a1, a2, b1 = w.village_a1, w.village_a2, w.village_b1
    h = {name: factories.household(db.session, village, name=name, category=category,
                                   identities=identities)
         for name, village, category, identities in [
             ("两重身份", a1, "lifted_supported", ["lifted_supported", "dibao"]),
             ("低保户甲", a1, "dibao", ["dibao"]),
             ("一般户", a2, "ordinary", []),
             ("特困下月", a2, "tekun", ["tekun"]),
             ("已取消", a1, "dibao_edge", ["dibao_edge"]),
             ("月后取消", a1, "dibao_edge", ["dibao_edge"]),
             ("抗震户", a1, "dibao", ["dibao"]),
             ("玉井户", b1, "edge_at_risk", ["edge_at_risk"])]}
    # started and finished in November: counted in both, under its first identity only
    both = started(db, h["两重身份"], on=date(2026, 11, 3), completed=date(2026, 11, 25),
                   status="completed", subsidy="14000.00")
    started(db, h["低保户甲"], on=date(2026, 9, 1))
    started(db, h["一般户"], on=date(2026, 10, 1))  # not one of the form's eight groups
    started(db, h["特困下月"], on=date(2026, 12, 1))  # after the month's end
    started(db, h["已取消"], on=date(2026, 8, 1), status="cancelled", left_on=date(2026, 11, 9))
    started(db, h["月后取消"], on=date(2026, 8, 1), status="cancelled",
            left_on=date(2026, 12, 2))
    started(db, h["抗震户"], on=date(2026, 10, 8), method="抗震改造")
    started(db, h["玉井户"], on=date(2026, 7, 7), completed=date(2026, 10, 30),
            status="completed", subsidy="20000.00")
    paid(db, w, both, "12500.00", date(2026, 11, 28))
    paid(db, w, both, "1500.00", date(2026, 12, 1))  # December: not in November's form
    funds(db, w, "confirmed", "provincial", "1000000.00", date(2026, 3, 1))
    funds(db, w, "confirmed", "below_provincial", "500000.00", date(2026, 4, 1))
    funds(db, w, "received", "central", "2000000.00", date(2026, 5, 1))
    funds(db, w, "received", "provincial", "300000.00", date(2026, 12, 5))  # after the month
    return w


def report(client, w, role="county_admin", **query):
    r = client.get("/api/v1/reports/monthly", headers=w.headers(role),
                   query_string={"month": NOV, **query})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_the_november_form_counted_by_hand(client, county):
    data = report(client, county)
    assert data["title"] == "山阴县 2026 年 11 月农村危房改造进度报表"
    assert data["as_of"] == "2026-11-30"
    town_a, town_b = data["rows"]
    cols = [c for c in town_a["columns"]]
    # 开工 (1–8): 脱贫享受政策户 1, 低保户 1, 低保边缘家庭 1 (cancelled only in December)
    assert cols[:9] == ["1", "0", "0", "1", "0", "0", "1", "0", "3"]
    # 竣工 (10–18): the household with two identities, once
    assert cols[9:18] == ["1", "0", "0", "0", "0", "0", "0", "0", "1"]
    assert cols[18:23] == [None] * 5  # the county's funds are on its total row
    assert cols[23:26] == ["1.2500", "0.0000", "0.0000"]  # 12,500 yuan paid by Nov 30
    assert cols[26] == "2.4000"  # 14,000 subsidy + 10,000 own funds, completed
    assert town_b["columns"][:9] == ["0", "0", "1", "0", "0", "0", "0", "0", "1"]
    total = data["total"]["columns"]
    assert total[8] == "4" and total[17] == "2"
    assert total[18:23] == ["150.0000", "100.0000", "200.0000", "0.0000", "0.0000"]
    assert total[26] == "5.4000"


def test_the_seismic_form_counts_only_seismic_works(client, county):
    data = report(client, county, form="seismic")
    assert data["title"].endswith("既有房屋抗震改造进度报表")
    assert data["rows"][0]["columns"][:9] == ["0", "0", "0", "1", "0", "0", "0", "0", "1"]
    assert data["total"]["columns"][18] is None  # funds reported on the renovation form


def test_a_town_gets_its_own_row(client, county):
    data = report(client, county, role="town_reviewer")
    assert [r["name"] for r in data["rows"]] == ["岱岳镇"] and data["total"] is None
    r = client.get("/api/v1/reports/monthly", headers=county.headers("town_reviewer"),
                   query_string={"month": NOV, "region": county.town_b})
    assert r.status_code == 404


@pytest.mark.parametrize("month", ["2026-13", "1999-01", "26-11", "2026-1x"])
def test_a_bad_month_is_refused(client, world, month):
    r = client.get("/api/v1/reports/monthly", headers=world.headers("county_admin"),
                   query_string={"month": month})
    assert r.status_code == 422


def test_the_spreadsheet_is_laid_out_as_the_seed(client, county):
    r = client.get("/api/v1/reports/monthly.xlsx", headers=county.headers("county_admin"),
                   query_string={"month": NOV})
    assert r.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(r.data)).active
    assert sheet["A1"].value == "山阴县 2026 年 11 月农村危房改造进度报表"
    assert sheet["A2"].value == "填报单位（盖章）：山阴县"
    assert sheet["A3"].value.startswith("填报人：")
    assert (sheet["A5"].value, sheet["B5"].value, sheet["K5"].value) == ("单位", "开工户数",
                                                                         "竣工户数")
    assert sheet["T5"].value == "已落实的地方各级补助资金数额"
    assert sheet["V5"].value == "已下达到县的各级补助资金数额"
    assert sheet["Y5"].value == "县级财政已支付各级补助资金数额"
    assert sheet["AB5"].value == "完成投资总额"
    assert [sheet.cell(6, c).value for c in range(2, 11)] == [
        "脱贫享受政策户", "脱贫不稳定户", "边缘易致贫户", "低保户", "分散供养特困人员",
        "严重困难户", "低保边缘家庭", "其他脱贫户", "小计"]
    assert sheet["B7"].value == "户" and sheet["T7"].value == "万元"
    assert [sheet.cell(8, c).value for c in (1, 2, 28)] == ["栏次", "1", "27"]
    merged = {str(m) for m in sheet.merged_cells.ranges}
    assert {"A5:A7", "B5:J5", "K5:S5", "T5:U5", "V5:X5", "Y5:AA5", "AB5:AB6"} <= merged
    assert sheet["A9"].value == "岱岳镇" and sheet["B9"].value == 1
    assert sheet["A11"].value == "山阴县合计"
    assert sheet["T11"].value == Decimal("150.0000") or sheet["T11"].value == 150
    assert sheet["T11"].number_format == "#,##0.0000"
    notes = [sheet.cell(row, 1).value for row in range(12, sheet.max_row + 1)]
    assert "填表说明：" in notes and any("第 19 栏" in (n or "") for n in notes)


def test_identities_are_a_set_and_the_category_their_first(client, world):
    w = world
    body = {"village_code": w.village_a1, "name": "多重身份户",
            "id_number": factories.id_number(), "identities": ["dibao", "lifted_unstable"]}
    r = client.post("/api/v1/households", json=body, headers=w.headers("county_admin"))
    assert r.status_code == 201, r.get_json()
    data = r.get_json()
    assert data["category"] == "lifted_unstable" and data["identities"] == [
        "lifted_unstable", "dibao"]
    r = client.patch(f"/api/v1/households/{data['id']}", json={"category": "lifted_unstable",
                                                                 "notes": "复核"},
                     headers=w.headers("county_admin"))
    assert r.get_json()["identities"] == ["lifted_unstable", "dibao"]  # kept
    r = client.post("/api/v1/households", headers=w.headers("county_admin"), json={
        **body, "id_number": factories.id_number(), "identities": ["dibao"],
        "category": "tekun"})
    assert r.status_code == 422 and "category" in r.get_json()["error"]["fields"]
    r = client.post("/api/v1/households", headers=w.headers("county_admin"), json={
        **body, "id_number": factories.id_number(), "identities": ["ordinary"]})
    assert r.status_code == 422


def test_an_import_keeps_every_identity(client, world):
    w = world
    number = factories.id_number()
    text = f"户主姓名,身份证号,村,重点对象类别\n赵多重,{number},东坪村,低保户、脱贫不稳定户\n"
    r = client.post("/api/v1/households/import", headers=w.headers("county_admin"),
                    data={"file": (io.BytesIO(text.encode()), "台账.csv")},
                    content_type="multipart/form-data")
    assert r.status_code == 200 and r.get_json()["created"] == 1, r.get_json()
    found = client.get("/api/v1/households", headers=w.headers("county_admin"),
                       query_string={"q": "赵多重"}).get_json()["items"][0]
    assert found["category"] == "lifted_unstable"
    assert found["identities"] == ["lifted_unstable", "dibao"]


def test_a_cancelled_case_leaves_the_month_it_was_cancelled_in(db, county):
    left = db.session.query(Case).filter(Case.stage_entered_on == date(2026, 11, 9)).one()
    assert left.status == "cancelled"  # counted in October's form, not in November's


def test_tancheng_files_its_form_by_the_third_and_the_to_do_says_so(client, db, templates):
    from tests.api.test_workflow import ok

    factories.region(db.session, "370000000000", "山东省", "province")
    factories.region(db.session, "371300000000", "临沂市", "prefecture", "370000000000")
    factories.region(db.session, "371322000000", "郯城县", "county", "371300000000")
    admin = factories.user(db.session, "county_admin", ["371322000000"], username="tc_admin")
    token = factories.token_for(db.session, admin)
    headers = {"Authorization": f"Bearer {token}"}
    items = ok(client.get("/api/v1/me/todo", headers=headers))["items"]
    due = [i for i in items if i["kind"] == "report"]
    assert len(due) == 1 and due[0]["due_on"].endswith("-03")
    period = due[0]["period"]
    r = client.post("/api/v1/reports/filings", headers=headers, json={
        "region_code": "371322000000", "report": "monthly_progress", "period": period})
    assert r.status_code == 201, r.get_json()
    again = client.post("/api/v1/reports/filings", headers=headers, json={
        "region_code": "371322000000", "report": "monthly_progress", "period": period})
    assert again.status_code == 409
    items = ok(client.get("/api/v1/me/todo", headers=headers))["items"]
    assert not [i for i in items if i["kind"] == "report"]


def test_who_may_file_and_read_reports(client, world):
    w = world
    body = {"region_code": w.town_a, "report": "monthly_progress", "period": "2026-10"}
    assert client.post("/api/v1/reports/filings", json=body,
                       headers=w.headers("inspector")).status_code == 403
    r = client.post("/api/v1/reports/filings", json=body, headers=w.headers("town_reviewer"))
    assert r.status_code == 422  # 山阴's file sets no monthly report
    r = client.post("/api/v1/reports/filings", headers=w.headers("town_reviewer"),
                    json={**body, "region_code": w.town_b})
    assert r.status_code == 404
    for role in ("inspector", "village_cadre", "department"):
        r = client.get("/api/v1/reports/monthly", headers=w.headers(role),
                       query_string={"month": NOV})
        assert r.status_code == 403, role


def test_a_case_entered_after_the_fact_counts_from_its_recorded_dates(client, db, world):
    """Placed at 已验收 on 2026-03-10 (系统外办理) with no start date of its own: it had started
    and been completed by then."""
    h = factories.household(db.session, world.village_a1, name="迁入户", category="tekun")
    factories.case(db.session, h, status="accepted")
    data = report(client, world, month="2026-03")
    assert data["rows"][0]["columns"][4] == "1" and data["rows"][0]["columns"][13] == "1"
    assert report(client, world, month="2026-02")["rows"][0]["columns"][8] == "0"


def test_a_month_never_filed_stays_owed_after_the_next_one_comes(db, templates):
    from backend.models import ReportFiling
    from backend.services.errors import InvalidInput
    from backend.services.policy import Actor
    from backend.services.reports import filings

    factories.region(db.session, "370000000000", "山东省", "province")
    factories.region(db.session, "371300000000", "临沂市", "prefecture", "370000000000")
    factories.region(db.session, "371322000000", "郯城县", "county", "371300000000")
    admin = factories.user(db.session, "county_admin", ["371322000000"], username="tc_admin")
    db.session.add(ReportFiling(region_code="371322000000", report="monthly_progress",
                                period="2026-08", filed_on=date(2026, 9, 2),
                                filed_by=admin.id))
    db.session.commit()
    actor = Actor.of(admin)
    owed = filings.due_reports(db.session, actor, date(2026, 12, 1))
    assert [(f"{r.period:%Y-%m}", str(r.due_on)) for r in owed] == [
        ("2026-09", "2026-10-03"), ("2026-10", "2026-11-03"), ("2026-11", "2026-12-03")]
    with pytest.raises(InvalidInput):  # November's form cannot be sent before November ends
        filings.file_report(db.session, actor, "371322000000", "monthly_progress",
                            date(2026, 11, 1), date(2026, 11, 30), date(2026, 12, 1))
