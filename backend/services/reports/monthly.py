"""The monthly progress forms exactly as the seed has them (004 附件1 农村危房改造进度报表,
附件2 既有房屋抗震改造进度报表): 27 numbered columns, one row per town and the county total.

As the forms' 填表说明 say: counts as of the month's last day (1); a household with several
identities counts once, under the first by priority — its `category` (2); column 19 is the
sum of the provincial, city and county funds confirmed (3). Households in 户, money in 万元.

Which cases count: the report year's cases (its annual task) that had started (开工) or been
completed (竣工) by the month's end and had not left the procedure by then; households that
are in none of the eight target groups are not in the form's columns. 完成投资总额 is the
total investment (003 附件2: subsidies, loans, own funds) of the cases completed by then.

A constant number of queries, whatever the number of towns or cases.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, case, func, or_, select

from backend.models import Case, FundAllocation, Household, Payment, Region, User
from backend.models.region import code_range
from backend.services import policy
from backend.services.errors import InvalidInput, OutsideScope
from backend.services.policy import Actor
from backend.services.workflow.calendar import add_months
from backend.vocabulary import EXIT_STATUSES, TARGET_CATEGORIES

FORMS = {"renovation": ("附件1", "农村危房改造进度报表"),
         "seismic": ("附件2", "既有房屋抗震改造进度报表")}
SEISMIC_METHODS = ("抗震改造",)
TEN_THOUSAND = Decimal(10000)
NIL = Decimal("0.00")
TOWN_DIGITS = 9


@dataclass
class MonthlyRow:
    """One line of the form: a town, or the county's total."""

    code: str
    name: str
    started: list[int] = field(default_factory=lambda: [0] * len(TARGET_CATEGORIES))
    completed: list[int] = field(default_factory=lambda: [0] * len(TARGET_CATEGORIES))
    # In yuan, summed exactly and shown in 万元 (`cells`); the county's funds (19–23) are the
    # county's, so only its total row has them
    confirmed_local: Decimal | None = None  # 19: 省 + 市 + 县
    confirmed_provincial: Decimal | None = None  # 20
    received: tuple[Decimal, Decimal, Decimal] | None = None  # 21–23: 中央, 省级, 省级以下
    paid: list[Decimal] = field(default_factory=lambda: [NIL] * 3)  # 24–26
    investment: Decimal = NIL  # 27

    def cells(self) -> list:
        """The 27 columns in the form's order."""
        money = (self.confirmed_local, self.confirmed_provincial,
                 *(self.received or (None, None, None)), *self.paid, self.investment)
        return [*self.started, sum(self.started), *self.completed, sum(self.completed),
                *(None if yuan is None else wan(yuan) for yuan in money)]


@dataclass
class MonthlyReport:
    form: str
    region: Region  # the county, or a town for a town's own report
    county: Region
    month: date  # its first day
    rows: list[MonthlyRow]  # one per town
    total: MonthlyRow | None  # the county's row, for a county's report

    @property
    def as_of(self) -> date:
        return month_end(self.month)

    @property
    def title(self) -> str:
        return f"{self.county.name} {self.month.year} 年 {self.month.month} 月" \
               f"{FORMS[self.form][1]}"


def month_end(first: date) -> date:
    return add_months(first, 1).on - timedelta(days=1)


def parse_month(text: str) -> date:
    try:
        year, month = (int(part) for part in text.split("-"))
        first = date(year, month, 1)
    except (ValueError, TypeError):
        raise InvalidInput(fields={"month": "月份格式应为 YYYY-MM"}) from None
    if not 2000 <= year <= 2100:
        raise InvalidInput(fields={"month": "月份应在 2000—2100 年之间"})
    return first


def monthly_report(session, actor: Actor, month: date, form: str,
                   region_code: str | None) -> MonthlyReport:
    actor.require(policy.REPORT_READ)
    if form not in FORMS:
        raise InvalidInput(fields={"form": "报表应为 renovation 或 seismic"})
    region = _region(session, actor, region_code)
    county = region if region.level == "county" else session.get(Region, region.parent_code)
    towns = session.scalars(select(Region).where(Region.parent_code == county.code,
                                                 Region.level == "town")
                            .order_by(Region.code)).all()
    if region.level == "town":
        towns = [t for t in towns if t.code == region.code]
    rows = {t.code[:TOWN_DIGITS]: MonthlyRow(t.code, t.name) for t in towns}
    end = month_end(month)
    low, high = code_range(region.code, region.level)
    _count_cases(session, rows, low, high, month.year, end, form)
    _sum_payments(session, rows, low, high, month.year, end, form)
    total = None
    if region.level == "county":
        total = MonthlyRow(county.code, f"{county.name}合计")
        for row in rows.values():
            for i in range(len(TARGET_CATEGORIES)):
                total.started[i] += row.started[i]
                total.completed[i] += row.completed[i]
            total.paid = [a + b for a, b in zip(total.paid, row.paid, strict=True)]
            total.investment += row.investment
        if form == "renovation":
            _county_funds(session, total, county.code, month.year, end)
    return MonthlyReport(form, region, county, month, list(rows.values()), total)


