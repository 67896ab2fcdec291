"""Subsidies and the money trail through the API (issue #14): the approved plan by fund level,
the county's policy rules at approval, each county's tranche rules (郯城 004 §四(三), 山阴
003 §七(二)2, 武乡 000), exact `Decimal` sums, idempotent payments, masking of the payee's
account, recoveries after a cancellation, the ledger workbook and the county's funds.

The 山阴 test county (140621) is `factories.world`; 郯城 and 武乡 get their own regions and
users here, and follow their own procedure files as loaded by the `db` fixture."""

import io
import uuid
from datetime import timedelta
from decimal import Decimal

import openpyxl
import pytest

from backend import display
from backend.models import Case, CaseStep, Payment, Recovery
from backend.services.errors import JustificationRequired, PolicyViolation
from backend.services.policy import Actor
from backend.services.subsidies import checks, ledger
from backend.services.subsidies.payments import dues, payments_of
from backend.services.workflow.templates import workflow_of
from tests import factories
from tests.api.test_workflow import SIGNERS, TODAY, act, attach, ok, pay, stage_of

ACCOUNT = "6228480012345678"

# (province, prefecture, county, town, village): code and name of each
COUNTIES = {
    "tancheng": (("370000000000", "山东省"), ("371300000000", "临沂市"),
                 ("371322000000", "郯城县"), ("371322100000", "郯城街道"),
                 ("371322100201", "东关村")),
    "wuxiang": (("140000000000", "山西省"), ("140400000000", "长治市"),
                ("140429000000", "武乡县"), ("140429100000", "丰州镇"),
                ("140429100201", "东良村")),
}


@pytest.fixture
def world(db):
    return factories.world(db.session)


def county_world(db, name: str) -> factories.World:
    """Another county's regions and a user of each role there (town roles in its one town)."""
    levels = ("province", "prefecture", "county", "town", "village")
    parent = None
    for (code, label), level in zip(COUNTIES[name], levels, strict=True):
        if db.session.get(factories.Region, code) is None:
            factories.region(db.session, code, label, level, parent)
        parent = code
    (_, _), (_, _), (county, _), (town, _), (village, _) = COUNTIES[name]
    w = factories.World(county=county, town_a=town, village_a1=village)
    for role, area in (("town_reviewer", town), ("county_admin", county), ("finance", county),
                       ("auditor", county), ("inspector", town), ("village_cadre", village)):
        w.users[role] = factories.user(db.session, role, [area], username=f"{name}_{role}")
        w.tokens[role] = factories.token_for(db.session, w.users[role])
    return w


def placed(db, w, status, *, village=None, method="拆除重建", category="dibao",
           family_size=3, name="王建国", **values) -> Case:
    """A case of its own household placed at `status` as if migrated; `values` set on it."""
    h = factories.household(db.session, village or w.village_a1, name=name,
                            category=category, family_size=family_size)
    case = factories.case(db.session, h, status=status, method=method)
    for key, value in values.items():
        setattr(case, key, value)
    db.session.commit()
    return case


def at_approval(db, w, **kwargs) -> Case:
    """A case at 审批 whose D-grade appraisal is signed and filed."""
    case = placed(db, w, "approval", **kwargs)
    case.appraisal.signatures = SIGNERS
    case.appraisal.filed_on = TODAY - timedelta(days=30)
    db.session.commit()
    return case


def funding(client, w, case_id, role="town_reviewer", **body):
    values = {"central": "14000.00", "provincial": "0", "below_provincial": "0",
              "planned_area_m2": "45.00", **body}
    return client.put(f"/api/v1/cases/{case_id}/funding", headers=w.headers(role), json=values)


def error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.get_json())
    body = response.get_json()["error"]
    if code:
        assert body["code"] == code, body
    return body


def money(client, w, case_id, role="finance") -> dict:
    return ok(client.get(f"/api/v1/cases/{case_id}/payments", headers=w.headers(role)))


# --- the approved plan ---------------------------------------------------------------------
def test_funding_sums_the_levels_and_is_locked_once_approved(client, db, world):
    w = world
    case = at_approval(db, w)
    body = ok(funding(client, w, case.id, central="10000.00", provincial="3000.50",
                      below_provincial="1000.25", estimated_cost_yuan="30000.00",
                      loan_yuan="5000.00", own_funds_yuan="2000.00"))
    assert body["approved_yuan"] == "14000.75"
    assert body["approved_by_level"] == {"central": "10000.00", "provincial": "3000.50",
                                         "below_provincial": "1000.25"}
    assert body["total_investment_yuan"] == "21000.75" and body["approved"] is False
    assert body["planned_area_m2"] == "45.00" and body["payment_roles"] == ["town_reviewer",
                                                                           "finance"]
    ok(funding(client, w, case.id, central="12000.00"))  # before approval it may change
    ok(act(client, w, case.id, "town_reviewer", "approve"))  # 山阴: the town approves
    error(funding(client, w, case.id, central="99999.00"), 409, "subsidy_locked")
    error(funding(client, w, case.id, "county_admin", central="1.00"), 409, "subsidy_locked")
    body = money(client, w, case.id)
    assert body["approved"] is True and body["approved_yuan"] == "12000.00"


def test_a_case_approved_outside_the_system_has_its_subsidy_entered_once(client, db, world):
    w = world
    case = placed(db, w, "accepted")
    ok(funding(client, w, case.id))
    error(funding(client, w, case.id, central="15000.00"), 409, "subsidy_locked")


@pytest.mark.parametrize("value", [
    "12.345", "0.001", "NaN", "Infinity", "-Infinity", "-1", "-0.01", "abc", "10000000.01",
    "1e30", "99999999999999999999999999999999", "1e-30", float("nan"), float("inf"), 1e300,
    True])
def test_money_is_finite_not_negative_two_decimals_and_bounded(client, db, world, value):
    w = world
    case = at_approval(db, w)
    body = error(funding(client, w, case.id, central=value), 422)
    assert "central" in body["fields"]
    assert db.session.get(Case, case.id).subsidy_yuan is None


@pytest.mark.parametrize("value", ["54.005", "1e30", "0", "2000.01", "NaN"])
def test_the_planned_area_is_never_rounded_into_a_rule(client, db, world, value):
    w = world
    case = at_approval(db, w)
    body = error(funding(client, w, case.id, planned_area_m2=value), 422)
    assert "planned_area_m2" in body["fields"]


