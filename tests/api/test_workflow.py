"""The case procedure through the API: stages move only by named actions, each checked against
the county's workflow (山阴, 003 §四, for the test county 140621), the actor's role and area,
and the evidence it needs."""

import io
import uuid
from datetime import date, timedelta

import pytest

from backend.models import Appraisal, Case, CaseStep, DepartmentCheck
from backend.models.base import china_today
from backend.services.workflow.calendar import add_working_days
from tests import factories

TODAY = china_today()
TOWN_CHECKS = ["household_register", "income", "no_public_payroll", "no_city_home", "no_vehicle",
               "no_machinery", "no_company", "not_repeated"]
SIGNERS = [{"role": "民主监督员", "name": "赵一"}, {"role": "村委负责人", "name": "钱二"},
           {"role": "乡镇负责人", "name": "孙三"}]


@pytest.fixture
def world(db, templates):
    return factories.world(db.session)


def attach(client, w, case_id, kind, role="town_reviewer") -> str:
    attachment_id = str(uuid.uuid4())
    r = client.put(f"/api/v1/attachments/{attachment_id}", headers=w.headers(role),
                   content_type="multipart/form-data",
                   data={"case_id": str(case_id), "kind": kind,
                         "file": (io.BytesIO(b"%PDF-1.4\n" + kind.encode() + b"\n%%EOF\n"),
                                  f"{kind}.pdf")})
    assert r.status_code == 201, r.get_json()
    return attachment_id


def act(client, w, case_id, role, action, **fields):
    for key, value in list(fields.items()):
        if isinstance(value, date):
            fields[key] = value.isoformat()
    return client.post(f"/api/v1/cases/{case_id}/actions", json={"action": action, **fields},
                       headers=w.headers(role))


def fund(client, w, case_id, role="town_reviewer", *, central="14000.00", area="45.00",
         **more):
    """核定补助: the approved subsidy (all central here) and the planned area."""
    r = client.put(f"/api/v1/cases/{case_id}/funding", headers=w.headers(role), json={
        "central": central, "provincial": "0", "below_provincial": "0",
        "planned_area_m2": area, **more})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def pay(client, w, case_id, role, voucher, *, amount, tranche="full", level="central",
        paid_on=TODAY, payment_id=None, **more):
    return client.post(f"/api/v1/cases/{case_id}/payments", headers=w.headers(role), json={
        "id": payment_id or str(uuid.uuid4()), "tranche": tranche, "fund_level": level,
        "amount_yuan": amount, "paid_on": paid_on.isoformat(), "voucher_id": voucher,
        "payee_account": "6228480012345678", **more})


def ok(response):
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def stage_of(db, case_id) -> str:
    db.session.expire_all()
    return db.session.get(Case, case_id).status


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


def apply(client, w, household=None, role="village_cadre", *, on=TODAY, **application) -> int:
    """Register an application received on `on` (a clerk may enter a paper one later)."""
    h = household or w.households[w.village_a1]
    r = client.post(f"/api/v1/households/{h.id}/cases", headers=w.headers(role), json={
        "year": TODAY.year, "method": "拆除重建", "build_mode": "自建",
        "application": {"applicant": h.name, "reason": "房屋墙体开裂", "applied_on": on.isoformat(),
                        **application}})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def publicize(client, w, case_id, role, *, on):
    photo = attach(client, w, case_id, "publicity_photo", role)
    return act(client, w, case_id, role, "post", report_phone="0349-1234567",
               notice_attachment_id=photo, effective_on=on)


def to_village_publicity(client, w, case_id, on):
    """申请 → 村评议 → 村公示 posted, all on `on`."""
    attach(client, w, case_id, "application_form", "village_cadre")
    ok(act(client, w, case_id, "village_cadre", "submit", effective_on=on))
    attach(client, w, case_id, "meeting_minutes", "village_cadre")
    ok(act(client, w, case_id, "village_cadre", "pass", note="四议两公开，同意上报",
           effective_on=on))
    ok(publicize(client, w, case_id, "village_cadre", on=on))


def to_town_review(client, w, case_id, on):
    """… then the village notice closes a week later: the town receives it on `on` + 7."""
    to_village_publicity(client, w, case_id, on)
    ok(act(client, w, case_id, "village_cadre", "close", effective_on=on + timedelta(days=7)))
    return on + timedelta(days=7)


def to_department_check(client, w, case_id, on):
    """… the town reviews and posts on receipt; the departments receive it a week later."""
    received = to_town_review(client, w, case_id, on)
    attach(client, w, case_id, "review_form")
    ok(act(client, w, case_id, "town_reviewer", "pass", effective_on=received,
           checks=TOWN_CHECKS))
    ok(publicize(client, w, case_id, "town_reviewer", on=received))
    sent = received + timedelta(days=7)
    ok(act(client, w, case_id, "town_reviewer", "close", effective_on=sent))
    return sent


def qualify_appraisal(db, household, *, signatures=3, filed=True, grade="D"):
    a = Appraisal(household_id=household.id, grade=grade,
                  appraised_on=TODAY - timedelta(days=90), appraiser="山阴县房屋鉴定站",
                  filed_on=TODAY - timedelta(days=80) if filed else None,
                  signatures=SIGNERS[:signatures])
    db.session.add(a)
    db.session.commit()
    return a


