"""The desk's money pages: the case page's 补助资金 section (policy check, 核定补助, payments
with their vouchers, dues), the approve and accept forms' written reasons and built numbers,
the county's 补助拨付 page and the payment ledger. 山阴 pays the whole subsidy after the
county's acceptance, within 30 days, recorded by the town or the county's finance bureau."""

import io
import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import openpyxl
import pytest

from backend.api.visits import VisitBodySchema
from backend.models import Attachment, Case, FundAllocation, Payment
from backend.models.base import china_today
from backend.services import attachments, visits
from backend.services.policy import Actor
from tests import factories
from tests.web import login_as, upload

TODAY = china_today()
PDF = b"%PDF-1.4\n1 0 obj\n%%EOF\n"
ACCOUNT = "6228480012345678"
SIGNERS = [{"role": "民主监督员", "name": "赵一"}, {"role": "村委负责人", "name": "钱二"},
           {"role": "乡镇负责人", "name": "孙三"}]


@pytest.fixture
def world(db, templates):
    return factories.world(db.session)


def page(client, case_id) -> str:
    r = client.get(f"/review/cases/{case_id}")
    assert r.status_code == 200
    return r.get_data(as_text=True)


def fund(client, csrf, case_id, *, central="14000", area="45", **more):
    return client.post(f"/review/cases/{case_id}/funding", data={
        "csrf": csrf, "central": central, "provincial": "0", "below_provincial": "0",
        "planned_area_m2": area, **more})


def pay_form(csrf, *, amount="14000.00", payment_id=None, voucher=PDF, **more) -> dict:
    return {"csrf": csrf, "id": payment_id or str(uuid.uuid4()), "tranche": "full",
            "fund_level": "central", "amount_yuan": amount, "paid_on": TODAY.isoformat(),
            "payee_kind": "household", "payee_account": ACCOUNT,
            "voucher": (io.BytesIO(voucher), "拨付凭证.pdf"), **more}


def post_pay(client, case_id, data):
    return client.post(f"/review/cases/{case_id}/payments", data=data,
                       content_type="multipart/form-data")


def post_action(client, csrf, case_id, action, **fields):
    return client.post(f"/review/cases/{case_id}/actions", content_type="multipart/form-data",
                       data={"csrf": csrf, "action": action, **fields})


def approval_case(db, w):
    """A case at 审批 whose appraisal is signed by three and filed by the county."""
    case = factories.case(db.session, w.households[w.village_a1], status="approval")
    case.appraisal.signatures = SIGNERS
    case.appraisal.filed_on = TODAY - timedelta(days=5)
    db.session.commit()
    return case


def accepted_case(db, w):
    """A case the county has accepted (on 2026-03-10, the factories' date): all due now."""
    case = factories.case(db.session, w.households[w.village_a1], status="accepted")
    case.household.family_size = 5  # up to 90 m² under the hard per-person cap
    db.session.commit()
    return case


def stored(db, model) -> int:
    db.session.expire_all()
    return db.session.query(model).count()


def test_the_funding_form_sets_the_subsidy_until_approval_locks_it(client, db, world):
    w = world
    case = approval_case(db, w)
    login_as(client, db, w.users["auditor"])
    text = page(client, case.id)
    assert 'id="money"' in text and "尚未核定补助" in text and "保存核定补助" not in text
    csrf = login_as(client, db, w.users["town_reviewer"])
    text = page(client, case.id)
    assert "核定补助金额（按资金级次）" in text and 'href="#money"' in text
    assert "保存核定补助" in text
    r = fund(client, csrf, case.id, central="-1", area="45", own_funds_yuan="3000.001")
    assert r.status_code == 422
    text = r.get_data(as_text=True)
    assert "核定补助未保存" in text and "中央补助：应不小于 0" in text
    assert "自筹资金：金额最多两位小数" in text
    assert 'value="3000.001"' in text  # what was typed stays in the form
    r = fund(client, csrf, case.id, central="10000", provincial="2500.50", area="45",
             estimated_cost_yuan="60000", own_funds_yuan="30000")
    assert r.status_code == 303 and r.headers["Location"].endswith("notice=funded#money")
    db.session.expire_all()
    c = db.session.get(Case, case.id)
    assert c.subsidy_yuan == Decimal("12500.50") and c.own_funds_yuan == Decimal("30000.00")
    text = page(client, case.id)
    assert "12,500.50 元" in text and "42,500.50 元" in text  # subsidy; total investment
    assert "按核定方案" in text and "待批准" in text
    assert post_action(client, csrf, case.id, "approve").status_code == 303
    text = page(client, case.id)
    assert "已批准，不再修改" in text and "保存核定补助" not in text
    r = fund(client, csrf, case.id, central="20000")
    assert r.status_code == 409 and "补助已经批准" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Case, case.id).subsidy_yuan == Decimal("12500.50")