def test_a_subsidy_of_nothing_is_not_a_subsidy(client, db, world):
    w = world
    case = at_approval(db, w)
    body = error(funding(client, w, case.id, central="0", provincial="0.00"), 422,
                 "invalid_input")
    assert "central" in body["fields"]


# --- the policy check ------------------------------------------------------------------------
def test_the_policy_check_lists_every_rule_with_its_result_numbers_and_citation(
        client, db, world):
    w = world
    case = at_approval(db, w)
    ok(funding(client, w, case.id, planned_area_m2="45.00"))
    body = ok(client.get(f"/api/v1/cases/{case.id}/policy-check",
                         headers=w.headers("auditor")))
    assert body["basis"] == "approval" and body["justifications"] == {}
    _, spec = workflow_of(db.session, db.session.get(Case, case.id))
    assert [r["code"] for r in body["results"]] == [r.code for r in spec.rules]
    for row in body["results"]:
        assert set(row) >= {"code", "kind", "level", "level_label", "text", "source", "result",
                            "result_label", "detail"}
        assert row["source"] and row["text"] and row["detail"]
    by_code = {r["code"]: r for r in body["results"]}
    assert by_code["per_person_area_cap"]["result"] == "passed"
    assert "人均 15.00 m²" in by_code["per_person_area_cap"]["detail"]
    assert by_code["per_person_area_cap"]["source"].startswith("003 §五(二)")
    assert by_code["key_groups_average"]["result"] == "info"  # this very case, averaged
    assert "14,000.00 元" in by_code["key_groups_average"]["detail"]
    # Once built, the house as measured is what is checked.
    db.session.expire_all()
    built = db.session.get(Case, case.id)
    built.area_after_m2, built.cost_yuan = Decimal("60.00"), Decimal("50000.00")
    db.session.commit()
    body = ok(client.get(f"/api/v1/cases/{case.id}/policy-check",
                         headers=w.headers("town_reviewer")))
    by_code = {r["code"]: r for r in body["results"]}
    assert body["basis"] == "acceptance"
    assert by_code["per_person_area_cap"]["result"] == "failed"
    assert "人均 20.00 m²" in by_code["per_person_area_cap"]["detail"]


def test_an_earlier_renovation_of_the_household_fails_the_check(client, db, world):
    w = world
    case = at_approval(db, w)
    earlier = factories.case(db.session, case.household, status="archived", year=2019)
    earlier.started_on = TODAY.replace(year=2019)
    db.session.commit()
    ok(funding(client, w, case.id))
    body = ok(client.get(f"/api/v1/cases/{case.id}/policy-check",
                         headers=w.headers("town_reviewer")))
    repeat = next(r for r in body["results"] if r["code"] == "not_repeated")
    assert repeat["result"] == "failed" and "2019" in repeat["detail"]
    r = error(act(client, w, case.id, "town_reviewer", "approve"), 422, "policy_violation")
    assert any("2019" in reason for reason in r["details"]["reasons"])


def test_a_hard_rule_blocks_the_approval(client, db, world):
    w = world
    case = at_approval(db, w, family_size=3)
    ok(funding(client, w, case.id, planned_area_m2="54.03"))  # 18.01 m² each
    body = error(act(client, w, case.id, "town_reviewer", "approve"), 422, "policy_violation")
    reasons = body["details"]["reasons"]
    assert len(reasons) == 1 and "18.01 m²" in reasons[0] and "003 §五(二)" in reasons[0]
    # A justification does not lift a hard rule.
    r = act(client, w, case.id, "town_reviewer", "approve",
            justifications={"per_person_area_cap": "家中老人需单独居住"})
    error(r, 422, "policy_violation")
    assert stage_of(db, case.id) == "approval"
    ok(funding(client, w, case.id, planned_area_m2="54.00"))  # 18.00 m² each
    assert ok(act(client, w, case.id, "town_reviewer", "approve"))["stage"]["code"] == \
        "planned"


def test_a_soft_rule_needs_a_written_justification_which_is_recorded(client, db, world):
    w = world
    case = at_approval(db, w, family_size=3)
    ok(funding(client, w, case.id, planned_area_m2="38.97"))  # 12.99 m² each
    body = error(act(client, w, case.id, "town_reviewer", "approve"), 422,
                 "justification_required")
    assert list(body["fields"]) == ["justifications.per_person_area_floor"]
    assert "12.99 m²" in body["details"]["reasons"][0]
    r = act(client, w, case.id, "town_reviewer", "approve",
            justifications={"per_person_area_floor": "   "})
    error(r, 422, "justification_required")
    reason = "宅基地面积所限，经村民代表会议同意"
    state = ok(act(client, w, case.id, "town_reviewer", "approve",
                   justifications={"per_person_area_floor": reason}))
    assert state["stage"]["code"] == "planned"
    step = state["history"][-1]
    assert step["action"] == "approve"
    recorded = {p["rule"]: p for p in step["data"]["policy"]}
    assert recorded["per_person_area_floor"] == {
        "rule": "per_person_area_floor", "result": "warned", "basis": "approval",
        "detail": recorded["per_person_area_floor"]["detail"], "justification": reason}
    assert "12.99 m²" in recorded["per_person_area_floor"]["detail"]
    assert "per_person_area_cap" not in recorded  # passed rules are not repeated
    body = ok(client.get(f"/api/v1/cases/{case.id}/policy-check",
                         headers=w.headers("auditor")))
    assert body["justifications"] == {"per_person_area_floor": reason}



def test_at_acceptance_the_built_house_is_checked_and_a_co_signer_reuses_the_reason(db, world):
    """The acceptance that releases the money checks the built area; a justification given
    by the first co-signer holds for the second on the same numbers, not on changed ones."""
    w = world
    case = placed(db, w, "town_accepted", family_size=3, subsidy_yuan=Decimal("14000.00"),
                  subsidy_central_yuan=Decimal("14000.00"), planned_area_m2=Decimal("45.00"),
                  area_after_m2=Decimal("38.97"), cost_yuan=Decimal("50000.00"))
    _, spec = workflow_of(db.session, case)
    with pytest.raises(JustificationRequired) as raised:
        checks.enforce(db.session, case, spec, "acceptance", {})
    assert list(raised.value.fields) == ["justifications.per_person_area_floor"]
    recorded = checks.enforce(db.session, case, spec, "acceptance",
                              {"per_person_area_floor": "  老人独居，面积所限  "})
    floor = next(r for r in recorded if r["rule"] == "per_person_area_floor")
    assert floor["justification"] == "老人独居，面积所限" and floor["basis"] == "acceptance"
    case.history.append(CaseStep(case_id=case.id, stage="town_accepted", action="accept",
                                 to_stage="town_accepted", effective_on=TODAY,
                                 data={"role": "county_admin", "policy": recorded}))
    db.session.commit()
    again = checks.enforce(db.session, case, spec, "acceptance", {})  # the co-signer
    assert next(r for r in again if r["rule"] == "per_person_area_floor")["justification"] \
        == "老人独居，面积所限"
    case.area_after_m2 = Decimal("38.00")  # changed numbers need a reason of their own
    with pytest.raises(JustificationRequired):
        checks.enforce(db.session, case, spec, "acceptance", {})
    case.area_after_m2 = Decimal("54.03")
    with pytest.raises(PolicyViolation):
        checks.enforce(db.session, case, spec, "acceptance", {"per_person_area_cap": "理由"})


