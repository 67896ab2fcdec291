"""公示: a notice posted for at least the county's minimum days with a phone to report to; each
objection is its own dated record with an outcome; the notice cannot end while one is open
(003 §四(二)(三))."""

from datetime import date

from sqlalchemy import select

from backend.models import Case, Household, Objection, Publicity
from backend.services import policy
from backend.services.errors import (
    InvalidInput,
    ObjectionOpen,
    PublicityPeriodNotOver,
    WorkflowBlocked,
)
from backend.services.workflow.calendar import add_days
from backend.services.workflow.spec import StageSpec
from backend.services.workflow.steps import ActionInput, advance, enter, record


def blockers(session, case: Case, stage: StageSpec, action: str, today: date):
    notice = current_publicity(session, case, stage)
    if action == "post":
        return WorkflowBlocked("已张榜公示", reasons=[
            f"已于 {notice.posted_on} 张榜公示"]) if notice else None
    if notice is None:
        return WorkflowBlocked("尚未张榜公示", reasons=["请先张榜公示"])
    open_ones = [o for o in objections_of(session, notice) if o.status == "open"]
    if action == "resolve_objection" and not open_ones:
        return WorkflowBlocked("没有待处理的异议", reasons=["没有待处理的异议"])
    if action != "close":
        return None
    if today < notice.earliest_end_on:
        # 003 §四(二)(三): 公示期限不得少于七日 — posted on D, it closes on D+7 at the earliest.
        return PublicityPeriodNotOver(
            f"公示期未满，{notice.earliest_end_on} 起方可结束",
            reasons=[f"公示于 {notice.posted_on} 张榜，不少于 {stage.min_days} 日，"
                     f"{notice.earliest_end_on} 起方可结束"])
    if open_ones:
        return ObjectionOpen(reasons=[f"{o.received_on} 收到的异议（{o.content[:30]}）尚未处理"
                                      for o in open_ones])
    return None


def post(session, actor, case, spec, stage, given: ActionInput, on: date) -> None:
    if not (given.report_phone or "").strip():
        raise InvalidInput(fields={"report_phone": "请填写举报电话"})
    if not given.notice_attachment_id:
        raise InvalidInput(fields={"notice_attachment_id": "请上传张榜公示的照片"})
    end = add_days(on, stage.min_days)
    session.add(Publicity(case_id=case.id, stage=case.status, posted_on=on,
                          earliest_end_on=end.on, report_phone=given.report_phone.strip(),
                          notice_attachment_id=given.notice_attachment_id,
                          posted_by=actor.user_id))
    record(session, actor, case, "post", case.status, on, note=given.note,
            attachments=[given.notice_attachment_id, *given.attachment_ids],
            data={"report_phone": given.report_phone.strip(), "earliest_end_on": str(end.on)})


def record_objection(session, actor, case, spec, stage, given: ActionInput, on: date) -> None:
    if not (given.content or "").strip():
        raise InvalidInput(fields={"content": "请填写异议内容"})
    notice = current_publicity(session, case, stage)
    if on < notice.posted_on:
        raise InvalidInput(fields={"effective_on": "异议收到日期早于张榜日期"})
    objection = Objection(case_id=case.id, publicity_id=notice.id, received_on=on,
                          reporter=(given.reporter or "").strip() or None,
                          content=given.content.strip(), attachment_ids=given.attachment_ids,
                          recorded_by=actor.user_id)
    session.add(objection)
    session.flush()
    record(session, actor, case, "record_objection", case.status, on, note=given.content,
            attachments=given.attachment_ids, data={"objection_id": objection.id})


def resolve_objection(session, actor, case, spec, stage, given: ActionInput, on: date) -> None:
    """Upheld: the application returns to the applicant with the written reason; dismissed: the
    reporter is told in writing (003 §四(二))."""
    notice = current_publicity(session, case, stage)
    objection = session.get(Objection, given.objection_id) if given.objection_id else None
    if objection is None or objection.publicity_id != notice.id or objection.status != "open":
        raise InvalidInput(fields={"objection_id": "请选择本次公示中待处理的异议"})
    if on < objection.received_on:
        raise InvalidInput(fields={"effective_on": "处理日期早于收到异议的日期"})
    if given.outcome not in ("upheld", "dismissed"):
        raise InvalidInput(fields={"outcome": "应为 upheld（异议成立）或 dismissed（异议不成立）"})
    objection.status, objection.outcome_note = given.outcome, given.note
    objection.resolved_on, objection.resolved_by = on, actor.user_id
    target = returned_to(spec, stage) if given.outcome == "upheld" else case.status
    record(session, actor, case, "resolve_objection", target, on, note=given.note,
            attachments=given.attachment_ids,
            data={"objection_id": objection.id, "outcome": given.outcome})
    if given.outcome == "upheld":
        notice.ended_on = on
        for other in objections_of(session, notice):  # answered by the same decision
            if other.status == "open":
                other.status, other.resolved_on, other.resolved_by = "upheld", on, actor.user_id
                other.outcome_note = (f"随同 {objection.received_on} 收到的异议一并成立："
                                      f"{given.note}")
        enter(session, case, spec, target, on)


def returned_to(spec, stage: StageSpec) -> str:
    """Where an upheld objection sends the application: at the village, back to the applicant;
    above it, back to the village committee (003 §四(二): 将材料退回…向申请家庭说明情况;
    §四(三): 将原材料退回所在村委会)."""
    if stage.code == "village_publicity" or spec.stage("village_review") is None:
        return spec.first()
    return "village_review"


def close(session, actor, case, spec, stage, given, on) -> None:
    current_publicity(session, case, stage).ended_on = on
    advance(session, actor, case, spec, stage, given, on)


def current_publicity(session, case: Case, stage: StageSpec) -> Publicity | None:
    """The notice of this stage posted since the case last entered it."""
    return session.scalar(select(Publicity).where(
        Publicity.case_id == case.id, Publicity.stage == stage.code,
        Publicity.ended_on.is_(None)).order_by(Publicity.id.desc()).limit(1))


def objections_of(session, notice: Publicity) -> list[Objection]:
    return list(session.scalars(select(Objection).where(Objection.publicity_id == notice.id)))


def posted_list(session, actor, stage: str) -> list[tuple[Case, Publicity]]:
    """The cases under publicity at this level in the caller's area, by village and name."""
    return list(session.execute(policy.scoped(
        select(Case, Publicity).join(Publicity, Publicity.case_id == Case.id)
        .join(Household, Household.id == Case.household_id)
        .where(Publicity.stage == stage, Publicity.ended_on.is_(None)), actor, Case)
        .order_by(Case.village_code, Household.name)).all())


def end_open_notices(session, case: Case, on: date) -> None:
    for notice in session.scalars(select(Publicity).where(Publicity.case_id == case.id,
                                                          Publicity.ended_on.is_(None))):
        notice.ended_on = on
