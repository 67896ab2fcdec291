"""部门比对 (003 §四(四), 身份审查表): each department checks the applicant and replies within
its working days; no reply by the deadline counts as passed, which the system records itself
with the date, and a problem found by any department stops the case with its note."""

from datetime import date

from sqlalchemy import select

from backend.models import Case, CaseStep, DepartmentCheck, User
from backend.services import audit, policy
from backend.services.errors import InvalidInput
from backend.services.workflow.calendar import add_working_days
from backend.vocabulary import DEPARTMENTS


def open_checks(session, case: Case, stage, on: date) -> date:
    """Send the applicant to every department of the stage; return the last reply date."""
    due = add_working_days(on, stage.reply_days)
    existing = {c.department: c for c in checks_of(session, case)}
    for department in stage.departments:
        check = existing.get(department)
        if check is None:
            session.add(DepartmentCheck(case_id=case.id, department=department, sent_on=on,
                                        due_on=due.on, due_is_estimate=due.estimated))
        else:  # sent again after a return: a new round (the old replies stay in the steps)
            check.sent_on, check.due_on, check.due_is_estimate = on, due.on, due.estimated
            check.result, check.replied_on, check.note = "pending", None, None
            check.document_attachment_id = check.entered_by = None
    return due.on


def checks_of(session, case: Case) -> list[DepartmentCheck]:
    return list(session.scalars(select(DepartmentCheck).where(DepartmentCheck.case_id == case.id)
                                .order_by(DepartmentCheck.id)))


def record_reply(session, actor, case: Case, given, on: date) -> DepartmentCheck:
    clerk = session.get(User, actor.user_id)
    if actor.role == "department" and clerk.department != given.department:
        raise InvalidInput(fields={"department": "只能登记本部门（"
                                   f"{DEPARTMENTS.get(clerk.department, '未设部门')}）的核查结果"})
    check = next((c for c in checks_of(session, case) if c.department == given.department), None)
    if check is None:
        raise InvalidInput(fields={"department": "本项目未向该部门发送核查"})
    if check.result != "pending":
        name = DEPARTMENTS[check.department]
        raise InvalidInput(fields={"department": f"{name}的核查结果已登记"})
    if given.result not in ("passed", "problem"):
        raise InvalidInput(fields={"result": "应为 passed（合格）或 problem（发现问题）"})
    if given.result == "problem" and not (given.note or "").strip():
        raise InvalidInput(fields={"note": "发现问题时须写明情况"})
    if not given.attachment_ids:  # who entered it is the step; what the department said, this
        raise InvalidInput(fields={"attachment_ids": "请上传该部门的核查回复文件"})
    if on < check.sent_on:
        raise InvalidInput(fields={"effective_on": "回复日期早于发送日期"})
    check.result, check.replied_on, check.note = given.result, on, given.note
    check.entered_by = actor.user_id
    check.document_attachment_id = (given.attachment_ids or [None])[0]
    return check


def settle_silence(session, case: Case, today: date) -> bool:
    """Mark the departments that did not reply by their deadline as passed, dated that day;
    return whether any was marked."""
    if case.status != "department_check":
        return False
    settled = False
    for check in checks_of(session, case):
        if check.result == "pending" and check.due_on < today:
            check.result, check.replied_on = "passed_by_silence", check.due_on
            note = f"{DEPARTMENTS[check.department]}逾期未回复，视为审查合格（003 §四(四)）"
            case.history.append(CaseStep(
                case_id=case.id, stage=case.status, action="silence", to_stage=case.status,
                effective_on=check.due_on, actor_id=None, note=note,
                data={"department": check.department}))
            audit.record(session, None, "silence", "case", case.id,
                         {"department": check.department, "due_on": str(check.due_on)})
            settled = True
    if settled:
        session.flush()
    return settled


def unfinished(session, case: Case) -> list[str]:
    """Why the comparison cannot be concluded yet: replies still awaited, problems found."""
    reasons = []
    for check in checks_of(session, case):
        name = DEPARTMENTS[check.department]
        if check.result == "pending":
            reasons.append(f"{name}尚未回复（{check.due_on} 前回复，逾期视为合格）")
        elif check.result == "problem":
            reasons.append(f"{name}发现问题：{check.note}；应不予通过")
    return reasons


def settle_all(session, actor, today: date) -> bool:
    """Settle silence for every case of the caller's area waiting at 部门比对, in one read."""
    # By id: PostgreSQL cannot compare JSON columns, so no DISTINCT over whole case rows.
    overdue_ids = policy.scoped(
        select(Case.id).join(DepartmentCheck, DepartmentCheck.case_id == Case.id)
        .where(Case.status == "department_check", DepartmentCheck.result == "pending",
               DepartmentCheck.due_on < today), actor, Case)
    overdue = session.scalars(select(Case).where(Case.id.in_(overdue_ids))).all()
    return any([settle_silence(session, case, today) for case in overdue])


def awaited_from(session, case: Case, actor) -> list[DepartmentCheck]:
    """The checks still pending that this actor may answer (a clerk: their own department's)."""
    own = session.get(User, actor.user_id).department if actor.role == "department" else None
    return [c for c in checks_of(session, case)
            if c.result == "pending" and (own is None or c.department == own)]
