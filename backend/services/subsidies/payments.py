"""The money trail of one case: its approved subsidy, what is due and when, each payment with
its voucher, and money brought back when the subsidy is cancelled (追回).

Rules, each from the county's payment plan (`plan.py`) or the seeds:
- nothing is paid before the subsidy is approved, nor a tranche before the event it waits for;
- never more in total, at a fund level, or in a share tranche than approved (exact `Decimal`);
- a payment is idempotent by the client's UUID: the same request again is the same payment;
- the case reaches 补助已拨付 when its payments equal its approved subsidy, never by hand.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backend.models import Attachment, Case, Payment, Recovery
from backend.services import audit, policy
from backend.services.errors import (
    Forbidden,
    InvalidInput,
    InvalidTransition,
    OverPayment,
    PaymentConflict,
    PaymentNotDue,
)
from backend.services.locking import lock_case
from backend.services.policy import Actor
from backend.services.subsidies.plan import AFTER, AFTER_LABELS, PaymentPlan, Tranche
from backend.services.workflow import steps
from backend.services.workflow.steps import ActionInput
from backend.services.workflow.templates import workflow_of
from backend.vocabulary import EXIT_STATUSES, FUND_LEVELS, ROLE_LABELS, TRANCHES

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class PaymentInput:
    id: str  # the client's UUID
    tranche: str
    fund_level: str
    amount_yuan: Decimal  # positive; a recovery is stored as money coming back
    paid_on: date
    voucher_id: str
    payee_kind: str = "household"
    payee_name: str | None = None
    payee_account: str | None = None
    batch_no: str | None = None  # 拨付批次 (000 验收一批、拨付一批)
    note: str | None = None


@dataclass(frozen=True)
class Due:
    tranche: Tranche
    limit: Decimal  # the most this tranche may pay in all
    paid: Decimal
    available_on: date | None  # None: what it waits for has not happened
    due_on: date | None

    @property
    def outstanding(self) -> Decimal:
        return max(ZERO, self.limit - self.paid).quantize(CENT, ROUND_DOWN)

    def overdue(self, today: date) -> bool:
        return self.due_on is not None and self.outstanding > 0 and today > self.due_on


def approved(case: Case, spec) -> bool:
    """Approved in this system, or past approval when the case entered it (系统外办理)."""
    return any(s.action == "approve" for s in case.history) \
        or spec.comes_before("approval", case.status)


# --- what is paid and due ------------------------------------------------------------------
def payments_of(session, case_ids: list[int]) -> dict[int, list[Payment]]:
    found: dict[int, list[Payment]] = {i: [] for i in case_ids}
    if case_ids:
        for p in session.scalars(select(Payment).where(Payment.case_id.in_(case_ids))
                                 .order_by(Payment.paid_on, Payment.recorded_at)):
            found[p.case_id].append(p)
    return found


def paid_total(payments: list[Payment], *, level: str | None = None) -> Decimal:
    return sum((p.amount_yuan for p in payments if level is None or p.fund_level == level),
               ZERO)


def dues(case: Case, plan: PaymentPlan, payments: list[Payment]) -> list[Due]:
    """Each tranche of the plan: its limit, what it has paid, from when and by when it is due.
    Nothing is due on a subsidy not approved, or cancelled with its case. Once the rest may be
    paid it owes all that is left, an earlier share's unpaid part included (郯城: an advance
    not paid during the works), so that share owes nothing more."""
    if case.subsidy_yuan is None or case.status in EXIT_STATUSES:
        return []
    rest_payable = available_on(case, plan.last) is not None
    result = []
    for tranche in plan.tranches:
        paid = paid_total([p for p in payments if p.tranche == tranche.code])
        if tranche.share is not None:
            limit = paid if rest_payable else case.subsidy_yuan * tranche.share
        else:  # the rest: whatever the earlier tranches have not paid
            earlier_paid = paid_total([p for p in payments
                                       if p.tranche not in (tranche.code, "recovery")])
            limit = case.subsidy_yuan - earlier_paid
        since = available_on(case, tranche)
        due_on = since + timedelta(days=tranche.due_days) if since and tranche.due_days else None
        result.append(Due(tranche, limit, paid, since, due_on))
    return result


def completed_on(due: Due, payments: list[Payment]) -> date | None:
    """The day the tranche was paid in full, or None while some of it is outstanding."""
    if due.outstanding > 0:
        return None
    total = ZERO
    for p in sorted((p for p in payments if p.tranche == due.tranche.code),
                    key=lambda p: p.paid_on):
        total += p.amount_yuan
        if total >= due.limit.quantize(CENT, ROUND_DOWN):
            return p.paid_on
    return None


def available_on(case: Case, tranche: Tranche) -> date | None:
    if tranche.after == "approved":
        return next((s.effective_on for s in case.history if s.action == "approve"), None)
    return getattr(case, AFTER[tranche.after])


# --- recording -------------------------------------------------------------------------------
def record_payment(session, actor: Actor, case_id: int, given: PaymentInput, today: date,
                   *, check_only: bool = False) -> tuple[Payment | None, bool]:
    """Record one payment (or one receipt of money recovered); return it and whether it is new
    (False: the same request was made before). `check_only`: every rule but the voucher's, and
    nothing stored (a form checks before it stores the voucher it carries)."""
    case = lock_case(session, policy.get_in_scope(session, Case, case_id, actor))
    _, spec = workflow_of(session, case)
    plan = spec.payments
    require_recorder(actor, plan, given.tranche)
    existing = session.get(Payment, given.id)
    if existing is not None:
        if _same(existing, case, given):
            return existing, False
        raise PaymentConflict()
    recovering = given.tranche == "recovery"
    payments = payments_of(session, [case.id])[case.id]
    if recovering:
        recovery = _check_recovery(session, case, payments, given, today)
    else:
        recovery = None
        _check_payment(case, spec, payments, given, today)
    _check_payee(session, case, plan, given)
    if check_only:
        session.rollback()  # and the case's lock with it
        return None, True
    _check_voucher(session, case, given.voucher_id, recovering)
    payment = Payment(
        id=given.id, case_id=case.id, village_code=case.village_code, tranche=given.tranche,
        fund_level=given.fund_level,
        amount_yuan=-given.amount_yuan if recovering else given.amount_yuan,
        paid_on=given.paid_on, payee_kind=given.payee_kind,
        payee_name=given.payee_name or case.household.name,
        payee_account=given.payee_account, voucher_id=given.voucher_id,
        recovery_id=recovery.id if recovery else None, batch_no=given.batch_no,
        note=given.note,
        recorded_by=actor.user_id)
    session.add(payment)
    try:
        session.flush()
    except IntegrityError:  # the same id stored meanwhile by a request that did not wait
        case_id = case.id
        session.rollback()
        existing = session.get(Payment, given.id)
        if existing is not None and _same(existing, session.get(Case, case_id), given):
            return existing, False
        raise PaymentConflict() from None
    audit.record(session, actor, "recover" if recovering else "pay", "case", case.id,
                 {"payment": payment.id, "tranche": given.tranche,
                  "amount_yuan": str(given.amount_yuan), "fund_level": given.fund_level})
    if recovery is not None:
        recovery.recovered_yuan += given.amount_yuan
        if recovery.outstanding_yuan == 0:
            recovery.closed_on = given.paid_on
    elif paid_total([*payments, payment]) == case.subsidy_yuan:
        stage = spec.stage(case.status)
        if stage is not None and stage.type == "payment":  # paid in full: 补助已拨付
            steps.advance(session, actor, case, spec, stage,
                          ActionInput("pay", note="补助已按核定金额全部拨付"), given.paid_on)
    session.commit()
    return payment, True


def require_recorder(actor: Actor, plan: PaymentPlan, tranche: str) -> None:
    """Only the roles the county's plan names record its payments, or its recoveries."""
    roles = plan.recorders(tranche)
    if actor.role not in roles:
        who = "、".join(ROLE_LABELS[r] for r in roles)
        raise Forbidden(f"本县{TRANCHES.get(tranche, '拨付')}由{who}办理")