# --- the application and the village ---------------------------------------------------------
def test_the_workflow_says_what_i_may_do_and_what_blocks_the_rest(client, db, world):
    w = world
    case_id = apply(client, w)
    body = client.get(f"/api/v1/cases/{case_id}/workflow", headers=w.headers("village_cadre"))
    state = ok(body)
    assert state["stage"]["code"] == "application" and state["stage"]["label"] == "申请"
    assert state["workflow"]["code"] == "shanyin" and "003" in state["stage"]["source"]
    assert state["due_on"] == (TODAY + timedelta(days=7)).isoformat()
    blocked = {b["action"]: b for b in state["blocked"]}
    assert blocked["submit"]["reasons"] == ["缺少申请书"]
    assert "cancel" in blocked and blocked["cancel"]["code"] == "not_your_role"
    r = act(client, w, case_id, "village_cadre", "submit")
    assert r.status_code == 422 and r.get_json()["error"]["details"]["reasons"] == ["缺少申请书"]
    attach(client, w, case_id, "application_form", "village_cadre")
    state = ok(client.get(f"/api/v1/cases/{case_id}/workflow",
                          headers=w.headers("village_cadre")))
    assert [a["action"] for a in state["allowed_actions"]] == ["submit"]
    state = ok(act(client, w, case_id, "village_cadre", "submit"))
    assert state["stage"]["code"] == "village_review"
    assert [s["action"] for s in state["history"]] == ["open", "submit"]
    assert state["history"][1]["actor_id"] == w.users["village_cadre"].id


def test_an_action_of_another_stage_or_role_is_an_invalid_transition(client, db, world):
    w = world
    case_id = apply(client, w)
    r = act(client, w, case_id, "town_reviewer", "approve")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "invalid_transition"
    attach(client, w, case_id, "application_form")
    r = act(client, w, case_id, "inspector", "submit")
    assert r.status_code == 409 and "村干部" in r.get_json()["error"]["message"]
    r = act(client, w, case_id, "village_cadre", "no_such_action")
    assert r.status_code == 422
    assert stage_of(db, case_id) == "application"


def test_a_case_outside_my_area_is_not_found(client, db, world):
    w = world
    case_id = apply(client, w, w.households[w.village_b1], role="county_admin")
    for role in ("village_cadre", "town_reviewer", "inspector"):
        assert act(client, w, case_id, role, "cancel", note="x").status_code == 404
        r = client.get(f"/api/v1/cases/{case_id}/workflow", headers=w.headers(role))
        assert r.status_code == 404
    assert stage_of(db, case_id) == "application"


def test_publicity_lasts_seven_days_posted_on_d_it_closes_on_d_plus_7(client, db, world):
    w = world
    early = apply(client, w, on=days_ago(6))
    attach(client, w, early, "application_form", "village_cadre")
    ok(act(client, w, early, "village_cadre", "submit", effective_on=days_ago(6)))
    attach(client, w, early, "meeting_minutes", "village_cadre")
    ok(act(client, w, early, "village_cadre", "pass", effective_on=days_ago(6)))
    r = act(client, w, early, "village_cadre", "close")
    assert r.status_code == 422 and "尚未张榜公示" in str(r.get_json())
    state = ok(publicize(client, w, early, "village_cadre", on=days_ago(6)))
    assert state["publicities"][0]["earliest_end_on"] == (TODAY + timedelta(days=1)).isoformat()
    assert state["due_on"] is None  # a notice has a least, not a most: nothing falls due
    r = act(client, w, early, "village_cadre", "close")  # D+6
    assert r.status_code == 422
    assert r.get_json()["error"]["code"] == "publicity_period_not_over"
    assert stage_of(db, early) == "village_publicity"
    neighbour = factories.household(db.session, w.village_a1, name="邻户")
    on_time = apply(client, w, neighbour, on=days_ago(7))
    to_village_publicity(client, w, on_time, days_ago(7))
    state = ok(act(client, w, on_time, "village_cadre", "close"))  # D+7, the earliest
    assert state["stage"]["code"] == "town_review"
    assert state["publicities"][0]["ended_on"] == TODAY.isoformat()
    # 003 §四(三): the town reviews within 7 working days of receipt.
    assert state["due_on"] == add_working_days(TODAY, 7).on.isoformat()


def test_an_open_objection_blocks_the_end_of_publicity(client, db, world):
    w = world
    case_id = apply(client, w, on=days_ago(8))
    to_village_publicity(client, w, case_id, days_ago(8))
    evidence = attach(client, w, case_id, "objection_material", "village_cadre")
    state = ok(act(client, w, case_id, "village_cadre", "record_objection", reporter="村民甲",
                   content="该户在县城有商品房", attachment_ids=[evidence],
                   effective_on=TODAY - timedelta(days=3)))
    objection = state["objections"][0]
    assert objection["status"] == "open" and objection["attachment_ids"] == [evidence]
    r = act(client, w, case_id, "village_cadre", "close")
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "objection_open"
    r = act(client, w, case_id, "village_cadre", "resolve_objection",
            objection_id=objection["id"], outcome="dismissed")
    assert r.status_code == 422 and "note" in r.get_json()["error"]["fields"]
    state = ok(act(client, w, case_id, "village_cadre", "resolve_objection",
                   objection_id=objection["id"], outcome="dismissed",
                   note="经专项调查，该房屋为其子所有；已书面告知举报人"))
    assert state["objections"][0]["status"] == "dismissed"
    assert ok(act(client, w, case_id, "village_cadre", "close"))["stage"]["code"] == "town_review"


