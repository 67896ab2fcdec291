"""The money across an area: what is due and overdue (the county's 拨付 desk and the to-do
list), money to be recovered, and the payment ledger a finance officer reconciles (台账: one row
per payment, totals per fund level), through the shared XLSX writer.

Each function reads only inside the caller's area, in a constant number of queries."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from backend import display
from backend.models import Case, Household, Payment, Recovery, Region, User
from backend.models.region import code_range
from backend.services import policy, xlsx
from backend.services.errors import InvalidInput, OutsideScope
from backend.services.policy import Actor
from backend.services.subsidies.payments import Due, approved, dues, payments_of
from backend.services.subsidies.plan import PaymentPlan
from backend.services.workflow.templates import workflow_of
from backend.vocabulary import FINAL_STATUSES, FUND_LEVELS, PAYEE_KINDS, TRANCHES

# Stages where money may be owed: from approval until the case is archived.
NOT_OWED = (*FINAL_STATUSES, "paid")


@dataclass(frozen=True)
class DueItem:
    case: Case
    household: Household
    due: Due

    def overdue(self, today: date) -> bool:
        return self.due.overdue(today)


@dataclass
class CaseMoney:
    """One case's money: the approved split, the payments, what is due, what is recovered."""

    case: Case
    plan: PaymentPlan
    payments: list[Payment]
    dues: list[Due]
    recoveries: list[Recovery]
    approved: bool

    @property
    def paid_by_level(self) -> dict[str, Decimal]:
        return totals_by_level(self.payments)

    @property
    def paid_yuan(self) -> Decimal:
        return sum(self.paid_by_level.values(), Decimal("0.00"))


def case_money(session, actor: Actor, case_id: int) -> CaseMoney:
    case = policy.get_in_scope(session, Case, case_id, actor)
    _, spec = workflow_of(session, case)
    paid = payments_of(session, [case.id])[case.id]
    recoveries = list(session.scalars(select(Recovery).where(Recovery.case_id == case.id)
                                      .order_by(Recovery.id)))
    return CaseMoney(case, spec.payments, paid, dues(case, spec.payments, paid), recoveries,
                     approved(case, spec))


def due_items(session, actor: Actor, today: date, *, roles_of: str | None = None
              ) -> list[DueItem]:
    """Tranches that may be paid now and are not fully paid, overdue first then by due date.
    `roles_of`: only cases whose county lets this role record payments."""
    cases = session.scalars(policy.scoped(select(Case), actor, Case)
                            .where(Case.subsidy_yuan.is_not(None),
                                   Case.status.not_in(NOT_OWED))).all()
    paid = payments_of(session, [c.id for c in cases])
    items = []
    for case in cases:
        _, spec = workflow_of(session, case)
        if roles_of and roles_of not in spec.payments.roles:
            continue
        items += [DueItem(case, case.household, d)
                  for d in dues(case, spec.payments, paid[case.id])
                  if d.available_on and d.outstanding > 0]
    items.sort(key=lambda i: (not i.overdue(today), i.due.due_on or date.max,
                              i.household.name))
    return items


def open_recoveries(session, actor: Actor) -> list[tuple[Recovery, Household]]:
    return session.execute(policy.scoped(
        select(Recovery, Household).join(Case, Case.id == Recovery.case_id)
        .join(Household, Household.id == Case.household_id)
        .where(Recovery.closed_on.is_(None)), actor, Recovery)
        .order_by(Recovery.opened_on)).all()


# --- the ledger -----------------------------------------------------------------------------
HEADERS = ("拨付日期", "乡镇", "村", "户主", "身份证号", "项目编号", "改造年度", "改造方式",
           "款项", "资金级次", "金额（元）", "收款方", "收款人", "账号", "拨付批次", "凭证编号",
           "登记人", "备注")


def ledger_rows(session, actor: Actor, year: int, region: str | None) -> list[tuple]:
    """(payment, case, household, village, town, recorder) of the year's payments in the area,
    by date."""
    actor.require(policy.REPORT_READ)  # not a department's clerk, an inspector or a village
    if not 2000 <= year <= 2100:
        raise InvalidInput(fields={"year": "年度应在 2000—2100 之间"})
    stmt = policy.scoped(select(Payment), actor, Payment).where(
        Payment.paid_on.between(date(year, 1, 1), date(year, 12, 31)))
    if region:
        area = session.get(Region, region)
        if area is None or not actor.covers(region):
            raise OutsideScope()
        low, high = code_range(area.code, area.level)
        stmt = stmt.where(Payment.village_code.between(low, high))
    payments = session.scalars(stmt.order_by(Payment.paid_on, Payment.recorded_at)).all()
    case_ids = {p.case_id for p in payments}
    cases = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(case_ids)))}
    villages = {r.code: r for r in session.scalars(
        select(Region).where(Region.code.in_({p.village_code for p in payments})))}
    towns = {r.code: r for r in session.scalars(
        select(Region).where(Region.code.in_({v.parent_code for v in villages.values()})))}
    users = {u.id: u for u in session.scalars(
        select(User).where(User.id.in_({p.recorded_by for p in payments})))}
    return [(p, cases[p.case_id], cases[p.case_id].household, villages[p.village_code],
             towns.get(villages[p.village_code].parent_code), users.get(p.recorded_by))
            for p in payments]


def ledger_workbook(session, actor: Actor, year: int, region: str | None
                    ) -> tuple[str, bytes]:
    rows = ledger_rows(session, actor, year, region)
    body = [(p.paid_on, town.name if town else "", village.name, household.name,
             xlsx.IdNumber(household.id_number), case.id, case.year, case.method,
             TRANCHES[p.tranche], FUND_LEVELS[p.fund_level], p.amount_yuan,
             PAYEE_KINDS[p.payee_kind], p.payee_name,
             display.account(p.payee_account, actor) or "", p.batch_no or "", p.voucher_id,
             user.name if user else "", p.note or "")
            for p, case, household, village, town, user in rows]
    totals = totals_by_level([p for p, *_ in rows])
    summary = [(FUND_LEVELS[level], totals[level]) for level in FUND_LEVELS]
    summary.append(("合计", sum(totals.values(), Decimal("0.00"))))
    scope = region or "全部辖区"
    name = f"补助资金拨付台账_{year}_{scope}.xlsx"
    return name, xlsx.workbook([
        xlsx.Sheet(f"{year}年拨付台账", HEADERS, body),
        xlsx.Sheet("按资金级次合计", ("资金级次", "净拨付金额（元）"), summary),
    ], actor)


def totals_by_level(payments: list[Payment]) -> dict[str, Decimal]:
    totals = dict.fromkeys(FUND_LEVELS, Decimal("0.00"))
    for p in payments:
        totals[p.fund_level] += p.amount_yuan
    return totals
