"""The county's subsidy funds per year and fund level: confirmed (已落实) and received by the
county (已下达到县), each entry dated with its document number so that any month's report can
sum them as of its last day (004 附件1 columns 19–23)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from backend.models import FundAllocation, Region
from backend.services import audit, policy
from backend.services.errors import InvalidInput, OutsideScope
from backend.services.policy import Actor
from backend.vocabulary import FUND_KINDS, FUND_LEVELS


@dataclass(frozen=True)
class AllocationInput:
    county_code: str
    year: int
    fund_level: str
    kind: str
    amount_yuan: Decimal
    on: date
    document_no: str | None = None
    note: str | None = None


def record(session, actor: Actor, given: AllocationInput, today: date) -> FundAllocation:
    actor.require(policy.FUNDS_WRITE)
    county = session.get(Region, given.county_code)
    if county is None or county.level != "county" or not actor.covers(county.code):
        raise OutsideScope()
    if given.on > today:
        raise InvalidInput(fields={"on": "日期不能晚于今天"})
    if not given.year - 1 <= given.on.year <= given.year + 1:
        raise InvalidInput(fields={"on": "日期应在该资金年度前后一年内"})
    row = FundAllocation(**given.__dict__, recorded_by=actor.user_id)
    session.add(row)
    session.flush()
    audit.record(session, actor, "fund_allocation", "fund_allocation", row.id,
                 {"amount_yuan": str(given.amount_yuan), "level": given.fund_level,
                  "kind": given.kind, "year": given.year})
    session.commit()
    return row


def allocations(session, actor: Actor, year: int) -> list[FundAllocation]:
    """The year's entries of the counties in the caller's area (a town sees its county's)."""
    rows = session.scalars(select(FundAllocation).where(FundAllocation.year == year)
                           .order_by(FundAllocation.on, FundAllocation.id)).all()
    return [r for r in rows if any(low[:6] <= r.county_code[:6] <= high[:6]
                                   for low, high in actor.ranges)]


def totals(rows: list[FundAllocation], *, as_of: date | None = None
           ) -> dict[str, dict[str, Decimal]]:
    """kind → level → sum, of the entries dated up to `as_of`."""
    result = {kind: dict.fromkeys(FUND_LEVELS, Decimal("0.00")) for kind in FUND_KINDS}
    for row in rows:
        if as_of is None or row.on <= as_of:
            result[row.kind][row.fund_level] += row.amount_yuan
    return result