# --- 郯城: half in advance once works start, the rest within 30 days of acceptance ----------
def test_tancheng_advances_half_once_works_have_started(client, db):
    w = county_world(db, "tancheng")
    case = placed(db, w, "in_progress")
    ok(funding(client, w, case.id, central="25000.00"))
    voucher = attach(client, w, case.id, "payment_voucher", "finance")
    body = error(pay(client, w, case.id, "finance", voucher, amount="12502.50",
                     tranche="advance"), 422, "over_payment")  # 50.01 %
    assert any("50%" in reason and "004 §四(三)" in reason
               for reason in body["details"]["reasons"])
    r = pay(client, w, case.id, "finance", voucher, amount="12500.00", tranche="advance")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["tranche_label"] == "开工预拨"
    error(pay(client, w, case.id, "finance", voucher, amount="0.01", tranche="advance"), 422,
          "over_payment")
    error(pay(client, w, case.id, "finance", voucher, amount="100.00", tranche="balance"),
          422, "payment_not_due")  # the rest waits for the acceptance
    body = money(client, w, case.id)
    advance, balance = body["dues"]
    assert (advance["tranche"], advance["paid_yuan"], advance["outstanding_yuan"]) == \
        ("advance", "12500.00", "0.00")
    assert (balance["tranche"], balance["available_on"], balance["limit_yuan"]) == \
        ("balance", None, "12500.00")
    assert stage_of(db, case.id) == "in_progress"


def test_tancheng_half_of_an_odd_cent_subsidy_is_rounded_down(client, db):
    w = county_world(db, "tancheng")
    case = placed(db, w, "in_progress")
    ok(funding(client, w, case.id, central="25000.01"))  # half is 12,500.005
    voucher = attach(client, w, case.id, "payment_voucher", "finance")
    error(pay(client, w, case.id, "finance", voucher, amount="12500.01", tranche="advance"),
          422, "over_payment")
    assert pay(client, w, case.id, "finance", voucher, amount="12500.00",
               tranche="advance").status_code == 201
    advance = money(client, w, case.id)["dues"][0]
    assert advance["limit_yuan"] == "12500.00" and advance["outstanding_yuan"] == "0.00"


def test_tancheng_no_advance_before_works_start(client, db):
    w = county_world(db, "tancheng")
    case = placed(db, w, "planned")
    ok(funding(client, w, case.id, central="25000.00"))
    voucher = attach(client, w, case.id, "payment_voucher", "finance")
    body = error(pay(client, w, case.id, "finance", voucher, amount="1000.00",
                     tranche="advance"), 422, "payment_not_due")
    assert "开工后" in body["details"]["reasons"][0]
    error(pay(client, w, case.id, "finance", voucher, amount="1000.00", tranche="full"), 422)


def test_nothing_is_paid_before_approval(client, db, world):
    w = world
    case = at_approval(db, w)
    ok(funding(client, w, case.id))
    voucher = attach(client, w, case.id, "payment_voucher", "finance")
    error(pay(client, w, case.id, "finance", voucher, amount="100.00"), 422, "payment_not_due")


def test_tancheng_the_balance_is_due_30_days_after_acceptance(client, db):
    w = county_world(db, "tancheng")
    cases = {}
    for days in (30, 31):
        case = placed(db, w, "accepted", name=f"验收{days}天", accepted_on=TODAY - timedelta(days),
                      stage_entered_on=TODAY - timedelta(days))
        ok(funding(client, w, case.id, central="25000.00"))
        cases[days] = case.id
    db.session.expire_all()
    for days, case_id in cases.items():
        case = db.session.get(Case, case_id)
        _, spec = workflow_of(db.session, case)
        balance = next(d for d in dues(case, spec.payments, []) if d.tranche.code == "balance")
        assert balance.due_on == TODAY - timedelta(days) + timedelta(30)
        assert balance.overdue(TODAY) is (days == 31)
        assert balance.overdue(TODAY + timedelta(1)) is True
    items = ok(client.get("/api/v1/payments/due", headers=w.headers("finance")))
    assert [(i["case_id"], i["due"]["tranche"], i["due"]["overdue"]) for i in items] == [
        (cases[31], "balance", True), (cases[30], "balance", False)]  # overdue first
    assert items[1]["due"]["due_on"] == TODAY.isoformat()
    assert items[0]["due"]["outstanding_yuan"] == "25000.00"
    # The balance paid in full: the case is paid, and nothing is due.
    voucher = attach(client, w, cases[31], "payment_voucher", "finance")
    r = pay(client, w, cases[31], "finance", voucher, amount="25000.00", tranche="balance")
    assert r.status_code == 201, r.get_json()
    assert stage_of(db, cases[31]) == "paid"
    items = ok(client.get("/api/v1/payments/due", headers=w.headers("finance")))
    assert [i["case_id"] for i in items] == [cases[30]]


def test_tancheng_after_acceptance_the_unpaid_advance_is_owed_once(client, db):
    """An advance not paid during the works is owed as part of the balance, not twice."""
    w = county_world(db, "tancheng")
    case = placed(db, w, "accepted", accepted_on=TODAY - timedelta(5),
                  started_on=TODAY - timedelta(90))
    ok(funding(client, w, case.id, central="25000.00"))
    items = ok(client.get("/api/v1/payments/due", headers=w.headers("finance")))
    owed = sum(Decimal(i["due"]["outstanding_yuan"]) for i in items)
    assert owed == Decimal("25000.00"), items
    todo = ok(client.get("/api/v1/me/todo", headers=w.headers("finance")))["items"]
    assert len([i for i in todo if i["kind"] == "payment"]) == 1