def test_an_upheld_objection_returns_the_application_with_its_reason(client, db, world):
    w = world
    case_id = apply(client, w, on=days_ago(9))
    received = to_town_review(client, w, case_id, days_ago(9))
    attach(client, w, case_id, "review_form")
    ok(act(client, w, case_id, "town_reviewer", "pass", effective_on=received,
           checks=TOWN_CHECKS))
    ok(publicize(client, w, case_id, "town_reviewer", on=received))
    for content in ("家庭有大型农机具", "在县城有住房"):
        state = ok(act(client, w, case_id, "town_reviewer", "record_objection",
                       content=content))
    state = ok(act(client, w, case_id, "town_reviewer", "resolve_objection",
                   objection_id=state["objections"][0]["id"], outcome="upheld",
                   note="核实属实，退回村委会并书面告知申请家庭"))
    # 003 §四(三): at the town, the material goes back to the village committee.
    assert state["stage"]["code"] == "village_review"
    last = state["history"][-1]
    assert last["action"] == "resolve_objection" and "书面告知" in last["note"]
    assert [o["status"] for o in state["objections"]] == ["upheld", "upheld"]


# --- the departments ---------------------------------------------------------------------------
def test_silence_past_ten_working_days_counts_as_passed_with_its_date(client, db, world):
    w = world
    case_id = apply(client, w, on=days_ago(40))
    to_department_check(client, w, case_id, days_ago(40))  # sent 26 days ago
    db.session.expire_all()
    checks = db.session.query(DepartmentCheck).filter_by(case_id=case_id).all()
    assert len(checks) == 8 and all(c.due_on < TODAY for c in checks)
    state = ok(client.get(f"/api/v1/cases/{case_id}/workflow",
                          headers=w.headers("town_reviewer")))
    rows = state["department_checks"]
    assert {r["result"] for r in rows} == {"passed_by_silence"}
    assert all(r["replied_on"] == r["due_on"] for r in rows)
    silent = [s for s in state["history"] if s["action"] == "silence"]
    assert len(silent) == 8 and all(s["actor_id"] is None for s in silent)
    assert "conclude" in [a["action"] for a in state["allowed_actions"]]
    assert ok(act(client, w, case_id, "town_reviewer", "conclude"))["stage"]["code"] == \
        "approval"


def test_each_department_replies_and_a_problem_stops_the_case(client, db, world):
    w = world
    case_id = apply(client, w, on=days_ago(14))
    to_department_check(client, w, case_id, days_ago(14))  # sent today
    r = act(client, w, case_id, "town_reviewer", "conclude")
    assert r.status_code == 422 and len(r.get_json()["error"]["details"]["reasons"]) == 8
    letter = attach(client, w, case_id, "department_reply", "department")
    state = ok(act(client, w, case_id, "department", "record_reply", department="civil_affairs",
                   result="passed", attachment_ids=[letter]))
    civil = next(c for c in state["department_checks"] if c["department"] == "civil_affairs")
    assert civil["result"] == "passed" and civil["document_attachment_id"] == letter
    r = act(client, w, case_id, "department", "record_reply", department="civil_affairs",
            result="passed")
    assert r.status_code == 422  # once per department
    r = act(client, w, case_id, "county_admin", "record_reply", department="traffic_police",
            result="problem", note="名下登记小型轿车一辆")
    assert r.status_code == 422 and "attachment_ids" in r.get_json()["error"]["fields"]
    letter = attach(client, w, case_id, "department_reply", "county_admin")
    ok(act(client, w, case_id, "county_admin", "record_reply", department="traffic_police",
           result="problem", note="名下登记小型轿车一辆", attachment_ids=[letter]))
    r = act(client, w, case_id, "town_reviewer", "conclude")
    assert r.status_code == 422 and "交警发现问题" in str(r.get_json())
    state = ok(act(client, w, case_id, "town_reviewer", "reject", note="交警核查：名下有轿车"))
    assert state["stage"]["code"] == "rejected" and state["allowed_actions"] == []
    assert state["case"]["closed_reason"] == "交警核查：名下有轿车"
    r = act(client, w, case_id, "town_reviewer", "cancel", note="x")
    assert r.status_code == 409


# --- approval and the appraisal -------------------------------------------------------------------
def approval_case(client, db, w, household=None, **application):
    case_id = apply(client, w, household, on=days_ago(40), **application)
    to_department_check(client, w, case_id, days_ago(40))
    ok(act(client, w, case_id, "town_reviewer", "conclude"))
    fund(client, w, case_id)
    return case_id


def test_approval_needs_a_signed_filed_c_or_d_appraisal(client, db, world):
    w = world
    h = w.households[w.village_a1]
    case_id = approval_case(client, db, w)
    r = act(client, w, case_id, "town_reviewer", "approve")
    assert r.status_code == 422 and "没有住房安全性鉴定" in str(r.get_json())
    a = qualify_appraisal(db, h, signatures=2, filed=False, grade="B")
    reasons = act(client, w, case_id, "town_reviewer", "approve").get_json()["error"][
        "details"]["reasons"]
    assert len(reasons) == 3 and "B 级" in reasons[0] and "2 人签字" in reasons[1]
    r = client.patch(f"/api/v1/appraisals/{a.id}", headers=w.headers("town_reviewer"),
                     json={"filed_on": TODAY.isoformat()})
    assert r.status_code == 403  # the county files
    qualify_appraisal(db, h)
    state = ok(act(client, w, case_id, "town_reviewer", "approve", note="核准拆除重建"))
    assert state["stage"]["code"] == "planned"
    # 山阴: the town decides and the county keeps the record (备案).
    state = ok(client.get(f"/api/v1/cases/{case_id}/workflow",
                          headers=w.headers("county_admin")))
    assert "file" in [a["action"] for a in state["allowed_actions"]]
    state = ok(act(client, w, case_id, "county_admin", "file", note="县住建局村镇室备案"))
    assert state["stage"]["code"] == "planned"
    assert "file" not in [a["action"] for a in state["allowed_actions"]]


