"""The case procedure, enforced: a case's stage moves only through named actions, each checked
against its county's workflow, the actor's role and area, and the evidence it needs.

Every action is a `CaseStep` (who, when, note, attachments) and an audit event; the history is
the proof. Stage types and their rules are here; which stages a county uses, in which order,
with which periods and actors, is its workflow file (`spec.py`).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from backend.models import Case, CaseStep, Objection, Publicity
from backend.services import attachments, policy
from backend.services.errors import (
    AppraisalRequired,
    DepartmentsPending,
    DocumentsMissing,
    InvalidInput,
    InvalidTransition,
    WorkflowBlocked,
)
from backend.services.locking import lock_case
from backend.services.photos.checks import PhotoRules
from backend.services.photos.flagging import recheck_phase_flags
from backend.services.policy import Actor
from backend.services.subsidies import checks as policy_checks
from backend.services.workflow import actions, checks, departments, publicity, steps
from backend.services.workflow.calendar import Deadline, add_months, is_working_day
from backend.services.workflow.spec import FILING, STAGE_ACTIONS, StageSpec, WorkflowSpec
from backend.services.workflow.steps import ActionInput
from backend.services.workflow.templates import workflow_of
from backend.vocabulary import ACTION_LABELS, FINAL_STATUSES, ROLE_LABELS, STATUSES

# Actions that leave the procedure for good, or go back to the applicant: each needs a reason.
NEEDS_REASON = ("reject", "return", "cancel", "fail", "defer", "resolve_objection")


@dataclass(frozen=True)
class ActionOption:
    action: str
    label: str


@dataclass(frozen=True)
class BlockedAction:
    action: str
    label: str
    code: str
    reasons: list[str]
    only_documents: bool = False  # what blocks it are papers the action's form can carry


@dataclass
class WorkflowState:
    case: Case
    workflow: WorkflowSpec
    stage: StageSpec | None
    due: Deadline | None
    allowed: list[ActionOption]
    blocked: list[BlockedAction]
    history: list[CaseStep]
    publicities: list[Publicity]
    objections: list[Objection]
    department_checks: list
    documents: list
    order: list[str]  # the case's attachments, by kind

    @property
    def forms(self) -> list:
        """The actions a form should be offered for, in the stage's order: those allowed now
        and those waiting only for documents, which the form uploads with the action."""
        waiting = {b.action: b for b in self.blocked if b.only_documents}
        ready = {a.action: a for a in self.allowed}
        return [ready.get(action) or waiting[action] for action in self.order
                if action in ready or action in waiting]


# --- entry points --------------------------------------------------------------------------
def start_case(session, actor: Actor, case: Case, today: date) -> None:
    """Put a new case at its county's first stage (called inside the case's creation)."""
    version, spec = workflow_of(session, case)
    case.workflow_id = version.id
    steps.enter(session, case, spec, spec.first(), today)
    steps.record(session, actor, case, "open", case.status, today, note=None)


def place_at(session, case: Case, stage: str, on: date, *, photo_rules: PhotoRules,
             note: str = "此前环节系统外办理") -> None:
    """Put a case that entered this system late at the stage it has reached; the earlier steps
    are recorded as done outside the system (系统外办理), never invented."""
    version, spec = workflow_of(session, case)
    case.workflow_id = version.id
    steps.record(session, None, case, "migrated", stage, on, note=note, outside_system=True)
    with _rechecking_after_photos_if_works_start(session, case, photo_rules):
        steps.enter(session, case, spec, stage, on)


def workflow_state(session, actor: Actor, case_id: int, today: date) -> WorkflowState:
    case = policy.get_in_scope(session, Case, case_id, actor)
    _, spec = workflow_of(session, case)
    if departments.settle_silence(session, case, today):
        session.commit()
    return _state(session, actor, case, spec, today)


def perform(session, actor: Actor, case_id: int, given: ActionInput, today: date, *,
            photo_rules: PhotoRules) -> WorkflowState:
    """Take one action on a case, or refuse it with the rule that blocks it."""
    # One action at a time on a case: two co-signers or a double click wait for each other.
    case = lock_case(session, policy.get_in_scope(session, Case, case_id, actor))
    _, spec = workflow_of(session, case)
    departments.settle_silence(session, case, today)
    stage = spec.stage(case.status)
    _check_allowed(spec, stage, case, actor, given.action)
    if given.action in NEEDS_REASON and not (given.note or "").strip():
        raise InvalidInput(fields={"note": "请写明理由"})
    on = given.effective_on or today
    _check_date(case, on, today)
    steps.check_attachments(session, case, given)
    present = checks.document_kinds(session, case)
    blocked = _blockers(session, case, spec, stage, given.action, on, present, actor)
    if blocked:
        raise blocked
    handler = actions.HANDLERS.get(given.action, steps.advance)
    with _rechecking_after_photos_if_works_start(session, case, photo_rules):
        handler(session, actor, case, spec, stage, given, on)
    session.commit()
    return _state(session, actor, case, spec, today)


def _check_date(case: Case, on: date, today: date) -> None:
    """An action is dated inside its stage: not before the case entered it or before the
    stage's last step, and not in the future (paper records may be entered afterwards)."""
    if on > today:
        raise InvalidInput(fields={"effective_on": "办理日期不能晚于今天"})
    floor = max([case.stage_entered_on or on,
                 *(s.effective_on for s in steps.since_entry(case))])
    if on < floor:
        raise InvalidInput(fields={"effective_on": f"办理日期不能早于本环节上一步（{floor}）"})