def test_tancheng_advance_then_balance_reach_the_approved_subsidy(client, db):
    w = county_world(db, "tancheng")
    case = placed(db, w, "accepted", accepted_on=TODAY - timedelta(5),
                  started_on=TODAY - timedelta(90))
    ok(funding(client, w, case.id, central="25000.00"))
    voucher = attach(client, w, case.id, "payment_voucher", "finance")
    assert pay(client, w, case.id, "finance", voucher, amount="12500.00", tranche="advance",
               paid_on=TODAY - timedelta(60)).status_code == 201
    error(pay(client, w, case.id, "finance", voucher, amount="12500.01", tranche="balance"),
          422, "over_payment")
    assert pay(client, w, case.id, "finance", voucher, amount="12500.00",
               tranche="balance").status_code == 201
    assert stage_of(db, case.id) == "paid"
    assert money(client, w, case.id)["paid_yuan"] == "25000.00"


def test_tancheng_pays_the_builder_of_a_unified_build_only_with_the_households_consent(
        client, db):
    w = county_world(db, "tancheng")
    case = placed(db, w, "accepted")
    ok(funding(client, w, case.id, central="25000.00"))
    voucher = attach(client, w, case.id, "payment_voucher", "finance")
    builder = {"payee_kind": "builder", "payee_name": "郯城县某建筑公司",
               "payee_account": "955880001234567"}
    body = error(pay(client, w, case.id, "finance", voucher, amount="25000.00",
                     tranche="balance", **builder), 422, "invalid_input")
    assert "payee_kind" in body["fields"]  # 自建: the household is paid
    db.session.get(Case, case.id).build_mode = "统建"
    db.session.commit()
    body = error(pay(client, w, case.id, "finance", voucher, amount="25000.00",
                     tranche="balance", **builder), 422, "payment_not_due")
    assert "协议" in body["details"]["reasons"][0]
    body = error(pay(client, w, case.id, "finance", voucher, amount="25000.00",
                     tranche="balance", **{**builder, "payee_name": None}), 422)
    assert "payee_name" in body["fields"]
    attach(client, w, case.id, "payee_consent", "town_reviewer")
    r = pay(client, w, case.id, "finance", voucher, amount="25000.00", tranche="balance",
            **builder)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["payee_kind"] == "builder" and r.get_json()["payee_name"] == \
        "郯城县某建筑公司"


def test_shanyin_never_pays_a_builder(client, db, world):
    w = world
    case = placed(db, w, "accepted", build_mode="统建")
    ok(funding(client, w, case.id))
    attach(client, w, case.id, "payee_consent")
    voucher = attach(client, w, case.id, "payment_voucher", "finance")
    body = error(pay(client, w, case.id, "finance", voucher, amount="14000.00",
                     payee_kind="builder", payee_name="某建筑队"), 422)
    assert "payee_kind" in body["fields"]


# --- 山阴: in full through the town after acceptance ------------------------------------------
def test_shanyin_pays_in_full_after_acceptance_by_the_town_or_finance(client, db, world):
    w = world
    works = placed(db, w, "in_progress")
    ok(funding(client, w, works.id))
    voucher = attach(client, w, works.id, "payment_voucher", "finance")
    body = error(pay(client, w, works.id, "finance", voucher, amount="7000.00"), 422,
                 "payment_not_due")
    assert "验收合格后" in body["details"]["reasons"][0]
    body = error(pay(client, w, works.id, "finance", voucher, amount="7000.00",
                     tranche="advance"), 422, "invalid_input")
    assert "验收后全额拨付" in body["fields"]["tranche"]
    case = placed(db, w, "accepted", name="李建国")
    ok(funding(client, w, case.id))
    voucher = attach(client, w, case.id, "payment_voucher", "finance")
    for role in ("county_admin", "auditor", "inspector", "village_cadre"):
        error(pay(client, w, case.id, role, voucher, amount="7000.00"), 403, "forbidden")
    assert pay(client, w, case.id, "town_reviewer", voucher, amount="7000.00").status_code \
        == 201
    assert stage_of(db, case.id) == "accepted"
    assert pay(client, w, case.id, "finance", voucher, amount="7000.00").status_code == 201
    assert stage_of(db, case.id) == "paid"
    step = db.session.get(Case, case.id).history[-1]
    assert (step.action, step.to_stage, step.actor_id) == ("pay", "paid",
                                                          w.users["finance"].id)


def test_payment_dates_lie_between_the_event_and_today(client, db, world):
    w = world
    case = placed(db, w, "accepted", accepted_on=TODAY - timedelta(10))
    ok(funding(client, w, case.id))
    voucher = attach(client, w, case.id, "payment_voucher", "finance")
    for day in (TODAY - timedelta(11), TODAY + timedelta(1)):
        body = error(pay(client, w, case.id, "finance", voucher, amount="1.00", paid_on=day),
                     422)
        assert "paid_on" in body["fields"]


def test_a_voucher_of_another_case_is_refused(client, db, world):
    w = world
    case = placed(db, w, "accepted")
    other = placed(db, w, "accepted", name="李建国")
    ok(funding(client, w, case.id))
    voucher = attach(client, w, other.id, "payment_voucher", "finance")
    body = error(pay(client, w, case.id, "finance", voucher, amount="1.00"), 422)
    assert "voucher_id" in body["fields"]
    body = error(pay(client, w, case.id, "finance", str(uuid.uuid4()), amount="1.00",
                     payee_account=None), 422)
    assert "voucher_id" in body["fields"] or "payee_account" in body["fields"]


# --- 武乡: after the joint acceptance, by the county's finance --------------------------------
def test_wuxiang_pays_in_full_after_acceptance_by_finance_only(client, db):
    w = county_world(db, "wuxiang")
    works = placed(db, w, "in_progress")
    ok(funding(client, w, works.id))
    voucher = attach(client, w, works.id, "payment_voucher", "finance")
    error(pay(client, w, works.id, "finance", voucher, amount="14000.00"), 422,
          "payment_not_due")
    case = placed(db, w, "accepted", name="李建国", accepted_on=TODAY - timedelta(200))
    ok(funding(client, w, case.id))
    voucher = attach(client, w, case.id, "payment_voucher", "finance")
    for role in ("town_reviewer", "county_admin"):
        body = error(pay(client, w, case.id, role, voucher, amount="14000.00"), 403)
        assert "财政" in body["message"]
    (due,) = money(client, w, case.id)["dues"]
    assert due["due_on"] is None and due["overdue"] is False  # no deadline in 000
    assert pay(client, w, case.id, "finance", voucher, amount="14000.00").status_code == 201
    assert stage_of(db, case.id) == "paid"