def test_the_appraisal_patch_records_signatures_and_the_county_filing(client, db, world):
    w = world
    a = qualify_appraisal(db, w.households[w.village_a1], signatures=0, filed=False)
    r = client.patch(f"/api/v1/appraisals/{a.id}", headers=w.headers("inspector"),
                     json={"signatures": SIGNERS})
    assert r.status_code == 200 and len(r.get_json()["signatures"]) == 3
    r = client.patch(f"/api/v1/appraisals/{a.id}", headers=w.headers("county_admin"),
                     json={"filed_on": TODAY.isoformat()})
    assert r.status_code == 200 and r.get_json()["filed_on"] == TODAY.isoformat()


@pytest.mark.parametrize("category,disabled,allowed", [
    ("tekun", False, True), ("dibao", False, True), ("dibao_edge", False, True),
    ("lifted_supported", True, True), ("lifted_supported", False, False),
    ("ordinary", False, False)])
def test_only_the_poorest_households_without_a_house_skip_the_appraisal(
        client, db, world, category, disabled, allowed):
    w = world
    h = factories.household(db.session, w.village_a1, name="无房户", category=category)
    case_id = approval_case(client, db, w, h, no_house=True, disabled_family=disabled)
    if allowed:  # a claim, until the certificate is on the case
        r = act(client, w, case_id, "town_reviewer", "approve")
        assert r.status_code == 422 and "证明" in str(r.get_json())
        attach(client, w, case_id, "income_proof")
    r = act(client, w, case_id, "town_reviewer", "approve")
    assert (r.status_code == 200) is allowed, r.get_json()
    if not allowed:
        assert "003 §四(五)3(2)" in str(r.get_json())


# --- agreement and works ---------------------------------------------------------------------
def test_a_month_after_the_agreement_the_village_urges_then_the_town_may_defer(
        client, db, world):
    w = world
    case = factories.case(db.session, w.households[w.village_a1], status="planned")
    attach(client, w, case.id, "agreement")
    ok(act(client, w, case.id, "town_reviewer", "sign", effective_on=TODAY - timedelta(days=30)))
    r = act(client, w, case.id, "village_cadre", "urge", note="入户督促")
    assert r.status_code == 422 and "仍可开工" in str(r.get_json())
    # A day later the month is over.
    db.session.expire_all()
    c = db.session.get(Case, case.id)
    c.agreement_signed_on -= timedelta(days=1)
    c.stage_entered_on -= timedelta(days=1)
    db.session.commit()
    r = act(client, w, case.id, "town_reviewer", "defer", note="仍未开工")
    assert r.status_code == 422 and "督促" in str(r.get_json())
    ok(act(client, w, case.id, "village_cadre", "urge", note="入户督促，户主称资金未到位"))
    state = ok(act(client, w, case.id, "town_reviewer", "defer",
                   note="督促后仍不开工，取消当年改造资格，安排至下一年度"))
    assert state["stage"]["code"] == "deferred"
    assert [s["action"] for s in state["history"]][-3:] == ["sign", "urge", "defer"]


# --- acceptance --------------------------------------------------------------------------------
def test_acceptance_is_blocked_listing_every_reason(client, db, world):
    w = world
    case = factories.case(db.session, w.households[w.village_a1], status="completed")
    r = act(client, w, case.id, "town_reviewer", "accept")
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "acceptance_blocked"
    reasons = r.get_json()["error"]["details"]["reasons"]
    assert "没有竣工验收检查记录" in reasons
    assert {"缺少改造前照片", "缺少改造中照片", "缺少改造后照片"} <= set(reasons)
    assert "档案缺少：申请书" in reasons and "档案缺少：改造协议书" in reasons
    items = r.get_json()["error"]["details"]["items"]
    assert {"kind": "phase", "ref": "during", "label": "缺少改造中照片"} in items
    assert {"kind": "document", "ref": "agreement", "label": "档案缺少：改造协议书"} in items
    assert len(items) == len(reasons)
    assert stage_of(db, case.id) == "completed"


def test_a_failed_acceptance_returns_the_case_to_works_with_a_deadline(client, db, world):
    w = world
    case = factories.case(db.session, w.households[w.village_a1], status="completed")
    r = act(client, w, case.id, "town_reviewer", "fail", note="圈梁未闭合")
    assert r.status_code == 422 and "rectify_by" in r.get_json()["error"]["fields"]
    state = ok(act(client, w, case.id, "town_reviewer", "fail", note="圈梁未闭合",
                   rectify_by=TODAY + timedelta(days=15)))
    assert state["stage"]["code"] == "in_progress"
    assert state["due_on"] == (TODAY + timedelta(days=15)).isoformat()
    # Its works began outside this system, on a day it does not know: the day of the failed
    # acceptance is not its 开工 (the 改造后 photos are checked against that date).
    db.session.expire_all()
    assert db.session.get(Case, case.id).started_on is None


