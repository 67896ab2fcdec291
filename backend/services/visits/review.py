"""A supervisor's review of a visit: approve it, or return it to the inspector with a comment;
and the resubmission loop: a visit may answer a returned one, and approving the answer
resolves that return.

An approved completion visit (竣工验收) is evidence the acceptance action checks; approving it
does not accept the case by itself (backend/services/workflow/checks.py).
"""

from datetime import date

from backend.models import Visit
from backend.models.base import utc_now
from backend.services import audit, policy
from backend.services.errors import Conflict, InvalidAnswer, InvalidInput
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
    audit.record(session, actor, "review", "visit", visit.id,
                 {"review_state": [old, visit.review_state], "comment": comment})
    if visit.review_state == "approved" and visit.answers_visit_id:
        _resolve(session, actor, visit)
    session.commit()
    return visit


def check_answer(session, household_id: int, answers_visit_id: str | None) -> str | None:
    """The returned visit a resubmission answers: it must be a returned visit of the same
    household (else `invalid_answer`)."""
    if answers_visit_id is None:
        return None
    answered = session.get(Visit, answers_visit_id)
    if answered is None or answered.household_id != household_id:
        raise InvalidAnswer(fields={"answers_visit_id": "不是该农户的检查记录"})
    if answered.review_state != "returned":
        raise InvalidAnswer(fields={"answers_visit_id": "该检查记录未被退回"})
    return answered.id


def _resolve(session, actor: Actor, answer: Visit) -> None:
    """The approved answer resolves the return it answers; the return's own review stays."""
    answered = session.get(Visit, answer.answers_visit_id)
    if answered is None or answered.resolved_by_visit_id is not None:
        return
    answered.resolved_by_visit_id = answer.id
    answered.resolved_at = answer.reviewed_at
    audit.record(session, actor, "resolve", "visit", answered.id, {"answer": answer.id})