# --- never more than approved; Decimal sums -------------------------------------------------
def test_never_more_than_approved_in_total_or_at_a_fund_level(client, db, world):
    w = world
    case = placed(db, w, "accepted")
    ok(funding(client, w, case.id, central="10000.00", provincial="3000.00",
               below_provincial="1000.00"))
    voucher = attach(client, w, case.id, "payment_voucher", "finance")
    body = error(pay(client, w, case.id, "finance", voucher, amount="10000.01"), 422,
                 "over_payment")
    assert body["details"]["reasons"] == ["中央资金累计将超过核定的 10000.00 元"]
    body = error(pay(client, w, case.id, "finance", voucher, amount="14000.01",
                     level="provincial"), 422, "over_payment")
    reasons = body["details"]["reasons"]  # the total, the level and the tranche
    assert reasons[:2] == ["累计拨付将超过核定补助 14000.00 元",
                           "省级资金累计将超过核定的 3000.00 元"]
    for level, amount in (("central", "10000.00"), ("provincial", "3000.00")):
        assert pay(client, w, case.id, "finance", voucher, amount=amount,
                   level=level).status_code == 201
    error(pay(client, w, case.id, "finance", voucher, amount="1000.01",
              level="below_provincial"), 422, "over_payment")
    error(pay(client, w, case.id, "finance", voucher, amount="0.01", level="central"), 422,
          "over_payment")
    assert stage_of(db, case.id) == "accepted"
    assert pay(client, w, case.id, "finance", voucher, amount="1000.00",
               level="below_provincial").status_code == 201
    assert stage_of(db, case.id) == "paid"
    error(pay(client, w, case.id, "finance", voucher, amount="0.01",
              level="below_provincial"), 422, "over_payment")
    body = money(client, w, case.id)
    assert body["paid_by_level"] == {"central": "10000.00", "provincial": "3000.00",
                                     "below_provincial": "1000.00"}


def test_cents_add_up_exactly_and_pay_the_case_by_themselves(client, db, world):
    w = world
    case = placed(db, w, "accepted")
    ok(funding(client, w, case.id, central="0.60"))
    assert 0.1 + 0.2 + 0.3 != 0.6  # what floats would have made of it
    voucher = attach(client, w, case.id, "payment_voucher", "finance")
    for amount in ("0.10", "0.20"):
        assert pay(client, w, case.id, "finance", voucher, amount=amount).status_code == 201
        assert stage_of(db, case.id) == "accepted"
    error(pay(client, w, case.id, "finance", voucher, amount="0.31"), 422, "over_payment")
    assert pay(client, w, case.id, "finance", voucher, amount="0.30").status_code == 201
    assert stage_of(db, case.id) == "paid"
    body = money(client, w, case.id)
    assert body["paid_yuan"] == "0.60" and [p["amount_yuan"] for p in body["payments"]] == [
        "0.10", "0.20", "0.30"]
    assert act(client, w, case.id, "finance", "pay").status_code == 422  # never by hand


@pytest.mark.parametrize("amount", ["0", "0.001", "-5.00", "NaN", "1e30", "10000000.01"])
def test_a_payment_amount_is_a_positive_sum_in_cents(client, db, world, amount):
    w = world
    case = placed(db, w, "accepted")
    ok(funding(client, w, case.id))
    voucher = attach(client, w, case.id, "payment_voucher", "finance")
    body = error(pay(client, w, case.id, "finance", voucher, amount=amount), 422)
    assert "amount_yuan" in body["fields"]


# --- idempotent by the client's UUID ----------------------------------------------------------
def test_the_same_payment_sent_twice_is_one_payment(client, db, world):
    w = world
    case = placed(db, w, "accepted")
    ok(funding(client, w, case.id))
    voucher = attach(client, w, case.id, "payment_voucher", "finance")
    payment_id = str(uuid.uuid4())
    first = pay(client, w, case.id, "finance", voucher, amount="5000.00", payment_id=payment_id)
    assert first.status_code == 201
    again = pay(client, w, case.id, "finance", voucher, amount="5000.00",
                payment_id=payment_id)
    assert again.status_code == 200 and again.get_json() == first.get_json()
    assert db.session.query(Payment).filter_by(case_id=case.id).count() == 1
    for changed in ({"amount": "5000.01"}, {"level": "provincial"},
                    {"paid_on": TODAY - timedelta(1)}, {"payee_account": "6228480099999999"},
                    {"payee_name": "王建军"}, {"note": "另一笔"}):
        body = error(pay(client, w, case.id, "finance", voucher, payment_id=payment_id,
                         **{"amount": "5000.00", **changed}), 409, "payment_conflict")
        assert body["message"]
    other = placed(db, w, "accepted", name="李建国")
    ok(funding(client, w, other.id))
    voucher_b = attach(client, w, other.id, "payment_voucher", "finance")
    error(pay(client, w, other.id, "finance", voucher_b, amount="5000.00",
              payment_id=payment_id), 409, "payment_conflict")
    assert db.session.query(Payment).count() == 1
    assert money(client, w, case.id)["paid_yuan"] == "5000.00"


# --- the payee's account -------------------------------------------------------------------
def test_the_payees_account_is_masked_without_the_pii_right(client, db, world):
    w = world
    case = placed(db, w, "accepted")
    ok(funding(client, w, case.id))
    voucher = attach(client, w, case.id, "payment_voucher", "finance")
    r = pay(client, w, case.id, "finance", voucher, amount="14000.00")
    assert r.get_json()["payee_account"] == ACCOUNT
    masked = display.masked_account(ACCOUNT)
    assert masked == "************5678"
    for role, shown in (("finance", ACCOUNT), ("town_reviewer", ACCOUNT), ("auditor", masked),
                        ("inspector", masked)):
        (payment,) = money(client, w, case.id, role)["payments"]
        assert payment["payee_account"] == shown, role


