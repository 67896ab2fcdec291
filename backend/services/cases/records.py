"""Renovation cases: opening one for an eligible household, edits, status changes, lists."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from backend.models import Appraisal, Case, CaseStatusChange, Household
from backend.models.region import code_range
from backend.services import audit, policy
from backend.services.errors import InvalidInput, InvalidTransition, NotEligible
from backend.services.households import _region_in_scope, get_household
from backend.services.pagination import page
from backend.services.policy import Actor
from backend.vocabulary import BUILD_MODES, METHODS, NO_APPRAISAL_METHODS, STATUSES

SORT = [Case.year, Case.id]
# The date column each status change stamps on the case.
STATUS_DATES = {
    "agreement_signed": "agreement_signed_on",
    "in_progress": "started_on",
    "completed": "completed_on",
    "accepted": "accepted_on",
    "paid": "paid_on",
}


@dataclass(frozen=True)
class CaseQuery:
    region: str | None = None
    status: str | None = None
    method: str | None = None
    year: int | None = None
    household_id: int | None = None
    cursor: str | None = None
    limit: int = 50


def list_cases(session, actor: Actor, query: CaseQuery, *, cursor_key: bytes):
    stmt = policy.scoped(select(Case), actor, Case)
    if query.region:
        region = _region_in_scope(session, actor, query.region, field="region")
        stmt = stmt.where(Case.village_code.between(*code_range(region.code, region.level)))
    for column, value in ((Case.status, query.status), (Case.method, query.method),
                          (Case.year, query.year), (Case.household_id, query.household_id)):
        if value is not None:
            stmt = stmt.where(column == value)
    return page(session, stmt, SORT, cursor=query.cursor, limit=query.limit, key=cursor_key)


def get_case(session, actor: Actor, case_id: int) -> Case:
    return policy.get_in_scope(session, Case, case_id, actor)


def open_case(session, actor: Actor, household_id: int, values: dict, *, today: date) -> Case:
    """Open a renovation case for a household rated C or D (or housed by swap or rent)."""
    actor.require(policy.CASE_WRITE)
    household = get_household(session, actor, household_id)
    _check_choices(values)
    appraisal = _qualifying_appraisal(session, household, values.pop("appraisal_id", None),
                                      values["method"])
    if session.scalar(select(Case.id).where(Case.household_id == household.id,
                                            Case.year == values["year"])):
        raise InvalidInput(f"该户 {values['year']} 年已有改造项目",
                           fields={"year": "该户本年度已有改造项目"})
    case = Case(household=household, village_code=household.village_code, appraisal=appraisal,
                status="planned", **values)
    case.history.append(CaseStatusChange(status="planned", effective_on=today,
                                         changed_by=actor.user_id))
    session.add(case)
    session.flush()
    audit.record(session, actor, "create", "case", case.id,
                 {"household_id": household.id, "method": case.method, "year": case.year})
    session.commit()
    return case


def update_case(session, actor: Actor, case_id: int, values: dict, *, today: date) -> Case:
    """Edit a case's facts; a new `status` is checked against the workflow and dated."""
    actor.require(policy.CASE_WRITE)
    case = get_case(session, actor, case_id)
    _check_choices(values)
    status = values.pop("status", None)
    effective_on = values.pop("status_effective_on", None) or today
    note = values.pop("status_note", None)
    changes = audit.diff(case, values)
    if status and status != case.status:
        changes["status"] = [case.status, status]
        move_status(case, status, effective_on=effective_on, by=actor.user_id, note=note)
    if changes:
        audit.record(session, actor, "update", "case", case.id, changes)
    session.commit()
    return case


def move_status(case: Case, status: str, *, effective_on: date, by: int | None,
                note: str | None = None) -> None:
    """Move a case along its workflow, stamping the matching date and the history."""
    if status not in STATUSES:
        raise InvalidInput(fields={"status": "未知的项目状态"})
    if not case.can_move_to(status):
        raise InvalidTransition(
            f"项目状态不能从“{STATUSES[case.status]}”变为“{STATUSES[status]}”",
            fields={"status": "状态变更不符合流程"},
        )
    case.status = status
    if column := STATUS_DATES.get(status):
        setattr(case, column, effective_on)
    case.history.append(CaseStatusChange(status=status, effective_on=effective_on,
                                         changed_by=by, note=note))


def _check_choices(values: dict) -> None:
    problems = {}
    if "method" in values and values["method"] not in METHODS:
        problems["method"] = "改造方式应为：" + "、".join(METHODS)
    if "build_mode" in values and values["build_mode"] not in BUILD_MODES:
        problems["build_mode"] = "建设方式应为自建或统建"
    if problems:
        raise InvalidInput(fields=problems)


def _qualifying_appraisal(session, household: Household, appraisal_id, method):
    if appraisal_id is not None:
        appraisal = session.get(Appraisal, appraisal_id)
        if appraisal is None or appraisal.household_id != household.id:
            raise InvalidInput(fields={"appraisal_id": "该鉴定记录不属于此农户"})
    else:
        appraisal = household.appraisals[-1] if household.appraisals else None
    if method in NO_APPRAISAL_METHODS:
        return appraisal
    if appraisal is None or appraisal.grade not in ("C", "D"):
        raise NotEligible("该户房屋未鉴定为C级或D级危房，不能列入改造",
                          fields={"appraisal_id": "需要C级或D级鉴定结果"})
    return appraisal
