"""A supervisor's review of a visit: approve it, or return it to the inspector with a comment.

An approved completion visit (竣工验收) is what makes a completed case accepted.
"""

from datetime import date

from backend.models import Case, Visit
from backend.models.base import china_date, utc_now
from backend.services import audit, policy
from backend.services.cases.records import move_status
from backend.services.errors import Conflict, InvalidInput
from backend.services.policy import Actor


def review_visit(session, actor: Actor, visit_id: str, decision: str, comment: str | None,
                 *, today: date) -> Visit:
    """Approve a visit, or return it to the inspector with a comment."""
    actor.require(policy.VISIT_REVIEW)
    visit = policy.get_in_scope(session, Visit, visit_id, actor)
    if decision == "return" and not (comment or "").strip():
        raise InvalidInput(fields={"comment": "退回时须说明原因"})
    if visit.review_state == "approved":
        raise Conflict("该检查记录已通过审核", fields={"decision": "已通过的记录不能再审核"})
    old = visit.review_state
    visit.review_state = "approved" if decision == "approve" else "returned"
    visit.review_comment = comment
    visit.reviewed_by = actor.user_id
    visit.reviewed_at = utc_now()
    if visit.review_state == "approved" and visit.kind == "completion" and visit.case_id:
        case = session.get(Case, visit.case_id)
        if case.status == "completed":
            move_status(case, "accepted", effective_on=china_date(visit.ended_at),
                        by=actor.user_id, note=f"竣工验收通过（检查记录 {visit.id}）")
    audit.record(session, actor, "review", "visit", visit.id,
                 {"review_state": [old, visit.review_state], "comment": comment})
    session.commit()
    return visit