# --- the to-do list ------------------------------------------------------------------------------
def test_my_todo_lists_the_steps_my_role_acts_on_and_unfiled_c_d_houses(client, db, world):
    w = world
    waiting = apply(client, w)  # the village submits the application
    factories.case(db.session, w.households[w.village_a2], status="completed")  # town accepts
    appraised = factories.household(db.session, w.village_a1, name="待建档")
    qualify_appraisal(db, appraised)
    cadre = client.get("/api/v1/me/todo", headers=w.headers("village_cadre")).get_json()
    kinds = {(i["kind"], i["case_id"], i["household_name"]) for i in cadre["items"]}
    assert ("case", waiting, w.households[w.village_a1].name) in kinds
    assert ("appraisal", None, "待建档") in kinds
    town = client.get("/api/v1/me/todo", headers=w.headers("town_reviewer")).get_json()
    by_stage = {i["stage"]: i for i in town["items"] if i["kind"] == "case"}
    assert set(by_stage) == {"application", "completed"}  # 山阴: the town may submit too
    assert by_stage["completed"]["actions"] == ["accept", "fail"]
    assert by_stage["completed"]["days_left"] is not None
    inspector = client.get("/api/v1/me/todo", headers=w.headers("inspector")).get_json()
    assert [i["kind"] for i in inspector["items"]] == []


# --- the history --------------------------------------------------------------------------------
def test_every_action_is_a_dated_step_and_an_audit_event(client, db, world):
    from backend.models import AuditEvent

    w = world
    case_id = apply(client, w)
    attach(client, w, case_id, "application_form", "village_cadre")
    ok(act(client, w, case_id, "village_cadre", "submit", note="村委会代为申请"))
    step = db.session.query(CaseStep).filter_by(case_id=case_id, action="submit").one()
    assert (step.stage, step.to_stage, step.effective_on) == ("application", "village_review",
                                                              TODAY)
    assert step.note == "村委会代为申请" and not step.outside_system
    assert db.session.query(AuditEvent).filter_by(entity="case", action="submit").count() == 1


def test_two_stage_acceptance_co_signed_then_paid_and_archived(client, db, world):
    from tests.api.test_visits import photo, put_visit, ts, visit_body

    w = world
    case = factories.case(db.session, w.households[w.village_a1], status="in_progress")
    photo(client, w, case, "site.safety", "site", phase="before", seed=41)
    photo(client, w, case, "foundation.type", "foundation", phase="during", seed=42)
    after = [photo(client, w, case, item, node, phase="after", seed=43 + i)
             for i, (node, item) in enumerate([("basis", "basis.site"),
                                               ("structure", "structure.walls")])]
    signoffs = [{"role": role, "name": name, "signed_at": ts(1)} for role, name in
                (("town", "岱岳镇 李工"), ("household", "王建国"), ("builder", "赵师傅"))]
    visit_id = str(uuid.uuid4())
    r = put_visit(client, w, visit_body(
        w, case, kind="completion", phase="after", template="completion", days_ago=1,
        signoffs=signoffs, appraisal_after="A", results=[
            {"item": "basis.site", "result": "pass", "photos": [after[0]]},
            {"item": "structure.walls", "result": "pass", "photos": [after[1]]}]),
        visit_id=visit_id)
    assert r.status_code == 201, r.get_json()
    assert stage_of(db, case.id) == "completed"  # the completion visit completed the works
    reasons = act(client, w, case.id, "town_reviewer", "accept").get_json()["error"][
        "details"]["reasons"]
    assert "竣工验收检查记录尚未审核通过" in reasons
    ok(client.post(f"/api/v1/visits/{visit_id}/review", json={"decision": "approve"},
                   headers=w.headers("town_reviewer")))
    for kind in ("application_form", "household_register", "income_proof", "head_photo",
                 "meeting_minutes", "review_form", "appraisal_report", "agreement",
                 "publicity_photo"):
        attach(client, w, case.id, kind)
    state = ok(act(client, w, case.id, "town_reviewer", "accept", note="乡镇实地验收合格"))
    assert state["stage"]["code"] == "town_accepted" and state["stage"]["label"] == "县级验收"
    reasons = act(client, w, case.id, "county_admin", "accept").get_json()["error"]["details"][
        "reasons"]
    assert reasons == ["档案缺少：竣工验收表"]
    attach(client, w, case.id, "acceptance_form", "county_admin")
    fund(client, w, case.id)  # approved before the case entered the system: entered once
    # The acceptance that releases the money records the house as built.
    r = act(client, w, case.id, "county_admin", "accept")
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"area_m2",
                                                                           "cost_yuan"}
    # 住建 with 财政: the county's acceptance moves on once both have signed.
    state = ok(act(client, w, case.id, "county_admin", "accept", area_m2="48.50",
                   cost_yuan="52000.00"))
    assert state["stage"]["code"] == "town_accepted"
    assert "accept" not in [a["action"] for a in state["allowed_actions"]]
    r = act(client, w, case.id, "county_admin", "accept")  # the same role cannot sign twice
    assert r.status_code == 422 and "会签" in str(r.get_json())
    state = ok(act(client, w, case.id, "finance", "accept", note="财政局会签"))
    assert state["stage"]["code"] == "accepted" and state["case"]["accepted_on"]
    assert state["due_on"] == (TODAY + timedelta(days=30)).isoformat()  # 004 §四(二): 30 日内
    assert act(client, w, case.id, "finance", "pay").status_code == 422  # not by hand
    voucher = attach(client, w, case.id, "payment_voucher", "finance")
    assert pay(client, w, case.id, "finance", voucher, amount="14000.00").status_code == 201
    assert stage_of(db, case.id) == "paid"  # paid in full: the case moves by itself
    state = ok(act(client, w, case.id, "town_reviewer", "archive"))
    assert state["stage"]["code"] == "archived" and state["allowed_actions"] == []
    assert [s["action"] for s in state["history"]][-5:] == ["accept", "accept", "accept", "pay",
                                                           "archive"]