def _same(existing: Payment, case: Case, given: PaymentInput) -> bool:
    """The same request again: every field as first sent (a changed account, payee or note
    under the same id is another payment, not a retry)."""
    amount = -given.amount_yuan if given.tranche == "recovery" else given.amount_yuan
    # no payee name sent: the household's, as it was then (a later rename is no new payment)
    payee_name = given.payee_name or existing.payee_name
    return (existing.case_id, existing.tranche, existing.fund_level, existing.amount_yuan,
            existing.paid_on, existing.voucher_id, existing.payee_kind, existing.payee_name,
            existing.payee_account, existing.batch_no, existing.note) == (
        case.id, given.tranche, given.fund_level, amount, given.paid_on, given.voucher_id,
        given.payee_kind, payee_name, given.payee_account, given.batch_no, given.note)


def _check_payment(case: Case, spec, payments: list[Payment], given: PaymentInput,
                   today: date) -> None:
    plan = spec.payments
    if case.status in EXIT_STATUSES:
        raise InvalidTransition("该项目已结束，补助不再拨付")
    if not approved(case, spec) or case.subsidy_yuan is None:
        raise PaymentNotDue("补助尚未批准", reasons=["审批通过后才能拨付补助"])
    tranche = plan.tranche(given.tranche)
    if tranche is None:
        names = "、".join(t.label for t in plan.tranches)
        raise InvalidInput(fields={"tranche": f"本县的拨付方式为：{names}"})
    since = available_on(case, tranche)
    if since is None:
        raise PaymentNotDue(reasons=[f"{tranche.label}须在{AFTER_LABELS[tranche.after]}拨付"
                                     f"（{tranche.source}）"])
    if not since <= given.paid_on <= today:
        raise InvalidInput(fields={"paid_on": f"拨付日期应在 {since} 至今天之间"})
    level_limit = case.subsidy_split[given.fund_level] or ZERO
    due = next(d for d in dues(case, plan, payments) if d.tranche.code == tranche.code)
    limit = due.limit
    if tranche.share is not None:  # a share is paid before the rest is due, never after
        rest_on = available_on(case, plan.last)
        if rest_on is not None and given.paid_on >= rest_on:
            raise PaymentNotDue(reasons=[f"{plan.last.label}自 {rest_on} 起可拨付，请按"
                                         f"{plan.last.label}登记（{plan.last.source}）"])
        limit = case.subsidy_yuan * tranche.share
    problems = []
    if paid_total(payments) + given.amount_yuan > case.subsidy_yuan:
        problems.append(f"累计拨付将超过核定补助 {case.subsidy_yuan} 元")
    if paid_total(payments, level=given.fund_level) + given.amount_yuan > level_limit:
        problems.append(f"{FUND_LEVELS[given.fund_level]}资金累计将超过核定的 {level_limit} 元")
    if due.paid + given.amount_yuan > limit:
        share = f"（核定补助的 {tranche.share * 100:g}%）" if tranche.share else ""
        problems.append(f"{tranche.label}最多 {limit.quantize(CENT, ROUND_DOWN)} 元"
                        f"{share}，已拨 {due.paid} 元（{tranche.source}）")
    if problems:
        raise OverPayment(reasons=problems)


