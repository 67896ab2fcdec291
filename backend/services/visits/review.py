"""A supervisor's review of a visit: approve it, or return it to the inspector with a comment.

An approved completion visit (竣工验收) is evidence the acceptance action checks; approving it
does not accept the case by itself (backend/services/workflow/checks.py).
"""

from datetime import date

from backend.models import Visit
from backend.models.base import utc_now
from backend.services import audit, policy
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
    audit.record(session, actor, "review", "visit", visit.id,
                 {"review_state": [old, visit.review_state], "comment": comment})
    session.commit()
    return visit