def advance_by_visit(session, actor: Actor, case: Case, action: str, on: date,
                     note: str, *, photo_rules: PhotoRules) -> bool:
    """Start or complete works from an inspector's visit, when the case waits for exactly that,
    the visit is not older than the stage, and the county lets the inspector's role do it;
    return whether it moved."""
    _, spec = workflow_of(session, case)
    stage = spec.stage(case.status)
    if stage is None or action not in STAGE_ACTIONS[stage.type] \
            or actor.role not in stage.roles_for(action) \
            or (case.stage_entered_on and on < case.stage_entered_on):
        return False
    with _rechecking_after_photos_if_works_start(session, case, photo_rules):
        steps.advance(session, actor, case, spec, stage, ActionInput(action, note=note), on)
    return True


@contextmanager
def _rechecking_after_photos_if_works_start(session, case: Case, photo_rules: PhotoRules
                                            ) -> Iterator[None]:
    """Recheck the case's 改造后 photos if the step records the start of works (开工): those
    sent before it (a step entered late, dated back) were checked without its date."""
    started = case.started_on
    yield
    if case.started_on != started:
        recheck_phase_flags(session, case, photo_rules)


# --- what the caller may do ----------------------------------------------------------------
def _state(session, actor: Actor, case: Case, spec: WorkflowSpec, today: date
           ) -> WorkflowState:
    stage = spec.stage(case.status)
    documents = attachments.of_case(session, case)
    present = {d.kind for d in documents}
    allowed, blocked = [], []
    for action in _offered(spec, stage, case):
        label = ACTION_LABELS.get(action, action)
        roles = _roles(spec, stage, action)
        if actor.role not in roles:
            who = "、".join(ROLE_LABELS[r] for r in roles) or "无人"
            blocked.append(BlockedAction(action, label, "not_your_role", [f"由{who}办理"]))
            continue
        problem = _blockers(session, case, spec, stage, action, today, present, actor)
        if problem is None:
            allowed.append(ActionOption(action, label))
        else:
            blocked.append(BlockedAction(
                action, label, problem.code, problem.details.get("reasons") or [problem.message],
                isinstance(problem, DocumentsMissing) or problem.details.get("only_documents",
                                                                             False)))
    publicities = list(session.scalars(select(Publicity).where(Publicity.case_id == case.id)
                                       .order_by(Publicity.id)))
    # Objections come only with a notice, department checks only once the case reached them.
    objections = list(session.scalars(select(Objection).where(Objection.case_id == case.id)
                                      .order_by(Objection.id))) if publicities else []
    reached = any(s.to_stage == "department_check" for s in case.history)
    checks_sent = departments.checks_of(session, case) if reached else []
    return WorkflowState(case, spec, stage, _due(case, stage), allowed, blocked, list(case.history),
                         publicities, objections, checks_sent, documents,
                         _offered(spec, stage, case))