def test_a_soft_rule_exceeded_needs_a_written_reason_to_approve(client, db, world):
    w = world
    case = approval_case(db, w)
    case.household.family_size = 5  # 72 m² is 14.4 m² each: only the 60 m² principle warns
    db.session.commit()
    csrf = login_as(client, db, w.users["town_reviewer"])
    assert fund(client, csrf, case.id, area="72").status_code == 303  # 003 §五(二): 60 m²
    text = page(client, case.id)
    assert "超出原则，需说明理由" in text and "面积 72.00 m²，上限 60.00 m²" in text
    assert 'name="justification-household_area_cap"' in text
    r = post_action(client, csrf, case.id, "approve", note="核准拆除重建")
    assert r.status_code == 422
    text = r.get_data(as_text=True)
    assert "批准未办理" in text and "超出政策原则的事项须书面说明理由" in text
    assert 'name="justification-household_area_cap"' in text and "核准拆除重建" in text
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "approval"
    r = post_action(client, csrf, case.id, "approve", note="核准拆除重建",
                    **{"justification-household_area_cap": "五代同堂，经村民代表会议同意"})
    assert r.status_code == 303
    db.session.expire_all()
    c = db.session.get(Case, case.id)
    assert c.status == "planned"
    recorded = c.history[-1].data["policy"]
    assert {"rule": "household_area_cap", "result": "warned",
            "justification": "五代同堂，经村民代表会议同意"}.items() <= recorded[0].items()
    assert "已说明理由：五代同堂，经村民代表会议同意" in page(client, case.id)


def test_a_hard_rule_refuses_approval_citing_the_seed(client, db, world):
    w = world
    case = approval_case(db, w)
    case.household.family_size = 3
    db.session.commit()
    csrf = login_as(client, db, w.users["town_reviewer"])
    assert fund(client, csrf, case.id, area="58").status_code == 303  # 3 × 18 = 54 m²
    r = post_action(client, csrf, case.id, "approve",
                    **{"justification-household_area_cap": "x"})
    assert r.status_code == 422
    text = r.get_data(as_text=True)
    assert "不符合政策规定" in text and "003 §五(二)" in text
    assert "人均建筑面积不得超过 18 m²" in text


def completed_case(db, w):
    """A case whose completion visit is approved, with each phase's photos and the archive's
    papers: ready for the town's acceptance."""
    h = w.households[w.village_a1]
    h.family_size = 5  # 66 m² is 13.2 m² each: only the 60 m² principle warns
    case = factories.case(db.session, h, status="in_progress")
    inspector = Actor.of(w.users["inspector"])
    upload(db.session, inspector, h, phase="before", seed=61, node="site", item="site.safety",
           case_id=case.id, days_ago=0.02)
    upload(db.session, inspector, h, phase="during", seed=62, node="foundation",
           item="foundation.type", case_id=case.id, days_ago=0.015)
    after = [upload(db.session, inspector, h, phase="after", seed=63 + i, node=node, item=item,
                    case_id=case.id, days_ago=0.01)
             for i, (node, item) in enumerate([("basis", "basis.site"),
                                               ("structure", "structure.walls")])]
    now = datetime.now(UTC)
    raw = {"household_id": h.id, "case_id": case.id, "kind": "completion", "phase": "after",
           "template": {"code": "completion"},
           "started_at": (now - timedelta(minutes=30)).isoformat(),
           "ended_at": (now - timedelta(minutes=5)).isoformat(), "appraisal_after": "A",
           "signoffs": [{"role": role, "name": name, "signed_at": now.isoformat()}
                        for role, name in (("town", "岱岳镇 李工"), ("household", h.name),
                                           ("builder", "赵师傅"))],
           "results": [{"item": "basis.site", "result": "pass", "photos": [after[0]]},
                       {"item": "structure.walls", "result": "pass", "photos": [after[1]]}]}
    visit_id = str(uuid.uuid4())
    visits.record_visit(db.session, inspector, visit_id, VisitBodySchema().load(raw),
                        rules=visits.VisitRules(), digest=visits.body_hash(raw))
    town = Actor.of(w.users["town_reviewer"])
    visits.review_visit(db.session, town, visit_id, "approve", None, today=TODAY)
    for kind in ("application_form", "household_register", "income_proof", "head_photo",
                 "meeting_minutes", "review_form", "appraisal_report", "agreement",
                 "publicity_photo", "acceptance_form"):
        attachments.store_attachment(db.session, _store(), town, str(uuid.uuid4()),
                                     PDF + kind.encode(), case_id=case.id, kind=kind,
                                     filename=f"{kind}.pdf", max_bytes=10 << 20)
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "completed"
    return case