def test_an_account_is_digits_only(client, db, world):
    w = world
    case = placed(db, w, "accepted")
    ok(funding(client, w, case.id))
    voucher = attach(client, w, case.id, "payment_voucher", "finance")
    for account in ("6228-4800-1234", "12345", ACCOUNT + "\n", "１２３４５６７８"):
        body = error(pay(client, w, case.id, "finance", voucher, amount="1.00",
                         payee_account=account), 422)
        assert "payee_account" in body["fields"], account
    body = error(pay(client, w, case.id, "finance", voucher, amount="1.00",
                     payee_account=None), 422)
    assert "payee_account" in body["fields"]  # the household's 一本通 is required


# --- a cancelled subsidy comes back ---------------------------------------------------------
def test_cancelling_after_an_advance_opens_a_recovery_until_it_is_recovered(client, db):
    w = county_world(db, "tancheng")
    case = placed(db, w, "in_progress")
    ok(funding(client, w, case.id, central="20000.00", provincial="5000.00"))
    voucher = attach(client, w, case.id, "payment_voucher", "finance")
    for level, amount in (("central", "10000.00"), ("provincial", "2500.00")):
        assert pay(client, w, case.id, "finance", voucher, amount=amount, level=level,
                   tranche="advance").status_code == 201
    ok(act(client, w, case.id, "county_admin", "cancel", note="整改不到位，取消补助"))
    body = money(client, w, case.id, "auditor")
    (recovery,) = body["recoveries"]
    assert (recovery["amount_yuan"], recovery["recovered_yuan"], recovery["outstanding_yuan"],
            recovery["status"], recovery["reason"]) == ("12500.00", "0.00", "12500.00", "open",
                                                        "整改不到位，取消补助")
    assert recovery["opened_on"] == TODAY.isoformat() and body["dues"] == []
    error(pay(client, w, case.id, "finance", voucher, amount="1.00", tranche="advance"), 409,
          "invalid_transition")
    receipt = attach(client, w, case.id, "payment_voucher", "town_reviewer")
    error(pay(client, w, case.id, "county_admin", receipt, amount="1.00",
              tranche="recovery"), 403)
    error(pay(client, w, case.id, "town_reviewer", receipt, amount="12500.01",
              tranche="recovery"), 422, "over_payment")
    error(pay(client, w, case.id, "town_reviewer", receipt, amount="2500.01",
              tranche="recovery", level="provincial"), 422, "over_payment")
    body = error(pay(client, w, case.id, "town_reviewer", receipt, amount="100.00",
                     tranche="recovery", paid_on=TODAY + timedelta(1)), 422)
    assert "paid_on" in body["fields"]
    r = pay(client, w, case.id, "town_reviewer", receipt, amount="10000.00",
            tranche="recovery", payee_account=None)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["amount_yuan"] == "-10000.00" and r.get_json()["recovery_id"] == \
        recovery["id"]
    (recovery,) = money(client, w, case.id)["recoveries"]
    assert (recovery["outstanding_yuan"], recovery["status"]) == ("2500.00", "open")
    todo = ok(client.get("/api/v1/me/todo", headers=w.headers("town_reviewer")))["items"]
    assert [i["kind"] for i in todo if i["case_id"] == case.id] == ["recovery"]
    assert pay(client, w, case.id, "finance", receipt, amount="2500.00", tranche="recovery",
               level="provincial").status_code == 201
    body = money(client, w, case.id)
    (recovery,) = body["recoveries"]
    assert (recovery["outstanding_yuan"], recovery["status"], recovery["closed_on"]) == \
        ("0.00", "recovered", TODAY.isoformat())
    assert body["paid_yuan"] == "0.00"
    assert body["paid_by_level"] == {"central": "0.00", "provincial": "0.00",
                                     "below_provincial": "0.00"}
    error(pay(client, w, case.id, "finance", receipt, amount="0.01", tranche="recovery"), 422,
          "payment_not_due")
    db.session.expire_all()
    assert db.session.query(Recovery).filter_by(case_id=case.id).one().closed_on == TODAY


def test_cancelling_before_any_payment_opens_no_recovery(client, db, world):
    w = world
    case = placed(db, w, "in_progress")
    ok(funding(client, w, case.id))
    ok(act(client, w, case.id, "town_reviewer", "cancel", note="农户自愿放弃"))
    assert money(client, w, case.id)["recoveries"] == []
    voucher = attach(client, w, case.id, "payment_voucher", "finance")
    error(pay(client, w, case.id, "finance", voucher, amount="1.00", tranche="recovery"), 422,
          "payment_not_due")


# --- the ledger ---------------------------------------------------------------------------
def read_book(response) -> openpyxl.Workbook:
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return openpyxl.load_workbook(io.BytesIO(response.data))


def test_the_ledger_has_one_row_per_payment_and_totals_per_fund_level(client, db, world):
    w = world
    first = placed(db, w, "accepted")
    ok(funding(client, w, first.id, central="10000.00", provincial="4000.00"))
    voucher = attach(client, w, first.id, "payment_voucher", "finance")
    for level, amount in (("central", "10000.00"), ("provincial", "4000.00")):
        assert pay(client, w, first.id, "finance", voucher, amount=amount,
                   level=level).status_code == 201
    second = placed(db, w, "accepted", village=w.village_b1, name="=HYPERLINK(\"x\")")
    ok(funding(client, w, second.id, "county_admin", central="12345.67"))
    voucher = attach(client, w, second.id, "payment_voucher", "finance")
    r = pay(client, w, second.id, "finance", voucher, amount="2345.67",
            payee_name="=1+2", note="@SUM(A1)")
    assert r.status_code == 201, r.get_json()
    url = f"/api/v1/payments/ledger.xlsx?year={TODAY.year}"
    book = read_book(client.get(url, headers=w.headers("finance")))
    rows, totals = book.worksheets
    header, *body = list(rows.iter_rows())
    assert [c.value for c in header] == list(ledger.HEADERS)
    column = {name: i for i, name in enumerate(ledger.HEADERS)}
    assert len(body) == 3
    amounts = [row[column["金额（元）"]] for row in body]
    assert sorted(Decimal(str(c.value)) for c in amounts) == [
        Decimal("2345.67"), Decimal("4000.00"), Decimal("10000.00")]
    assert all(c.data_type == "n" and c.number_format == "#,##0.00" for c in amounts)
    assert {row[column["账号"]].value for row in body} == {ACCOUNT}
    assert {row[column["身份证号"]].value for row in body} == {
        first.household.id_number, second.household.id_number}
    odd = next(row for row in body if row[column["项目编号"]].value == second.id)
    for name, text in (("收款人", "=1+2"), ("户主", "=HYPERLINK(\"x\")"), ("备注", "@SUM(A1)")):
        cell = odd[column[name]]
        assert cell.data_type == "s" and cell.value.endswith(text), (name, cell.value)
        assert cell.value.startswith("'")  # text, never a formula
    assert odd[column["乡镇"]].value == "玉井镇" and odd[column["村"]].value == "玉井村"
    assert odd[column["款项"]].value == "验收后全额拨付"
    assert [(r[0].value, r[1].value) for r in totals.iter_rows(min_row=2)] == [
        ("中央", 12345.67), ("省级", 4000), ("省级以下", 0), ("合计", 16345.67)]
    assert all(r[1].number_format == "#,##0.00" for r in totals.iter_rows(min_row=2))
    # A reader without the PII right sees the account and the ID number masked.
    book = read_book(client.get(url, headers=w.headers("auditor")))
    _, *body = list(book.worksheets[0].iter_rows())
    assert {row[column["账号"]].value for row in body} == {display.masked_account(ACCOUNT)}
    assert all("*" in row[column["身份证号"]].value for row in body)
    # One village of the area; a town reviewer's own town only.
    book = read_book(client.get(f"{url}&region={w.village_b1}", headers=w.headers("finance")))
    assert book.worksheets[0].max_row == 2
    book = read_book(client.get(url, headers=w.headers("town_reviewer")))
    assert book.worksheets[0].max_row == 3  # 岱岳镇: the first case's two payments
    r = client.get(f"{url}&region={w.village_b1}", headers=w.headers("town_reviewer"))
    assert r.status_code == 404
    assert client.get("/api/v1/payments/ledger.xlsx?year=1999",
                      headers=w.headers("finance")).status_code == 422


