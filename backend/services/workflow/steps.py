"""The record of the procedure: entering a stage (its dates and due date), writing a step (who,
when, note, attachments, audited), and the forward move most actions make."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from backend.models import Attachment, Case, CaseStep
from backend.services import audit
from backend.services.errors import InvalidInput
from backend.services.policy import Actor
from backend.services.workflow import departments
from backend.services.workflow.calendar import add_months, deadline
from backend.services.workflow.spec import WorkflowSpec


@dataclass(frozen=True)
class ActionInput:
    action: str
    note: str | None = None
    effective_on: date | None = None  # defaults to today (China)
    attachment_ids: list[str] = field(default_factory=list)
    report_phone: str | None = None  # post: the phone for reports (举报电话)
    notice_attachment_id: str | None = None  # post: the photographed notice
    objection_id: int | None = None
    reporter: str | None = None
    content: str | None = None
    outcome: str | None = None  # resolve_objection: upheld | dismissed
    department: str | None = None
    result: str | None = None  # record_reply: passed | problem
    rectify_by: date | None = None  # fail: the rectification deadline
    checks: list[str] = field(default_factory=list)  # pass: the review's confirmed checks
    # approve, accept: rule code → why a soft policy rule is exceeded (subsidies/checks.py)
    justifications: dict[str, str] = field(default_factory=dict)
    area_m2: Decimal | None = None  # accept: the built area (竣工验收表)
    cost_yuan: Decimal | None = None  # accept: the actual cost


# The date column each stage stamps on the case when it is entered.
STAGE_DATES = {
    "agreement_signed": "agreement_signed_on", "in_progress": "started_on",
    "completed": "completed_on", "town_accepted": "town_accepted_on",
    "accepted": "accepted_on", "paid": "paid_on", "archived": "archived_on",
}


def record(session, actor: Actor | None, case: Case, action: str, to_stage: str, on: date, *,
            note: str | None, attachments: list[str] = (), data: dict | None = None,
            outside_system: bool = False) -> None:
    step = CaseStep(case_id=case.id, stage=case.status, action=action, to_stage=to_stage,
                    effective_on=on, actor_id=actor.user_id if actor else None, note=note,
                    data=data or {}, attachment_ids=[a for a in attachments if a],
                    outside_system=outside_system)
    case.history.append(step)
    session.flush()
    audit.record(session, actor, action, "case", case.id,
                 {"stage": [step.stage, to_stage], "note": note})


def enter(session, case: Case, spec: WorkflowSpec, target: str, on: date, *,
          returning: bool = False) -> None:
    """Put the case at `target`: its date stamped the first time (works begun once stay
    begun after a failed acceptance), its due date from the stage's period. A case
    `returning` to a stage it has been past gets no date: one it lacks (its works begun
    outside this system) is not the day it came back."""
    case.status = target
    case.stage_entered_on = on
    if (column := STAGE_DATES.get(target)) and getattr(case, column) is None and not returning:
        setattr(case, column, on)
    stage = spec.stage(target)
    case.due_on = None
    if stage is None:
        return
    if stage.type == "departments":
        case.due_on = departments.open_checks(session, case, stage, on)
    elif stage.type == "payment":  # the plan's last tranche says when the money is due
        if days := spec.payments.last.due_days:
            case.due_on = on + timedelta(days=days)
    elif stage.type == "works_start":
        case.due_on = add_months(on, stage.start_within_months).on
    elif stage.due_days:
        case.due_on = deadline(on, stage.due_days, working=stage.working_days).on


def advance(session, actor, case, spec, stage, given: ActionInput, on: date) -> None:
    """The stage's forward action: record it and enter the next stage."""
    if given.action == "accept" and stage.cosign:
        signed = {s.data.get("role") for s in since_entry(case) if s.action == "accept"}
        signed.add(actor.role)
        if not set(stage.cosign) <= signed:
            record(session, actor, case, "accept", case.status, on, note=given.note,
                    attachments=given.attachment_ids, data={"role": actor.role})
            return
    target = spec.next_after(case.status)
    record(session, actor, case, given.action, target, on, note=given.note,
            attachments=given.attachment_ids, data={"role": actor.role})
    enter(session, case, spec, target, on)


def since_entry(case: Case) -> list[CaseStep]:
    """The steps taken at the current stage since the case last entered it."""
    steps = []
    for step in reversed(case.history):
        if step.to_stage == case.status and step.stage != case.status:
            break
        steps.append(step)
    return steps


def check_attachments(session, case: Case, given: ActionInput) -> None:
    ids = {*given.attachment_ids, given.notice_attachment_id} - {None}
    if not ids:
        return
    found = set(session.scalars(select(Attachment.id).where(Attachment.id.in_(ids),
                                                            Attachment.case_id == case.id)))
    if missing := ids - found:
        raise InvalidInput(fields={"attachment_ids": "附件不存在或不属于本项目：" +
                                   "、".join(sorted(missing))})