def _check_recovery(session, case: Case, payments: list[Payment],
                    given: PaymentInput, today: date) -> Recovery:
    recovery = session.scalar(select(Recovery).where(Recovery.case_id == case.id,
                                                     Recovery.closed_on.is_(None)))
    if recovery is None:
        raise PaymentNotDue("没有待追回的款项", reasons=["该项目没有待追回的款项"])
    if given.amount_yuan > recovery.outstanding_yuan:
        raise OverPayment(reasons=[f"待追回 {recovery.outstanding_yuan} 元"])
    if given.amount_yuan > paid_total(payments, level=given.fund_level):
        raise OverPayment(reasons=[f"{FUND_LEVELS[given.fund_level]}资金净拨付不足此数"])
    if not recovery.opened_on <= given.paid_on <= today:
        raise InvalidInput(fields={"paid_on": f"追回日期应在 {recovery.opened_on} 至今天之间"})
    return recovery


def _check_payee(session, case: Case, plan: PaymentPlan, given: PaymentInput) -> None:
    if given.tranche == "recovery":
        return
    if given.payee_kind == "household":
        if not given.payee_account:
            raise InvalidInput(fields={"payee_account": "请填写农户“一本通”账号"})
        return
    # 004 §四(三): paying the builder needs 统建 and the household's signed consent.
    if not plan.pay_builder or case.build_mode != "统建":
        raise InvalidInput(fields={"payee_kind": "本县仅统建项目可支付给施工单位"})
    if not given.payee_name:
        raise InvalidInput(fields={"payee_name": "请填写施工单位名称"})
    consent = session.scalar(select(Attachment.id).where(Attachment.case_id == case.id,
                                                         Attachment.kind == "payee_consent"))
    if consent is None:
        raise PaymentNotDue(reasons=["支付给施工单位须先上传农户同意支付施工单位协议"
                                     "（004 §四(三)）"])


def _check_voucher(session, case: Case, voucher_id: str, recovering: bool) -> None:
    voucher = session.get(Attachment, voucher_id)
    kinds = ("payment_voucher", "recovery_notice") if recovering else ("payment_voucher",)
    if voucher is None or voucher.case_id != case.id or voucher.kind not in kinds:
        raise InvalidInput(fields={"voucher_id": "拨付凭证不存在、不属于本项目或不是拨付凭证"})


def open_recovery(session, actor: Actor | None, case: Case, on: date, reason: str
                  ) -> Recovery | None:
    """The subsidy of a case cancelled after money was paid: what was paid must come back
    (003 §七(二)2 整改不到位的取消其补助资金，已拨付的款项由乡镇府负责追回)."""
    net = paid_total(payments_of(session, [case.id])[case.id])
    if net <= 0:
        return None
    recovery = Recovery(case_id=case.id, village_code=case.village_code, amount_yuan=net,
                        recovered_yuan=ZERO, reason=reason, opened_on=on,
                        opened_by=actor.user_id if actor else None)
    session.add(recovery)
    session.flush()
    audit.record(session, actor, "recovery_opened", "case", case.id,
                 {"amount_yuan": str(net)})
    return recovery