def _offered(spec: WorkflowSpec, stage: StageSpec | None, case: Case) -> list[str]:
    if stage is None:
        return []
    actions = list(STAGE_ACTIONS[stage.type])
    if spec.filing_roles and spec.comes_before("approval", case.status) \
            and not any(s.action == FILING for s in case.history):
        actions.append(FILING)
    # Once the money is paid the case is only archived, never cancelled.
    return actions + ([] if stage.type in ("archive",) or case.paid_on else ["cancel"])


def _roles(spec: WorkflowSpec, stage: StageSpec | None, action: str) -> tuple[str, ...]:
    if action == "cancel":
        return spec.cancel_roles
    if action == FILING:
        return spec.filing_roles
    return stage.roles_for(action) if stage else ()


def _check_allowed(spec, stage, case: Case, actor: Actor, action: str) -> None:
    if case.status in FINAL_STATUSES or stage is None:
        raise InvalidTransition(f"该项目已{STATUSES[case.status]}，不能再办理")
    if action not in _offered(spec, stage, case):
        raise InvalidTransition(f"“{stage.label}”环节不能办理“{ACTION_LABELS.get(action, action)}”",
                                fields={"action": "当前环节不能办理此事项"})
    roles = _roles(spec, stage, action)
    if actor.role not in roles:
        who = "、".join(ROLE_LABELS[r] for r in roles) or "无人"
        raise InvalidTransition(f"“{ACTION_LABELS.get(action, action)}”由{who}办理",
                                fields={"action": "您的角色不能办理此事项"})


def _blockers(session, case: Case, spec: WorkflowSpec, stage: StageSpec, action: str,
              today: date, present: set[str], actor: Actor) -> WorkflowBlocked | None:
    """The rule that holds this action back now, or None; `present`: the case's documents."""
    missing = checks.missing_documents(stage, present) \
        if action in ("submit", "pass", "sign", "approve") else []
    if missing:
        return DocumentsMissing(reasons=[f"缺少{m}" for m in missing])
    if stage.type == "publicity" and action in STAGE_ACTIONS["publicity"]:
        return publicity.blockers(session, case, stage, action, today)
    if action == "record_reply" and not departments.awaited_from(session, case, actor):
        return WorkflowBlocked("没有待登记的部门核查结果", reasons=["没有待回复的部门核查"])
    if action == "conclude":
        pending = departments.unfinished(session, case)
        return DepartmentsPending(reasons=pending) if pending else None
    if action == "approve":
        reasons = checks.appraisal_problems(session, case, present)
        if reasons:
            return AppraisalRequired(reasons=reasons)
        if problem := policy_checks.approval_blocker(case):
            return problem
        return policy_checks.hard_problem(policy_checks.check(session, case, spec, "approval"))
    if action in ("urge", "defer"):
        return _start_rule_blockers(case, stage, action, today)
    if action == "accept":
        signed = [s for s in steps.since_entry(case) if s.action == "accept"]
        if stage.cosign and any(s.data.get("role") == actor.role for s in signed):
            return WorkflowBlocked("已会签",
                                   reasons=["您的角色已在本轮验收中签署，等待其他单位会签"])
        return checks.acceptance_blocker(session, case, stage, present)
    return None


def _start_rule_blockers(case: Case, stage: StageSpec, action: str, today: date):
    """003 §四(五)4(7): not started a month after the agreement, the village urges; still not
    started, the town may cancel this year's slot and move the household to next year."""
    limit = add_months(case.agreement_signed_on or case.stage_entered_on,
                       stage.start_within_months)
    if today <= limit.on:
        return WorkflowBlocked("协议签订未满期限", reasons=[
            f"协议签订后 {stage.start_within_months} 个月内（至 {limit.on}）仍可开工"])
    urged = any(s.action == "urge" for s in steps.since_entry(case))
    if action == "defer" and not urged:
        return WorkflowBlocked("尚未督促开工", reasons=["须先由村民委员会督促开工"])
    return None


def _due(case: Case, stage: StageSpec | None) -> Deadline | None:
    """The stage's due date; an estimate only where it counts working days the official
    calendar does not know yet (calendar days need no calendar)."""
    if case.due_on is None:
        return None
    working = stage is not None and (stage.working_days or stage.type == "departments")
    return Deadline(case.due_on, working and is_working_day(case.due_on)[1])