def _store():
    from backend.extensions import object_store

    return object_store()


def test_the_county_acceptance_form_records_the_built_area_and_cost(client, db, world):
    w = world
    case = completed_case(db, w)
    csrf = login_as(client, db, w.users["town_reviewer"])
    assert fund(client, csrf, case.id).status_code == 303  # approved before the system
    text = page(client, case.id)
    assert 'name="area_m2"' in text and "竣工建筑面积（m²）（必填）" not in text  # the town's
    assert post_action(client, csrf, case.id, "accept", note="乡镇验收合格").status_code == 303
    csrf = login_as(client, db, w.users["county_admin"])
    assert "竣工建筑面积（m²）（必填）" in page(client, case.id)
    r = post_action(client, csrf, case.id, "accept", note="县住建局验收", cost_yuan="52000")
    assert r.status_code == 422
    text = r.get_data(as_text=True)
    assert "请填写竣工建筑面积" in text and 'value="52000"' in text and "县住建局验收" in text
    # Built bigger than 60 m²: the acceptance checks the house as built and asks why.
    r = post_action(client, csrf, case.id, "accept", area_m2="66", cost_yuan="52000")
    assert r.status_code == 422
    text = r.get_data(as_text=True)
    assert 'name="justification-household_area_cap"' in text and "面积 66.00 m²" in text
    assert 'value="66"' in text
    db.session.expire_all()
    assert db.session.get(Case, case.id).area_after_m2 is None  # rolled back with the refusal
    r = post_action(client, csrf, case.id, "accept", area_m2="66", cost_yuan="52000",
                    **{"justification-household_area_cap": "按户型图集 66 m² 建造"})
    assert r.status_code == 303
    db.session.expire_all()
    c = db.session.get(Case, case.id)
    assert (c.area_after_m2, c.cost_yuan) == (Decimal("66.00"), Decimal("52000.00"))
    assert c.history[-1].data["area_m2"] == "66.00"
    text = page(client, case.id)
    assert "按竣工实测" in text and "66.00 m²" in text
    csrf = login_as(client, db, w.users["finance"])  # 财政 co-signs with nothing to add
    assert post_action(client, csrf, case.id, "accept").status_code == 303
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "accepted"


def test_a_payment_with_its_voucher_moves_the_case_to_paid(client, db, world):
    w = world
    case = accepted_case(db, w)
    login_as(client, db, w.users["finance"])
    assert "登记拨付" not in page(client, case.id)  # no subsidy approved to pay yet
    csrf = login_as(client, db, w.users["town_reviewer"])
    assert fund(client, csrf, case.id, central="10000", provincial="4000").status_code == 303
    text = page(client, case.id)
    assert "登记拨付" in text and "已逾期" in text and 'name="voucher"' in text
    r = post_pay(client, case.id, pay_form(csrf, amount="14000.00"))
    assert r.status_code == 422  # more than the central level's 10,000
    text = r.get_data(as_text=True)
    assert "拨付未保存" in text and "中央资金累计将超过核定的 10000.00 元" in text
    assert 'value="14000.00"' in text
    assert stored(db, Payment) == 0
    assert post_pay(client, case.id, pay_form(csrf, amount="10000")).status_code == 303
    r = post_pay(client, case.id, pay_form(csrf, amount="4000", fund_level="provincial",
                                           payee_name="王建国", batch_no="岱岳镇拨〔2026〕3号"))
    assert r.status_code == 303 and r.headers["Location"].endswith("notice=paid#money")
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "paid"  # paid in full: 补助已拨付
    vouchers = db.session.query(Attachment).filter_by(kind="payment_voucher").all()
    assert len(vouchers) == 2  # the refused form stored none: no voucher without its payment
    payment = db.session.query(Payment).filter_by(fund_level="provincial").one()
    text = page(client, case.id)
    assert "已拨付 14,000.00 元" in text and ACCOUNT in text  # the town sees the account
    assert "批次 岱岳镇拨〔2026〕3号" in text
    assert f"/review/attachments/{payment.voucher_id}" in text
    assert client.get(f"/review/attachments/{payment.voucher_id}").data == PDF
    login_as(client, db, w.users["auditor"])
    text = page(client, case.id)
    assert ACCOUNT not in text and ACCOUNT[-4:] in text


