"""What waits for me (待办): the open stages of cases in my area that my role acts on, overdue
first, and houses confirmed C/D with no case yet (发现一户、建档一户, 002 §三(二))."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from backend.models import Appraisal, Case, Household
from backend.services import policy
from backend.services.policy import Actor
from backend.services.workflow import departments
from backend.services.workflow.spec import STAGE_ACTIONS
from backend.services.workflow.templates import workflow_of
from backend.vocabulary import ACTION_LABELS, FINAL_STATUSES

# Actions that are records, not the step the stage waits for.
SIDE_ACTIONS = ("record_objection", "urge", "cancel")


@dataclass(frozen=True)
class TodoItem:
    kind: str  # case | appraisal
    household: Household
    case_id: int | None
    stage: str | None
    stage_label: str
    actions: list[str]
    action_labels: list[str]
    due_on: date | None

    def days_left(self, today: date) -> int | None:
        return None if self.due_on is None else (self.due_on - today).days


def todo(session, actor: Actor, today: date, *, limit: int = 500) -> list[TodoItem]:
    items = _case_items(session, actor, today) + _appraisal_items(session, actor)
    items.sort(key=lambda i: (i.due_on is None, i.due_on or date.max, i.household.name))
    return items[:limit]


def _case_items(session, actor: Actor, today: date) -> list[TodoItem]:
    cases = session.scalars(policy.scoped(select(Case), actor, Case)
                            .where(Case.status.not_in(FINAL_STATUSES))
                            .order_by(Case.due_on, Case.id)).all()
    items, settled = [], False
    for case in cases:
        _, spec = workflow_of(session, case)
        stage = spec.stage(case.status)
        if stage is None:
            continue
        settled |= departments.settle_silence(session, case, today)
        mine = [a for a in STAGE_ACTIONS[stage.type]
                if a not in SIDE_ACTIONS and actor.role in stage.roles_for(a)]
        if mine:
            items.append(TodoItem("case", case.household, case.id, case.status, stage.label,
                                  mine, [ACTION_LABELS[a] for a in mine], case.due_on))
    if settled:
        session.commit()
    return items


def _appraisal_items(session, actor: Actor) -> list[TodoItem]:
    if not actor.can(policy.CASE_APPLY):
        return []
    rows = session.execute(policy.scoped(
        select(Household, Appraisal).join(Appraisal, Appraisal.household_id == Household.id)
        .where(Appraisal.grade.in_(("C", "D")),
               ~select(Case.id).where(Case.household_id == Household.id).exists()),
        actor, Household).order_by(Appraisal.appraised_on)).all()
    seen, items = set(), []
    for household, appraisal in rows:
        if household.id in seen:
            continue
        seen.add(household.id)
        items.append(TodoItem("appraisal", household, None, None,
                              f"鉴定为 {appraisal.grade} 级，尚未建档", ["open_case"],
                              ["登记改造申请"], None))
    return items