INVENTED = {
    "code": "lianhua", "version": 1, "name": "莲花县（虚构）简化流程",
    "source": "a county invented for the test: no publicity, no departments, one acceptance",
    "counties": ["360321000000"], "cancel_roles": ["county_admin"],
    "stages": [
        {"code": "application", "type": "application", "due_days": 3,
         "roles": {"submit": ["town_reviewer"]}},
        {"code": "town_review", "type": "review", "due_days": 5, "working_days": True,
         "roles": {"pass": ["county_admin"], "return": ["county_admin"],
                   "reject": ["county_admin"]}},
        {"code": "approval", "type": "approval", "label": "县级审批",
         "roles": {"approve": ["county_admin"], "reject": ["county_admin"]}},
        {"code": "planned", "type": "agreement", "roles": {"sign": ["village_cadre"]}},
        {"code": "agreement_signed", "type": "works_start", "start_within_months": 2,
         "roles": {"start": ["village_cadre"], "urge": ["village_cadre"],
                   "defer": ["county_admin"]}},
        {"code": "in_progress", "type": "works", "roles": {"complete": ["village_cadre"]}},
        {"code": "completed", "type": "acceptance", "label": "县级验收",
         "roles": {"accept": ["county_admin"], "fail": ["county_admin"]}},
        {"code": "accepted", "type": "payment", "roles": {"pay": ["county_admin"]}},
        {"code": "paid", "type": "archive", "roles": {"archive": ["county_admin"]}},
    ],
}


def test_an_invented_county_walks_its_own_procedure_with_no_code_change(client, db, templates):
    from backend.services.workflow.spec import parse_workflow
    from backend.services.workflow.templates import load_workflows

    assert load_workflows(db.session, [parse_workflow(INVENTED)], [INVENTED]) == ["lianhua v1"]
    factories.region(db.session, "360000000000", "江西省", "province")
    factories.region(db.session, "360300000000", "萍乡市", "prefecture", "360000000000")
    factories.region(db.session, "360321000000", "莲花县", "county", "360300000000")
    factories.region(db.session, "360321100000", "琴亭镇", "town", "360321000000")
    factories.region(db.session, "360321100201", "花塘村", "village", "360321100000")
    w = factories.World()
    for role, area in (("town_reviewer", "360321100000"), ("county_admin", "360321000000"),
                       ("village_cadre", "360321100201")):
        w.users[role] = factories.user(db.session, role, [area], username=f"lh_{role}")
        w.tokens[role] = factories.token_for(db.session, w.users[role])
    h = factories.household(db.session, "360321100201", name="刘莲花", category="dibao")
    qualify_appraisal(db, h)
    case_id = apply(client, w, h, role="town_reviewer")
    state = ok(client.get(f"/api/v1/cases/{case_id}/workflow",
                          headers=w.headers("town_reviewer")))
    assert state["workflow"]["code"] == "lianhua"
    assert state["due_on"] == (TODAY + timedelta(days=3)).isoformat()
    assert act(client, w, case_id, "village_cadre", "submit").status_code == 409
    fund(client, w, case_id)
    walk = [("town_reviewer", "submit"), ("county_admin", "pass"), ("county_admin", "approve"),
            ("village_cadre", "sign"), ("village_cadre", "start"), ("village_cadre", "complete")]
    for role, action in walk:
        state = ok(act(client, w, case_id, role, action))
    assert state["stage"] == {"code": "completed", "label": "县级验收", "type": "acceptance",
                              "source": "", "checks": []}
    assert act(client, w, case_id, "county_admin", "accept").get_json()["error"]["code"] == \
        "acceptance_blocked"
    state = ok(act(client, w, case_id, "county_admin", "fail", note="返工",
                   rectify_by=TODAY + timedelta(days=10)))
    assert state["stage"]["code"] == "in_progress"
    assert [s["action"] for s in state["history"]] == ["open", *[a for _, a in walk], "fail"]


def test_a_workflow_file_with_faults_names_them_all():
    from backend.services.workflow.spec import WorkflowError, load_all, parse_workflow

    assert {w.code for w, _ in load_all()} == {"default", "shanyin", "tancheng", "tunliu",
                                               "wuxiang"}
    broken = {**INVENTED, "stages": [
        {"code": "nowhere", "type": "review", "roles": {}},
        {"code": "application", "type": "magic"},
        {"code": "planned", "type": "agreement", "roles": {"sign": ["mayor"]},
         "documents": ["deed"], "due_days": 0}]}
    with pytest.raises(WorkflowError) as raised:
        parse_workflow(broken)
    text = "\n".join(raised.value.errors)
    for fault in ("nowhere", "magic", "mayor", "deed", "due_days", "who takes 'pass'"):
        assert fault in text, fault