def test_the_ledger_nets_recoveries(client, db):
    w = county_world(db, "tancheng")
    case = placed(db, w, "in_progress")
    ok(funding(client, w, case.id, central="25000.00"))
    voucher = attach(client, w, case.id, "payment_voucher", "finance")
    assert pay(client, w, case.id, "finance", voucher, amount="12500.00",
               tranche="advance").status_code == 201
    ok(act(client, w, case.id, "county_admin", "cancel", note="取消补助"))
    assert pay(client, w, case.id, "finance", voucher, amount="12500.00",
               tranche="recovery").status_code == 201
    book = read_book(client.get(f"/api/v1/payments/ledger.xlsx?year={TODAY.year}",
                                headers=w.headers("finance")))
    rows, totals = book.worksheets
    assert [r[10].value for r in rows.iter_rows(min_row=2)] == [12500, -12500]
    assert [r[8].value for r in rows.iter_rows(min_row=2)] == ["开工预拨", "追回"]
    assert list(totals.iter_rows(min_row=5, values_only=True)) == [("合计", 0)]


# --- the county's funds ---------------------------------------------------------------------
def allocation(client, w, role, **body):
    values = {"county_code": w.county, "year": TODAY.year, "fund_level": "central",
              "kind": "confirmed", "amount_yuan": "500000.00", "on": TODAY.isoformat(),
              "document_no": "晋财建〔2026〕12号", **body}
    return client.post("/api/v1/funds", headers=w.headers(role), json=values)


def test_the_countys_funds_are_summed_per_kind_and_level(client, db, world):
    w = world
    r = allocation(client, w, "county_admin")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["recorded_by"] == w.users["county_admin"].id
    assert allocation(client, w, "finance", fund_level="provincial",
                      amount_yuan="120000.50").status_code == 201
    assert allocation(client, w, "finance", fund_level="provincial",
                      amount_yuan="0.25").status_code == 201
    assert allocation(client, w, "finance", kind="received",
                      amount_yuan="300000.00").status_code == 201
    assert allocation(client, w, "finance", year=TODAY.year - 1, amount_yuan="1.00",
                      on=(TODAY - timedelta(days=30)).isoformat()).status_code == 201
    for role in ("county_admin", "town_reviewer", "auditor"):
        body = ok(client.get(f"/api/v1/funds?year={TODAY.year}", headers=w.headers(role)))
        assert len(body["items"]) == 4
        assert body["totals"] == {
            "confirmed": {"central": "500000.00", "provincial": "120000.75",
                          "below_provincial": "0.00"},
            "received": {"central": "300000.00", "provincial": "0.00",
                         "below_provincial": "0.00"}}
    assert len(ok(client.get("/api/v1/funds", headers=w.headers("finance")))["items"]) == 4
    body = ok(client.get(f"/api/v1/funds?year={TODAY.year - 1}", headers=w.headers("finance")))
    assert body["totals"]["confirmed"]["central"] == "1.00"


def test_funds_are_recorded_for_my_own_county_with_plausible_numbers(client, db, world):
    w = world
    county_world(db, "tancheng")
    error(allocation(client, w, "county_admin", county_code="371322000000"), 404)
    error(allocation(client, w, "county_admin", county_code=w.town_a), 404)
    for bad in ({"on": (TODAY + timedelta(1)).isoformat()}, {"amount_yuan": "1.001"},
                {"amount_yuan": "1e30"}, {"amount_yuan": "NaN"}, {"amount_yuan": "-1"},
                {"year": 1999}, {"kind": "promised"}, {"fund_level": "village"},
                {"year": TODAY.year + 3}):
        body = error(allocation(client, w, "county_admin", **bad), 422)
        assert set(body["fields"]) & {*bad, "on"}, (bad, body)
    error(allocation(client, w, "town_reviewer"), 403)
    assert ok(client.get(f"/api/v1/funds?year={TODAY.year}",
                         headers=w.headers("county_admin")))["items"] == []


def test_a_due_item_is_a_service_result_in_my_area_only(client, db, world):
    w = world
    mine = placed(db, w, "accepted", accepted_on=TODAY - timedelta(31))
    theirs = placed(db, w, "accepted", village=w.village_b1, name="李建国",
                    accepted_on=TODAY - timedelta(5))
    for case in (mine, theirs):
        ok(funding(client, w, case.id, "county_admin"))
    db.session.expire_all()
    town = Actor.of(w.users["town_reviewer"])
    items = ledger.due_items(db.session, town, TODAY)
    assert [i.case.id for i in items] == [mine.id] and items[0].overdue(TODAY)
    assert [i.case.id for i in ledger.due_items(db.session, Actor.of(w.users["finance"]),
                                                TODAY)] == [mine.id, theirs.id]
    assert payments_of(db.session, [mine.id]) == {mine.id: []}


