"""Renovation cases: opening one at its county's first stage (the application), editing its
facts, lists. The stage itself moves only through the workflow engine's actions."""

import json
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from backend import display
from backend.models import Appraisal, Case, Household
from backend.models.region import code_range
from backend.services import audit, policy
from backend.services.errors import InvalidInput
from backend.services.households import _region_in_scope, get_household
from backend.services.pagination import page
from backend.services.policy import Actor
from backend.services.workflow.engine import start_case
from backend.vocabulary import BUILD_MODES, METHODS

SORT = [Case.year, Case.id]


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
    """Register a household's application as a case at its county's first stage."""
    actor.require(policy.CASE_APPLY)
    household = get_household(session, actor, household_id)
    _check_choices(values)
    values["application"] = _plain(values.get("application") or {})
    appraisal = _appraisal(session, household, values.pop("appraisal_id", None))
    if session.scalar(select(Case.id).where(Case.household_id == household.id,
                                            Case.year == values["year"])):
        raise InvalidInput(f"该户 {values['year']} 年已有改造项目",
                           fields={"year": "该户本年度已有改造项目"})
    case = Case(household=household, village_code=household.village_code, appraisal=appraisal,
                **values)
    applied_on = date.fromisoformat(values["application"].get("applied_on") or today.isoformat())
    if applied_on > today:
        raise InvalidInput(fields={"application.applied_on": "申请日期不能晚于今天"})
    session.add(case)
    session.flush()
    start_case(session, actor, case, applied_on)  # a paper application counts from its date
    audit.record(session, actor, "create", "case", case.id,
                 {"household_id": household.id, "method": case.method, "year": case.year})
    session.commit()
    return case


def update_case(session, actor: Actor, case_id: int, values: dict, *, today: date) -> Case:
    """Edit a case's facts; its stage moves only through the workflow's actions."""
    actor.require(policy.CASE_WRITE)
    case = get_case(session, actor, case_id)
    _check_choices(values)
    if "application" in values:
        values["application"] = _plain(values["application"] or {})
    if values.get("year", case.year) != case.year and session.scalar(select(Case.id).where(
            Case.household_id == case.household_id, Case.year == values["year"])):
        raise InvalidInput(f"该户 {values['year']} 年已有改造项目",
                           fields={"year": "该户该年度已有改造项目"})
    if "appraisal_id" in values:
        case.appraisal = _appraisal(session, case.household, values.pop("appraisal_id"))
    changes = audit.diff(case, values)
    if "application" in changes:  # the log must not become a copy of family ID numbers
        changes["application"] = [_masked(a) for a in changes["application"]]
    if changes:
        audit.record(session, actor, "update", "case", case.id, changes)
    session.commit()
    return case


def _plain(application: dict) -> dict:
    """The application as JSON: money as a decimal string, dates as ISO text."""
    return json.loads(json.dumps(application, default=str, ensure_ascii=False))


def _masked(application: dict | None) -> dict | None:
    if not application:
        return application
    members = [{**m, "id_number": display.masked_id_number(m["id_number"])}
               for m in application.get("members", []) if m.get("id_number")]
    return {**application, "members": members}


def _check_choices(values: dict) -> None:
    problems = {}
    if "method" in values and values["method"] not in METHODS:
        problems["method"] = "改造方式应为：" + "、".join(METHODS)
    if "build_mode" in values and values["build_mode"] not in BUILD_MODES:
        problems["build_mode"] = "建设方式应为自建或统建"
    if problems:
        raise InvalidInput(fields=problems)


def _appraisal(session, household: Household, appraisal_id) -> Appraisal | None:
    """The appraisal the case rests on: the one named, else the household's latest."""
    if appraisal_id is None:
        return household.appraisals[-1] if household.appraisals else None
    appraisal = session.get(Appraisal, appraisal_id)
    if appraisal is None or appraisal.household_id != household.id:
        raise InvalidInput(fields={"appraisal_id": "该鉴定记录不属于此农户"})
    return appraisal