def test_a_stored_workflow_version_never_changes(db):
    from backend.services.workflow.spec import parse_workflow
    from backend.services.workflow.templates import WorkflowVersionChanged, load_workflows

    load_workflows(db.session, [parse_workflow(INVENTED)], [INVENTED])
    edited = {**INVENTED, "name": "改了名字却没改版本"}
    with pytest.raises(WorkflowVersionChanged):
        load_workflows(db.session, [parse_workflow(edited)], [edited])


def test_an_action_is_dated_inside_its_stage(client, db, world):
    w = world
    case_id = apply(client, w, on=days_ago(3))
    attach(client, w, case_id, "application_form", "village_cadre")
    for day, field in ((days_ago(4), "effective_on"), (TODAY + timedelta(days=1), "effective_on")):
        r = act(client, w, case_id, "village_cadre", "submit", effective_on=day)
        assert r.status_code == 422 and field in r.get_json()["error"]["fields"]
    ok(act(client, w, case_id, "village_cadre", "submit", effective_on=days_ago(2)))
    r = act(client, w, case_id, "village_cadre", "pass", effective_on=days_ago(3))
    assert r.status_code == 422  # before the stage began
    assert stage_of(db, case_id) == "village_review"


def test_cancel_needs_no_notice_and_ends_once_paid(client, db, world):
    w = world
    case_id = apply(client, w, on=days_ago(1))
    attach(client, w, case_id, "application_form", "village_cadre")
    ok(act(client, w, case_id, "village_cadre", "submit"))
    attach(client, w, case_id, "meeting_minutes", "village_cadre")
    ok(act(client, w, case_id, "village_cadre", "pass"))  # at 村公示, nothing posted yet
    state = ok(act(client, w, case_id, "town_reviewer", "cancel", note="农户自愿放弃"))
    assert state["stage"]["code"] == "cancelled"
    paid = factories.case(db.session, w.households[w.village_a2], status="paid")
    state = ok(client.get(f"/api/v1/cases/{paid.id}/workflow", headers=w.headers("county_admin")))
    assert "cancel" not in [a["action"] for a in state["allowed_actions"] + state["blocked"]]


def test_a_failed_acceptance_keeps_the_works_start_date(client, db, world):
    w = world
    case = factories.case(db.session, w.households[w.village_a1], status="in_progress")
    started = db.session.get(Case, case.id).started_on
    ok(act(client, w, case.id, "inspector", "complete"))
    ok(act(client, w, case.id, "town_reviewer", "fail", note="圈梁未闭合",
           rectify_by=TODAY + timedelta(days=10)))
    db.session.expire_all()
    assert db.session.get(Case, case.id).started_on == started


def test_a_number_beyond_any_row_is_not_found(client, db, world):
    w = world
    for url in (f"/api/v1/cases/{2**70}/workflow", f"/api/v1/cases/{2**31}"):
        assert client.get(url, headers=w.headers("county_admin")).status_code == 404
    r = client.post(f"/api/v1/cases/{2**63}/actions", json={"action": "cancel", "note": "x"},
                    headers=w.headers("county_admin"))
    assert r.status_code == 404


def test_the_town_review_passes_only_with_every_check_confirmed(client, db, world):
    w = world
    case_id = apply(client, w, on=days_ago(9))
    received = to_town_review(client, w, case_id, days_ago(9))
    attach(client, w, case_id, "review_form")
    state = ok(client.get(f"/api/v1/cases/{case_id}/workflow", headers=w.headers("town_reviewer")))
    assert [c["code"] for c in state["stage"]["checks"]] == TOWN_CHECKS
    r = act(client, w, case_id, "town_reviewer", "pass", effective_on=received,
            checks=TOWN_CHECKS[:-1])
    assert r.status_code == 422
    assert "未重复享受危房改造" in r.get_json()["error"]["fields"]["checks"]
    state = ok(act(client, w, case_id, "town_reviewer", "pass", effective_on=received,
                   checks=TOWN_CHECKS))
    assert state["history"][-1]["data"]["checks"] == sorted(TOWN_CHECKS)


def test_a_department_clerk_enters_only_their_own_departments_reply(client, db, world):
    w = world
    case_id = apply(client, w, on=days_ago(14))
    to_department_check(client, w, case_id, days_ago(14))
    letter = attach(client, w, case_id, "department_reply", "department")
    r = act(client, w, case_id, "department", "record_reply", department="traffic_police",
            result="passed", attachment_ids=[letter])  # the clerk is 民政's
    assert r.status_code == 422 and "民政" in r.get_json()["error"]["fields"]["department"]
    ok(act(client, w, case_id, "department", "record_reply", department="civil_affairs",
           result="passed", attachment_ids=[letter]))


def test_cases_from_before_the_procedure_are_pinned_with_their_due_date(db, world):
    from backend.services.workflow.templates import load_workflows

    w = world
    case = factories.case(db.session, w.households[w.village_a1], status="town_review")
    case.workflow_id, case.due_on = None, None
    case.stage_entered_on = date(2026, 3, 2)
    db.session.commit()
    load_workflows(db.session)  # nothing new to store; the case is pinned all the same
    db.session.expire_all()
    pinned = db.session.get(Case, case.id)
    assert pinned.workflow_id is not None
    assert pinned.due_on == add_working_days(date(2026, 3, 2), 7).on