def test_payments_sent_at_once_never_exceed_the_subsidy(app, client, db, world):
    """Four different payments of the whole subsidy at the same moment: one is recorded, the
    others see it (SQLite takes its write lock, PostgreSQL its row lock, before reading)."""
    from concurrent.futures import ThreadPoolExecutor

    w = world
    case = placed(db, w, "accepted", subsidy_yuan=Decimal("14000.00"),
                  subsidy_central_yuan=Decimal("14000.00"), planned_area_m2=Decimal("45"))
    voucher = attach(client, w, case.id, "payment_voucher", "finance")
    case_id = case.id  # the threads have no application context to load it

    def send(payment_id):
        return pay(app.test_client(), w, case_id, "finance", voucher, amount="14000.00",
                   payment_id=payment_id).status_code

    with ThreadPoolExecutor(4) as pool:
        codes = sorted(pool.map(send, [str(uuid.uuid4()) for _ in range(4)]))
    assert codes == [201, 422, 422, 422]
    same = str(uuid.uuid4())
    other = placed(db, w, "accepted", name="李四", subsidy_yuan=Decimal("14000.00"),
                   subsidy_central_yuan=Decimal("14000.00"), planned_area_m2=Decimal("45"))
    voucher, other_id = attach(client, w, other.id, "payment_voucher", "finance"), other.id
    with ThreadPoolExecutor(4) as pool:
        codes = sorted(pool.map(lambda _: pay(app.test_client(), w, other_id, "finance",
                                              voucher, amount="7000.00",
                                              payment_id=same).status_code, range(4)))
    assert codes == [200, 200, 200, 201]
    db.session.expire_all()
    assert db.session.query(Payment).filter_by(case_id=case_id).count() == 1
    assert db.session.query(Payment).filter_by(case_id=other_id).count() == 1


def accept(db, w, case, role, **numbers):
    """The acceptance's own rules (the built house against the county's), without the photo
    and document evidence the engine checks first (tests/api/test_workflow.py covers that)."""
    from backend.services.workflow import actions
    from backend.services.workflow.steps import ActionInput

    _, spec = workflow_of(db.session, case)
    actions.accept(db.session, Actor.of(w.users[role]), case, spec, spec.stage(case.status),
                   ActionInput("accept", **{k: Decimal(v) for k, v in numbers.items()}), TODAY)
    db.session.commit()


def test_after_completion_the_subsidy_only_comes_down_to_the_actual_cost(client, db):
    """武乡 (000): 80 % of the actual cost; built for less than planned, the county lowers the
    approved subsidy rather than leave the case unpayable."""
    w = county_world(db, "wuxiang")
    case = placed(db, w, "town_accepted", category="ordinary")
    ok(funding(client, w, case.id, central="14000.00", estimated_cost_yuan="20000.00"))
    case.completed_on = TODAY - timedelta(days=3)
    db.session.commit()
    with pytest.raises(PolicyViolation):  # 14,000 > 80 % of 15,000
        accept(db, w, case, "county_admin", area_m2="45.00", cost_yuan="15000.00")
    db.session.rollback()
    error(funding(client, w, case.id, central="15000.00", estimated_cost_yuan="20000.00"), 409,
          "subsidy_locked")  # never up
    error(funding(client, w, case.id, central="12000.00", estimated_cost_yuan="25000.00"), 409,
          "subsidy_locked")  # only the subsidy changes
    ok(funding(client, w, case.id, central="12000.00", estimated_cost_yuan="20000.00"))
    case = db.session.get(Case, case.id)
    for role in ("county_admin", "finance"):
        accept(db, w, case, role, area_m2="45.00", cost_yuan="15000.00")
    assert stage_of(db, case.id) == "accepted"


def test_a_co_signer_signs_the_numbers_the_first_signer_recorded(client, db, world):
    from backend.services.errors import InvalidInput

    w = world
    case = placed(db, w, "town_accepted", subsidy_yuan=Decimal("14000.00"),
                  subsidy_central_yuan=Decimal("14000.00"), planned_area_m2=Decimal("45"))
    accept(db, w, case, "county_admin", area_m2="45.00", cost_yuan="30000")
    with pytest.raises(InvalidInput) as raised:
        accept(db, w, case, "finance", area_m2="54.00", cost_yuan="90000")
    assert raised.value.fields["area_m2"].startswith("首签记录：45.00")
    db.session.rollback()
    case = db.session.get(Case, case.id)
    accept(db, w, case, "finance")
    db.session.expire_all()
    found = db.session.get(Case, case.id)
    assert found.area_after_m2 == Decimal("45.00") and found.status == "accepted"


def test_a_renovation_entered_after_the_fact_is_still_an_earlier_renovation(client, db, world):
    w = world
    earlier = placed(db, w, "archived", name="重复户")
    earlier.year = 2019
    db.session.commit()
    case = factories.case(db.session, earlier.household, status="approval")
    ok(funding(client, w, case.id))
    found = {r["code"]: r for r in ok(client.get(f"/api/v1/cases/{case.id}/policy-check",
                                                 headers=w.headers("county_admin")))["results"]}
    assert found["not_repeated"]["result"] == "failed" and "2019" in found["not_repeated"][
        "detail"]


def test_the_application_declares_another_safe_house_or_a_house_damaged_again(client, db,
                                                                              world):
    """004 §二(二), §二(三): the applicant's own declarations feed the two hard rules."""
    w = world
    h = factories.household(db.session, w.village_a1, name="申报户")
    r = client.post(f"/api/v1/households/{h.id}/cases", headers=w.headers("village_cadre"),
                    json={"year": TODAY.year, "method": "拆除重建", "build_mode": "自建",
                          "application": {"applicant": h.name, "other_safe_house": True,
                                          "redamaged_by_disaster": True}})
    assert r.status_code == 201, r.get_json()
    case_id = r.get_json()["id"]
    ok(funding(client, w, case_id))
    found = {x["code"]: x for x in ok(client.get(f"/api/v1/cases/{case_id}/policy-check",
                                                 headers=w.headers("town_reviewer")))["results"]}
    assert found["not_repeated"]["result"] == "passed"  # no earlier renovation after all
    r = client.get(f"/api/v1/cases/{case_id}", headers=w.headers("town_reviewer")).get_json()
    assert r["application"]["other_safe_house"] is True