def test_the_same_payment_form_sent_twice_records_one_payment(client, db, world):
    w = world
    case = accepted_case(db, w)
    assert fund(client, login_as(client, db, w.users["town_reviewer"]), case.id
                ).status_code == 303
    csrf = login_as(client, db, w.users["finance"])
    form_id = re.compile(r'name="id" value="([0-9a-f-]{36})"')
    payment_id = form_id.search(page(client, case.id)).group(1)
    assert form_id.search(page(client, case.id)).group(1) != payment_id  # one per rendering
    first = post_pay(client, case.id, pay_form(csrf, payment_id=payment_id, amount="10000"))
    again = post_pay(client, case.id, pay_form(csrf, payment_id=payment_id, amount="10000"))
    assert first.status_code == again.status_code == 303
    assert again.headers["Location"].endswith("notice=paid_again#money")
    assert stored(db, Payment) == 1
    assert db.session.query(Attachment).filter_by(kind="payment_voucher").count() == 1
    assert "该笔拨付此前已登记，未重复记录" in client.get(again.headers["Location"]).get_data(
        as_text=True)
    # The same id for another amount (a form sent back and changed) is refused, not merged;
    # the refused form comes back with a new id.
    r = post_pay(client, case.id, pay_form(csrf, payment_id=payment_id, amount="4000"))
    assert r.status_code == 409
    text = r.get_data(as_text=True)
    assert "该拨付记录编号已用于内容不同的另一笔款项" in text and 'value="4000"' in text
    assert form_id.search(text).group(1) != payment_id
    assert stored(db, Payment) == 1


def test_a_village_cadre_cannot_post_a_payment(client, db, world):
    w = world
    case = accepted_case(db, w)
    fund(client, login_as(client, db, w.users["town_reviewer"]), case.id)
    csrf = login_as(client, db, w.users["village_cadre"])
    assert "登记拨付" not in page(client, case.id)
    r = post_pay(client, case.id, pay_form(csrf))
    assert r.status_code == 403
    assert "由乡镇审核员、财政办理" in r.get_data(as_text=True)
    assert stored(db, Payment) == 0 and stored(db, Attachment) == 0


def test_the_payments_page_lists_what_is_overdue_first(client, db, world):
    w = world
    late = accepted_case(db, w)
    soon = factories.case(db.session, w.households[w.village_a2], status="accepted")
    soon.accepted_on = TODAY - timedelta(days=5)
    elsewhere = factories.case(db.session, w.households[w.village_b1], status="accepted")
    for c in (late, soon, elsewhere):
        c.subsidy_central_yuan = c.subsidy_yuan = Decimal("14000.00")
        c.planned_area_m2 = Decimal("45.00")
    db.session.commit()
    login_as(client, db, w.users["town_reviewer"])
    r = client.get("/review/payments")
    assert r.status_code == 200
    text = r.get_data(as_text=True)
    assert 'aria-current="page">补助拨付' in text and "1 笔已逾期" in text
    assert "已逾期" in text and "还剩 25 天" in text and "14,000.00" in text
    links = re.findall(r'href="/review/cases/(\d+)#money">', text)
    assert links[0] == str(late.id) and str(soon.id) in links and str(elsewhere.id) not in links
    assert 'class="late"' in text
    assert "登记资金" not in text  # the town does not record the county's funds