def test_my_todo_drops_what_my_role_has_already_answered(client, db, world):
    w = world
    case_id = apply(client, w, on=days_ago(14))
    to_department_check(client, w, case_id, days_ago(14))
    clerk = client.get("/api/v1/me/todo", headers=w.headers("department")).get_json()["items"]
    assert [i["case_id"] for i in clerk] == [case_id]
    letter = attach(client, w, case_id, "department_reply", "department")
    ok(act(client, w, case_id, "department", "record_reply", department="civil_affairs",
           result="passed", attachment_ids=[letter]))
    assert client.get("/api/v1/me/todo", headers=w.headers("department")).get_json()[
        "items"] == []
    signed = factories.case(db.session, w.households[w.village_a2], status="town_accepted")
    attach(client, w, signed.id, "acceptance_form", "county_admin")
    mine = client.get("/api/v1/me/todo", headers=w.headers("finance")).get_json()["items"]
    assert signed.id in [i["case_id"] for i in mine]


def test_todo_names_what_a_notice_still_needs(client, db, world):
    w = world
    case_id = apply(client, w, on=days_ago(3))
    attach(client, w, case_id, "application_form", "village_cadre")
    ok(act(client, w, case_id, "village_cadre", "submit", effective_on=days_ago(3)))
    attach(client, w, case_id, "meeting_minutes", "village_cadre")
    ok(act(client, w, case_id, "village_cadre", "pass", effective_on=days_ago(3)))

    def actions():
        items = client.get("/api/v1/me/todo", headers=w.headers("village_cadre")).get_json()
        return next(i["actions"] for i in items["items"] if i["case_id"] == case_id)

    assert actions() == ["post"]
    ok(publicize(client, w, case_id, "village_cadre", on=days_ago(3)))
    assert actions() == ["close"]
    ok(act(client, w, case_id, "village_cadre", "record_objection", content="有异议"))
    assert actions() == ["resolve_objection", "close"]


def test_implausible_dates_are_refused(client, db, world):
    w = world
    case = factories.case(db.session, w.households[w.village_a1], status="completed")
    for fields in ({"effective_on": "0665-10-22"}, {"rectify_by": "9999-12-31"}):
        r = act(client, w, case.id, "town_reviewer", "fail", note="返工", **fields)
        assert r.status_code == 422 and set(fields) <= set(r.get_json()["error"]["fields"])
    r = client.patch(f"/api/v1/appraisals/{case.appraisal_id}", json={"filed_on": "0665-10-22"},
                     headers=w.headers("county_admin"))
    assert r.status_code == 422


def test_a_payment_due_waits_on_the_paying_roles_to_do(client, db, world):
    """山阴 pays through the town or the county's finance (003 §七(二)2), 30 days after the
    acceptance; nobody moves the case to 补助已拨付 by hand."""
    w = world
    case = factories.case(db.session, w.households[w.village_a1], status="accepted")
    fund(client, w, case.id)
    for role, expected in (("finance", True), ("town_reviewer", True), ("inspector", False),
                           ("county_admin", False)):
        items = ok(client.get("/api/v1/me/todo", headers=w.headers(role)))["items"]
        mine = [i for i in items if i["case_id"] == case.id]
        assert bool(mine) is expected, role
        if expected:
            assert mine[0]["kind"] == "payment" and mine[0]["actions"] == ["pay"]
            assert mine[0]["due_on"] == (case.accepted_on + timedelta(days=30)).isoformat()
            assert "14,000.00" in mine[0]["stage_label"]
    state = ok(client.get(f"/api/v1/cases/{case.id}/workflow", headers=w.headers("finance")))
    assert [a["action"] for a in state["allowed_actions"]] == []  # only payments move it


def test_the_subsidy_is_no_longer_a_free_number(client, db, world):
    """Set only by the approved plan and the acceptance, where the county's rules check it."""
    w = world
    case = factories.case(db.session, w.households[w.village_a1], status="approval")
    for field, value in (("subsidy_yuan", "100"), ("area_after_m2", "250"),
                         ("cost_yuan", "1")):
        r = client.patch(f"/api/v1/cases/{case.id}", json={field: value},
                         headers=w.headers("county_admin"))
        assert r.status_code == 422 and field in r.get_json()["error"]["fields"], field
    assert client.get(f"/api/v1/cases/{case.id}", headers=w.headers("county_admin")
                      ).get_json()["subsidy_yuan"] is None


def test_a_hard_rule_that_cannot_be_checked_yet_holds_the_approval(client, db, world):
    """山阴's 18 m² per person cap (003 §五(二) 不得超过) needs the family's size: approval waits
    for it rather than pass a rule nobody could check."""
    w = world
    h = factories.household(db.session, w.village_a1, name="人口未填", family_size=None)
    case_id = approval_case(client, db, w, h)
    qualify_appraisal(db, h)
    r = act(client, w, case_id, "town_reviewer", "approve")
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "policy_violation"
    assert "待填写：家庭人口" in r.get_json()["error"]["details"]["reasons"][0]
    state = ok(client.get(f"/api/v1/cases/{case_id}/workflow", headers=w.headers("town_reviewer")))
    assert [b["code"] for b in state["blocked"] if b["action"] == "approve"] == \
        ["policy_violation"]
    client.patch(f"/api/v1/households/{h.id}", json={"family_size": 3},
                 headers=w.headers("town_reviewer"))
    assert ok(act(client, w, case_id, "town_reviewer", "approve"))["stage"]["code"] == "planned"
