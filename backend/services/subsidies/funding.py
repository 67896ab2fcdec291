"""The approved plan of a case (核定补助): its subsidy by fund level, planned area, estimated
cost, loan and own funds, set before approval; after approval it only comes down, once the
works are done, to what the actual cost allows."""

from dataclasses import dataclass
from decimal import Decimal

from backend.models import Case
from backend.services import audit, policy
from backend.services.errors import InvalidInput, InvalidTransition, SubsidyLocked
from backend.services.locking import lock_case
from backend.services.policy import Actor
from backend.services.subsidies.payments import ZERO, approved, paid_total, payments_of
from backend.services.workflow.templates import workflow_of
from backend.vocabulary import FINAL_STATUSES, FUND_LEVELS


@dataclass(frozen=True)
class FundingInput:
    """The approved plan (核定): subsidy by fund level, planned area, estimated cost, and the
    household's loan and own funds (003 附件2 资金情况)."""

    central: Decimal
    provincial: Decimal
    below_provincial: Decimal
    planned_area_m2: Decimal
    estimated_cost_yuan: Decimal | None = None
    loan_yuan: Decimal | None = None
    own_funds_yuan: Decimal | None = None


def set_funding(session, actor: Actor, case_id: int, given: FundingInput) -> Case:
    actor.require(policy.CASE_WRITE)
    case = lock_case(session, policy.get_in_scope(session, Case, case_id, actor))
    if case.status in FINAL_STATUSES:
        raise InvalidTransition("该项目已结束，不能核定补助")
    _, spec = workflow_of(session, case)
    # Approval fixes the subsidy; a case approved outside the system has it entered once.
    reducing = approved(case, spec) and case.subsidy_yuan is not None
    if reducing:
        _check_reduction(session, case, given)
    values = {"subsidy_central_yuan": given.central, "subsidy_provincial_yuan": given.provincial,
              "subsidy_below_yuan": given.below_provincial,
              "subsidy_yuan": given.central + given.provincial + given.below_provincial,
              "planned_area_m2": given.planned_area_m2,
              "estimated_cost_yuan": given.estimated_cost_yuan,
              "loan_yuan": given.loan_yuan, "own_funds_yuan": given.own_funds_yuan}
    if values["subsidy_yuan"] <= 0:
        raise InvalidInput(fields={"central": "核定补助合计应大于 0"})
    changes = audit.diff(case, values)
    for key, value in values.items():
        setattr(case, key, value)
    audit.record(session, actor, "funding_reduced" if reducing else "funding", "case", case.id,
                 changes)
    session.commit()
    return case


def _check_reduction(session, case: Case, given: FundingInput) -> None:
    """After approval the subsidy only comes down, once the works are done and their actual
    cost is known (000 武乡: 按实际改造成本的80%给予补助; 004 §四(二) 实际改造费用不足一般补助
    标准的，按实际补助), never below what each fund level has already paid."""
    plan_kept = (given.planned_area_m2, given.estimated_cost_yuan, given.loan_yuan,
                 given.own_funds_yuan) == (case.planned_area_m2, case.estimated_cost_yuan,
                                           case.loan_yuan, case.own_funds_yuan)
    new = {"central": given.central, "provincial": given.provincial,
           "below_provincial": given.below_provincial}
    lower = all(new[level] <= (old or ZERO) for level, old in case.subsidy_split.items()) \
        and sum(new.values()) < case.subsidy_yuan
    if case.completed_on is None or not plan_kept or not lower:
        raise SubsidyLocked("补助已经批准；竣工后只能按实际造价核减各级补助，其余不能修改")
    paid = payments_of(session, [case.id])[case.id]
    short = [FUND_LEVELS[level] for level in new if new[level] < paid_total(paid, level=level)]
    if short:
        raise InvalidInput(fields={"central": f"核减后低于已拨付金额：{'、'.join(short)}"})