def _region(session, actor: Actor, code: str | None) -> Region:
    """The area reported on: the given county or town, else the caller's own (a county
    user's county, a town user's town)."""
    if code is None:
        own = sorted((r for r in session.get(User, actor.user_id).regions
                      if r.level in ("county", "town")), key=lambda r: (r.level != "county",
                                                                        r.code))
        if not own:
            raise InvalidInput(fields={"region": "请指定县或乡镇"})
        return own[0]
    region = session.get(Region, code)
    if region is None or not actor.covers(region.code):
        raise OutsideScope()
    if region.level not in ("county", "town"):
        raise InvalidInput(fields={"region": "报表按县或乡镇填报"})
    return region


def _method_filter(form: str):
    return Case.method.in_(SEISMIC_METHODS) if form == "seismic" \
        else Case.method.not_in(SEISMIC_METHODS)


def _in_procedure(end: date):
    """Not left the procedure by the month's end (a later cancellation leaves the month as
    it was reported)."""
    return or_(Case.status.not_in(EXIT_STATUSES), Case.stage_entered_on > end)


def _count_cases(session, rows: dict, low: str, high: str, year: int, end: date,
                 form: str) -> None:
    town = func.substr(Case.village_code, 1, TOWN_DIGITS)
    # A case entered late (系统外办理) carries only the dates of the stages it was placed at:
    # its earliest later date stands for the start or the completion it must have had.
    began = func.coalesce(Case.started_on, Case.completed_on, Case.town_accepted_on,
                          Case.accepted_on, Case.paid_on, Case.archived_on)
    finished = func.coalesce(Case.completed_on, Case.town_accepted_on, Case.accepted_on,
                             Case.paid_on, Case.archived_on)
    started = func.sum(case((began <= end, 1), else_=0))
    completed = func.sum(case((finished <= end, 1), else_=0))
    invested = func.sum(case((finished <= end,
                              func.coalesce(Case.subsidy_yuan, 0) + func.coalesce(Case.loan_yuan, 0)
                              + func.coalesce(Case.own_funds_yuan, 0)), else_=0))
    stmt = (select(town, Household.category, started, completed, invested)
            .join(Household, Household.id == Case.household_id)
            .where(Case.village_code.between(low, high), Case.year == year,
                   began <= end, _method_filter(form), _in_procedure(end))
            .group_by(town, Household.category))
    order = list(TARGET_CATEGORIES)
    for prefix, category, n_started, n_completed, money in session.execute(stmt):
        row = rows.get(prefix)
        if row is None:
            continue
        row.investment += Decimal(money or 0)
        if category in order:  # 一般农户 are not in the form's eight groups
            row.started[order.index(category)] += int(n_started or 0)
            row.completed[order.index(category)] += int(n_completed or 0)


def _sum_payments(session, rows: dict, low: str, high: str, year: int, end: date,
                  form: str) -> None:
    """24–26: paid by the county's finance per level, net of money recovered, by the month's
    end, on the year's cases."""
    town = func.substr(Payment.village_code, 1, TOWN_DIGITS)
    stmt = (select(town, Payment.fund_level, func.sum(Payment.amount_yuan))
            .join(Case, Case.id == Payment.case_id)
            .where(and_(Payment.village_code.between(low, high), Payment.paid_on <= end,
                        Case.year == year, _method_filter(form)))
            .group_by(town, Payment.fund_level))
    levels = ["central", "provincial", "below_provincial"]
    for prefix, level, amount in session.execute(stmt):
        if (row := rows.get(prefix)) is not None:
            row.paid[levels.index(level)] += Decimal(amount or 0)


def _county_funds(session, total: MonthlyRow, county: str, year: int, end: date) -> None:
    sums = {(kind, level): Decimal(0) for kind in ("confirmed", "received")
            for level in ("central", "provincial", "below_provincial")}
    for row in session.scalars(select(FundAllocation).where(
            FundAllocation.county_code == county, FundAllocation.year == year,
            FundAllocation.on <= end)):
        sums[row.kind, row.fund_level] += row.amount_yuan
    total.confirmed_provincial = sums["confirmed", "provincial"]
    total.confirmed_local = total.confirmed_provincial + sums["confirmed", "below_provincial"]
    total.received = tuple(sums["received", level]
                           for level in ("central", "provincial", "below_provincial"))


def wan(yuan: Decimal) -> Decimal:
    """Yuan as 万元 to four places (the yuan), rounded half up once, from exact yuan sums."""
    return (Decimal(yuan) / TEN_THOUSAND).quantize(Decimal("0.0001"), ROUND_HALF_UP)
