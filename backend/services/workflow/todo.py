"""What waits for me (待办): the open stages of cases in my area that my role acts on, overdue
first, subsidies my role pays that are due and money it must recover, and houses confirmed C/D
with no case yet (发现一户、建档一户, 002 §三(二))."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from backend.models import (
    Appraisal,
    Case,
    DepartmentCheck,
    Household,
    Objection,
    Publicity,
    User,
    WorkflowVersion,
)
from backend.services import policy
from backend.services.policy import Actor
from backend.services.reports import filings
from backend.services.reports.filings import DueReport
from backend.services.subsidies import ledger
from backend.services.workflow import departments, steps
from backend.services.workflow.spec import STAGE_ACTIONS
from backend.services.workflow.templates import spec_of, workflow_of
from backend.vocabulary import ACTION_LABELS, FINAL_STATUSES

# Actions that are records, not the step the stage waits for.
SIDE_ACTIONS = ("record_objection", "urge", "cancel")


@dataclass(frozen=True)
class TodoItem:
    kind: str  # case | payment | recovery | appraisal | report
    household: Household | None  # None: a report my area owes
    case_id: int | None
    stage: str | None
    stage_label: str
    actions: list[str]
    action_labels: list[str]
    due_on: date | None
    working_days: bool = False  # the stage's period counts working days
    report: DueReport | None = None

    def days_left(self, today: date) -> int | None:
        return None if self.due_on is None else (self.due_on - today).days


def todo(session, actor: Actor, today: date, *, limit: int = 500) -> list[TodoItem]:
    items = _case_items(session, actor, today) + _money_items(session, actor, today) \
        + _appraisal_items(session, actor) + _report_items(session, actor, today)
    items.sort(key=lambda i: (i.due_on is None, i.due_on or date.max,
                              i.household.name if i.household else ""))
    return items[:limit]


def _case_items(session, actor: Actor, today: date) -> list[TodoItem]:
    if departments.settle_all(session, actor, today):
        session.commit()
    stages = _stages_acted_on(session, actor.role)
    if not stages:
        return []
    cases = session.scalars(policy.scoped(select(Case), actor, Case)
                            .where(Case.status.in_(stages))
                            .order_by(Case.due_on, Case.id)).all()
    ids = [c.id for c in cases]
    awaited = _replies_awaited(session, actor, ids)
    posted, objected = _notices(session, ids)
    items = []
    for case in cases:
        _, spec = workflow_of(session, case)
        stage = spec.stage(case.status)
        mine = [a for a in STAGE_ACTIONS[stage.type]
                if a not in SIDE_ACTIONS and actor.role in stage.roles_for(a)] if stage else []
        if stage and stage.type == "departments" and actor.role == "department" \
                and case.id not in awaited:
            mine = []  # my department has answered this one
        if stage and stage.type == "publicity":  # what the notice still needs, no more
            mine = [a for a in mine if (a == "post") != (case.id in posted)
                    and (a != "resolve_objection" or case.id in objected)]
        if stage and actor.role in stage.cosign and any(
                s.action == "accept" and s.data.get("role") == actor.role
                for s in steps.since_entry(case)):
            mine = []  # my signature is given; the others' are awaited
        if mine:
            items.append(TodoItem("case", case.household, case.id, case.status, stage.label,
                                  mine, [ACTION_LABELS[a] for a in mine], case.due_on,
                                  stage.working_days or stage.type == "departments"))
    return items


def _money_items(session, actor: Actor, today: date) -> list[TodoItem]:
    """Tranches my role pays that may be paid now (004 §四(三)), and open recoveries in
    counties where my role records them (003 §七(二)2)."""
    items = [TodoItem("payment", i.household, i.case.id, i.case.status,
                      f"{i.due.tranche.label}待拨付 {i.due.outstanding:,} 元", ["pay"],
                      [ACTION_LABELS["pay"]], i.due.due_on)
             for i in ledger.due_items(session, actor, today, roles_of=actor.role)]
    for recovery, household in ledger.open_recoveries(session, actor):
        case = session.get(Case, recovery.case_id)
        if actor.role in workflow_of(session, case)[1].payments.recovery_roles:
            items.append(TodoItem("recovery", household, case.id, case.status,
                                  f"待追回 {recovery.outstanding_yuan:,} 元", ["recover"],
                                  [ACTION_LABELS["recover"]], None))
    return items


def _report_items(session, actor: Actor, today: date) -> list[TodoItem]:
    """Last month's reports my area has not yet sent up, by the county file's due day."""
    return [TodoItem("report", None, None, None,
                     f"{r.region.name}{r.period:%Y年%m月}{r.report.label}", ["file_report"],
                     ["报送报表"], r.due_on, report=r)
            for r in filings.due_reports(session, actor, today) if r.filed is None]


def _notices(session, case_ids: list[int]) -> tuple[set[int], set[int]]:
    """The cases with a notice up, and those with an objection awaiting its outcome."""
    if not case_ids:
        return set(), set()
    posted = set(session.scalars(select(Publicity.case_id).where(
        Publicity.case_id.in_(case_ids), Publicity.ended_on.is_(None))))
    objected = set(session.scalars(select(Objection.case_id).where(
        Objection.case_id.in_(case_ids), Objection.status == "open")))
    return posted, objected


def _replies_awaited(session, actor: Actor, case_ids: list[int]) -> set[int]:
    """The cases whose check by the actor's own department is still pending."""
    if actor.role != "department" or not case_ids:
        return set()
    department = session.get(User, actor.user_id).department
    return set(session.scalars(select(DepartmentCheck.case_id).where(
        DepartmentCheck.case_id.in_(case_ids), DepartmentCheck.department == department,
        DepartmentCheck.result == "pending")))


def _stages_acted_on(session, role: str) -> set[str]:
    """The stages, in any county's procedure, where this role takes the step."""
    return {stage.code for version in session.scalars(select(WorkflowVersion))
            for stage in spec_of(version).stages
            if any(role in stage.roles_for(a) for a in STAGE_ACTIONS[stage.type]
                   if a not in SIDE_ACTIONS)}


def _appraisal_items(session, actor: Actor) -> list[TodoItem]:
    if not actor.can(policy.CASE_APPLY):
        return []
    # The latest appraisal of a household with no open case (a deferred or rejected one ended).
    latest = (select(func.max(Appraisal.id)).where(Appraisal.household_id == Household.id)
              .correlate(Household).scalar_subquery())
    open_case = select(Case.id).where(Case.household_id == Household.id,
                                      Case.status.not_in(FINAL_STATUSES)).exists()
    rows = session.execute(policy.scoped(
        select(Household, Appraisal).join(Appraisal, Appraisal.id == latest)
        .where(Appraisal.grade.in_(("C", "D")), ~open_case),
        actor, Household).order_by(Appraisal.appraised_on)).all()
    items = []
    for household, appraisal in rows:
        items.append(TodoItem("appraisal", household, None, None,
                              f"鉴定为 {appraisal.grade} 级，尚未建档", ["open_case"],
                              ["登记改造申请"], None))
    return items