def test_the_county_records_its_funds_per_level(client, db, world):
    w = world
    csrf = login_as(client, db, w.users["finance"])
    data = {"csrf": csrf, "county_code": w.county, "year": str(TODAY.year), "kind": "received",
            "fund_level": "central", "amount_yuan": "1400000", "on": TODAY.isoformat(),
            "document_no": "晋财农〔2026〕12号"}
    r = client.post("/review/funds", data={**data, "amount_yuan": "abc"})
    assert r.status_code == 422
    text = r.get_data(as_text=True)
    assert "资金未登记" in text and "金额：应为数字" in text and "晋财农〔2026〕12号" in text
    r = client.post("/review/funds", data=data)
    assert r.status_code == 303 and "notice=allocated" in r.headers["Location"]
    text = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "已登记资金" in text and "1,400,000.00" in text
    assert stored(db, FundAllocation) == 1
    csrf = login_as(client, db, w.users["auditor"])
    assert "登记资金" not in client.get("/review/payments").get_data(as_text=True)
    assert client.post("/review/funds", data={**data, "csrf": csrf}).status_code == 403


def ledger_cells(client, **params) -> list[tuple]:
    r = client.get("/review/payments/ledger.xlsx", query_string={"year": TODAY.year, **params})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.mimetype.endswith("spreadsheetml.sheet")
    book = openpyxl.load_workbook(io.BytesIO(r.data))
    return list(book.worksheets[0].iter_rows(values_only=True))


def test_the_ledger_downloads_masked_for_a_role_without_personal_data(client, db, world):
    w = world
    case = accepted_case(db, w)
    csrf = login_as(client, db, w.users["town_reviewer"])
    fund(client, csrf, case.id)
    assert post_pay(client, case.id, pay_form(csrf)).status_code == 303
    login_as(client, db, w.users["auditor"])
    text = client.get("/review/payments").get_data(as_text=True)
    assert "下载台账" in text and "玉井村" in text and "已打码" in text
    rows = ledger_cells(client)
    flat = [str(v) for row in rows for v in row if v is not None]
    assert ACCOUNT not in flat and any(v.endswith(ACCOUNT[-4:]) and v != ACCOUNT for v in flat)
    assert case.household.id_number not in flat
    login_as(client, db, w.users["finance"])
    flat = [str(v) for row in ledger_cells(client, region=w.village_a1) for v in row]
    assert ACCOUNT in flat and "14000" in " ".join(flat)
    assert len(ledger_cells(client, region=w.village_b1)) == 1  # the headings only
    r = client.get("/review/payments/ledger.xlsx", query_string={"year": "x"})
    assert r.status_code == 422


def test_money_paid_on_a_cancelled_case_is_recovered_through_the_form(client, db, world):
    w = world
    case = accepted_case(db, w)
    csrf = login_as(client, db, w.users["town_reviewer"])
    fund(client, csrf, case.id)
    assert post_pay(client, case.id, pay_form(csrf, amount="10000")).status_code == 303
    r = post_action(client, csrf, case.id, "cancel", note="农户已外迁，取消补助")
    assert r.status_code == 303
    text = client.get("/review/payments").get_data(as_text=True)
    assert "待追回（1）" in text and "农户已外迁，取消补助" in text
    text = page(client, case.id)
    assert "追回中" in text and "登记追回款" in text and "登记拨付" not in text
    receipt = {"csrf": csrf, "id": str(uuid.uuid4()), "tranche": "recovery",
               "fund_level": "central", "paid_on": TODAY.isoformat()}
    r = post_pay(client, case.id, {**receipt, "amount_yuan": "12000",
                                   "voucher": (io.BytesIO(PDF + b"1"), "缴款书.pdf")})
    assert r.status_code == 422 and "待追回 10000.00 元" in r.get_data(as_text=True)
    r = post_pay(client, case.id, {**receipt, "amount_yuan": "10000",
                                   "voucher": (io.BytesIO(PDF + b"2"), "缴款书.pdf")})
    assert r.status_code == 303 and r.headers["Location"].endswith("notice=recovered#money")
    text = page(client, case.id)
    assert "已追回" in text and "登记追回款" not in text
    assert "待追回（0）" in client.get("/review/payments").get_data(as_text=True)


def test_the_payments_page_costs_the_same_queries_for_one_case_or_many(client, db, world,
                                                                        count_queries):
    w = world
    login_as(client, db, w.users["finance"])
    counts = []
    for n in (1, 6):
        for i in range(n):
            c = factories.case(db.session, factories.household(db.session, w.village_a1,
                                                               name=f"待拨{n}-{i}"),
                               status="accepted")
            c.subsidy_central_yuan = c.subsidy_yuan = Decimal("14000.00")
        db.session.commit()
        db.session.expire_all()
        with count_queries() as queries:
            assert client.get("/review/payments").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 10, counts
