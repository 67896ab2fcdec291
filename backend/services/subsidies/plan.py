"""A county's payment plan (拨付方式): in which parts (tranches) a case's approved subsidy is
paid, when each falls due, who records the payments, and whether the builder may be paid.

Read from the `payments` object of the county's workflow file. Pure Python.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from backend.vocabulary import ROLES, TRANCHES

# What must have happened to the case before a tranche may be paid: the case's date column.
AFTER = {"approved": None, "started": "started_on", "accepted": "accepted_on"}
AFTER_LABELS = {"approved": "批准后", "started": "开工后", "accepted": "验收合格后"}


@dataclass(frozen=True)
class Tranche:
    code: str
    after: str  # AFTER
    share: Decimal | None  # at most this share of the approved subsidy; None: the rest
    due_days: int | None  # calendar days after `after` to pay it; None: no deadline set
    source: str

    @property
    def label(self) -> str:
        return TRANCHES[self.code]


@dataclass(frozen=True)
class PaymentPlan:
    tranches: tuple[Tranche, ...]
    roles: tuple[str, ...]  # who records payments
    recovery_roles: tuple[str, ...]  # who records money brought back (追回)
    pay_builder: bool  # 统建: the builder may be paid with the household's signed consent
    source: str

    def recorders(self, tranche: str) -> tuple[str, ...]:
        return self.recovery_roles if tranche == "recovery" else self.roles

    def tranche(self, code: str) -> Tranche | None:
        return next((t for t in self.tranches if t.code == code), None)

    @property
    def last(self) -> Tranche:
        return self.tranches[-1]


# Until a county's file says otherwise: the whole subsidy after acceptance, by the county's
# finance bureau (004 §四(三) 县级财政直接将补助资金支付到危改户“一本通”账户).
DEFAULT = PaymentPlan(
    tranches=(Tranche("full", "accepted", None, None, "004 §四(三)"),),
    roles=("finance",), recovery_roles=("town_reviewer", "finance"), pay_builder=False,
    source="004 §四(三)")


def parse_plan(data, path: str, errors: list[str]) -> PaymentPlan:
    if data is None:
        return DEFAULT
    if not isinstance(data, dict) or not isinstance(data.get("tranches"), list) \
            or not data["tranches"]:
        errors.append(f"{path}: an object with a non-empty list of tranches")
        return DEFAULT
    tranches = []
    for i, item in enumerate(data["tranches"]):
        where = f"{path}.tranches[{i}]"
        if not isinstance(item, dict) or item.get("code") not in TRANCHES \
                or item["code"] == "recovery":
            errors.append(f"{where}: code is one of advance, balance, full")
            continue
        if item.get("after") not in AFTER:
            errors.append(f"{where}.after: one of {', '.join(AFTER)}")
            continue
        try:
            share = Decimal(str(item["share"])) if item.get("share") is not None else None
        except InvalidOperation:
            share = Decimal(-1)
        if share is not None and not (share.is_finite() and 0 < share < 1):
            errors.append(f"{where}.share: a fraction between 0 and 1")
        due = item.get("due_days")
        if due is not None and (not isinstance(due, int) or isinstance(due, bool)
                                or not 0 < due <= 366):
            errors.append(f"{where}.due_days: a whole number of days from 1 to 366")
        tranches.append(Tranche(item["code"], item["after"], share, due,
                                item.get("source", "")))
    if tranches and tranches[-1].share is not None:
        errors.append(f"{path}: the last tranche pays the rest (no share)")
    if len({t.code for t in tranches}) != len(tranches):
        errors.append(f"{path}: a tranche appears twice")
    roles = tuple(data.get("roles", ()))
    recovery_roles = tuple(data.get("recovery_roles", DEFAULT.recovery_roles))
    if not roles or any(r not in ROLES for r in (*roles, *recovery_roles)):
        errors.append(f"{path}.roles: a list of roles from {', '.join(ROLES)}")
    return PaymentPlan(tuple(tranches), roles, recovery_roles, bool(data.get("pay_builder")),
                       data.get("source", ""))
