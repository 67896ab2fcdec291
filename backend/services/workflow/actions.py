"""The actions with rules of their own; every other action is the stage's forward move
(`steps.advance`)."""

from datetime import date

from backend.services.errors import InvalidInput
from backend.services.subsidies import checks as policy_checks
from backend.services.subsidies import payments
from backend.services.workflow import departments, publicity, steps
from backend.services.workflow.spec import FILING
from backend.services.workflow.steps import ActionInput


def exit_to(target: str):
    def handler(session, actor, case, spec, stage, given: ActionInput, on: date) -> None:
        publicity.end_open_notices(session, case, on)  # off the posted list with the case
        steps.record(session, actor, case, given.action, target, on, note=given.note,
                     attachments=given.attachment_ids)
        case.closed_reason = given.note
        steps.enter(session, case, spec, target, on)
        if target == "cancelled":  # the subsidy goes with the case; what was paid comes back
            payments.open_recovery(session, actor, case, on, given.note)
    return handler


def back_to_applicant(session, actor, case, spec, stage, given, on) -> None:
    """退回: the application goes back to the applicant with the written reason."""
    steps.record(session, actor, case, given.action, spec.first(), on, note=given.note,
                 attachments=given.attachment_ids)
    steps.enter(session, case, spec, spec.first(), on)


def record_reply(session, actor, case, spec, stage, given: ActionInput, on: date) -> None:
    departments.record_reply(session, actor, case, given, on)
    steps.record(session, actor, case, "record_reply", case.status, on, note=given.note,
                 attachments=given.attachment_ids,
                 data={"department": given.department, "result": given.result})


def urge(session, actor, case, spec, stage, given, on) -> None:
    steps.record(session, actor, case, "urge", case.status, on, note=given.note,
                 attachments=given.attachment_ids)


def file_(session, actor, case, spec, stage, given, on) -> None:
    steps.record(session, actor, case, FILING, case.status, on, note=given.note,
                 attachments=given.attachment_ids)


def fail(session, actor, case, spec, stage, given: ActionInput, on: date) -> None:
    """A failed acceptance returns the case to works with a rectification deadline."""
    if given.rectify_by is None or given.rectify_by <= on:
        raise InvalidInput(fields={"rectify_by": "请填写晚于今天的整改期限"})
    works = spec.works_stage()
    steps.record(session, actor, case, "fail", works, on, note=given.note,
                 attachments=given.attachment_ids, data={"rectify_by": str(given.rectify_by)})
    steps.enter(session, case, spec, works, on, returning=True)
    case.completed_on = case.town_accepted_on = None
    case.due_on = given.rectify_by


def pass_review(session, actor, case, spec, stage, given: ActionInput, on: date) -> None:
    """A review passes only with each of its checks confirmed (003 §四(三)); a check that does
    not hold is a reason to return or reject, not to pass."""
    unconfirmed = [label for code, label in stage.checks if code not in given.checks]
    if unconfirmed:
        raise InvalidInput("审核事项未全部核实",
                           fields={"checks": "未核实：" + "、".join(unconfirmed)})
    steps.advance(session, actor, case, spec, stage, given, on)
    if stage.checks:
        case.history[-1].data = {**case.history[-1].data, "checks": sorted(given.checks)}


def approve(session, actor, case, spec, stage, given: ActionInput, on: date) -> None:
    """审批 fixes the subsidy: the county's rules are checked on the plan first."""
    recorded = policy_checks.enforce(session, case, spec, "approval", given.justifications)
    steps.advance(session, actor, case, spec, stage, given, on)
    _note_policy(case, recorded)


def accept(session, actor, case, spec, stage, given: ActionInput, on: date) -> None:
    """验收 records the house as built; the acceptance that releases the money checks the
    county's rules again on the built area and the actual cost."""
    signed = [s for s in steps.since_entry(case) if s.action == "accept"]
    if signed and any(new is not None and new != old for new, old in (
            (given.area_m2, case.area_after_m2), (given.cost_yuan, case.cost_yuan))):
        # A co-signer signs the numbers the first signer recorded, or fails the acceptance.
        raise InvalidInput("会签须与首签的竣工面积、实际费用一致", fields={
            "area_m2": f"首签记录：{case.area_after_m2} m²，{case.cost_yuan} 元"})
    if given.area_m2 is not None:
        case.area_after_m2 = given.area_m2
    if given.cost_yuan is not None:
        case.cost_yuan = given.cost_yuan
    recorded = []
    following = spec.stage(spec.next_after(case.status))
    if following is not None and following.type == "payment":
        missing = {}
        if case.area_after_m2 is None:
            missing["area_m2"] = "请填写竣工建筑面积"
        if case.cost_yuan is None:
            missing["cost_yuan"] = "请填写实际改造费用"
        if missing:
            raise InvalidInput("验收须填写竣工面积和实际费用", fields=missing)
        recorded = policy_checks.enforce(session, case, spec, "acceptance",
                                         given.justifications)
    steps.advance(session, actor, case, spec, stage, given, on)
    _note_policy(case, recorded)


def _note_policy(case, recorded: list[dict]) -> None:
    step = case.history[-1]
    data = {**step.data}
    if recorded:
        data["policy"] = recorded
    if case.area_after_m2 is not None and step.action == "accept":
        data.update(area_m2=str(case.area_after_m2), cost_yuan=str(case.cost_yuan))
    step.data = data


# Actions with rules of their own; every other action is the stage's forward move.
HANDLERS = {
    "return": back_to_applicant, "reject": exit_to("rejected"), "cancel": exit_to("cancelled"),
    "defer": exit_to("deferred"), "post": publicity.post,
    "record_objection": publicity.record_objection,
    "resolve_objection": publicity.resolve_objection, "close": publicity.close,
    "record_reply": record_reply, "urge": urge, FILING: file_, "fail": fail,
    "pass": pass_review, "approve": approve, "accept": accept,
}
