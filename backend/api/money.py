"""Subsidies and the money trail: the approved plan of a case, its policy check, its payments
(idempotent by the client's UUID), money due across the area, the payment ledger, and the
county's funds per level. Money is written as text with two decimals ("12500.00")."""

from datetime import date
from decimal import ROUND_DOWN, Decimal

from flask.views import MethodView
from marshmallow import ValidationError, fields, post_load, validate

from backend import display, responses
from backend.api.base import BaseSchema, Text, api_blueprint, current_actor, today
from backend.extensions import db
from backend.services.subsidies import checks, funding, funds, ledger, payments
from backend.services.subsidies.plan import AFTER_LABELS
from backend.vocabulary import (
    FUND_KINDS,
    FUND_LEVELS,
    PAYEE_KINDS,
    POLICY_LEVELS,
    POLICY_RESULTS,
    RECOVERY_STATUSES,
    TRANCHES,
)

blp = api_blueprint("money", __name__)
PLAUSIBLE_FROM = date(2000, 1, 1)
MAX_YUAN = Decimal("10000000")  # ten million: far above any one household's subsidy


class Cents(fields.Decimal):
    """A number with at most two decimals (never rounded silently), within its bounds."""

    default_error_messages = {"special": "应为有限的数字"}
    precision_error = "最多两位小数"

    def __init__(self, minimum: Decimal, maximum: Decimal, **kwargs):
        self.bounds = validate.Range(minimum, maximum)
        super().__init__(as_string=True, validate=self.bounds, **kwargs)  # also documented

    def _validated(self, value):
        number = super()._validated(value)
        if number is None:
            return None
        # The bounds first: a huge number cannot be quantized (decimal.InvalidOperation).
        self.bounds(number)
        if number.as_tuple().exponent < -2:
            raise ValidationError(self.precision_error)
        return number.quantize(Decimal("0.01"))


class Yuan(Cents):
    """An amount in yuan."""

    precision_error = "金额最多两位小数"

    def __init__(self, *, minimum=Decimal("0.01"), **kwargs):
        super().__init__(minimum, MAX_YUAN, **kwargs)


class Area(Cents):
    """An area in m²: a rule's boundary (18.00 m² per person) is never reached by rounding."""

    precision_error = "面积最多两位小数"

    def __init__(self, **kwargs):
        super().__init__(Decimal("1"), Decimal("2000"), **kwargs)


class FundingSchema(BaseSchema):
    central = Yuan(required=True, minimum=Decimal(0))
    provincial = Yuan(required=True, minimum=Decimal(0))
    below_provincial = Yuan(required=True, minimum=Decimal(0))
    planned_area_m2 = Area(required=True)
    estimated_cost_yuan = Yuan(allow_none=True, load_default=None)
    loan_yuan = Yuan(allow_none=True, load_default=None, minimum=Decimal(0))
    own_funds_yuan = Yuan(allow_none=True, load_default=None, minimum=Decimal(0))

    @post_load
    def make(self, data, **_):
        return funding.FundingInput(**data)


class RuleResultSchema(BaseSchema):
    code = fields.Function(lambda r: r.rule.code)
    kind = fields.Function(lambda r: r.rule.kind)
    level = fields.Function(lambda r: r.rule.level)
    level_label = fields.Function(lambda r: POLICY_LEVELS[r.rule.level])
    text = fields.Function(lambda r: r.rule.text)
    source = fields.Function(lambda r: r.rule.source)
    result = fields.String()
    result_label = fields.Function(lambda r: POLICY_RESULTS[r.result])
    detail = fields.String()


class PolicyCheckSchema(BaseSchema):
    basis = fields.String(metadata={"description": "approval: the plan; acceptance: as built"})
    results = fields.List(fields.Nested(RuleResultSchema))
    justifications = fields.Dict(keys=fields.String(), values=fields.String())


class PaymentSchema(BaseSchema):
    id = fields.String()
    case_id = fields.Integer()
    tranche = fields.String()
    tranche_label = fields.Function(lambda p: TRANCHES[p.tranche])
    fund_level = fields.String()
    fund_level_label = fields.Function(lambda p: FUND_LEVELS[p.fund_level])
    amount_yuan = fields.Decimal(as_string=True)
    paid_on = fields.Date()
    payee_kind = fields.String()
    payee_kind_label = fields.Function(lambda p: PAYEE_KINDS[p.payee_kind])
    payee_name = fields.String()
    payee_account = fields.Function(lambda p: display.account(p.payee_account,
                                                               current_actor()))
    voucher_id = fields.String()
    recovery_id = fields.Integer(allow_none=True)
    batch_no = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    recorded_by = fields.Integer()
    recorded_at = fields.DateTime()


class PaymentInputSchema(BaseSchema):
    id = fields.UUID(required=True, metadata={"description": "the client's UUID: a retry of "
                                                             "the same payment is recognised"})
    tranche = fields.String(required=True, validate=validate.OneOf(list(TRANCHES)))
    fund_level = fields.String(required=True, validate=validate.OneOf(list(FUND_LEVELS)))
    amount_yuan = Yuan(required=True)
    paid_on = fields.Date(required=True, validate=validate.Range(PLAUSIBLE_FROM))
    voucher_id = fields.UUID(required=True)
    payee_kind = fields.String(load_default="household",
                               validate=validate.OneOf(list(PAYEE_KINDS)))
    payee_name = Text(allow_none=True, validate=validate.Length(1, 100))
    payee_account = fields.String(allow_none=True,
                                  validate=validate.Regexp(r"^[0-9]{6,32}\Z",
                                                           error="账号应为 6—32 位数字"))
    batch_no = Text(allow_none=True, validate=validate.Length(1, 60),
                    metadata={"description": "拨付批次: the batch document paying several "
                                             "accepted cases together"})
    note = Text(allow_none=True, validate=validate.Length(max=500))

    @post_load
    def make(self, data, **_):
        data["id"], data["voucher_id"] = str(data["id"]), str(data["voucher_id"])
        return payments.PaymentInput(**data)


class DueSchema(BaseSchema):
    tranche = fields.Function(lambda d: d.tranche.code)
    tranche_label = fields.Function(lambda d: d.tranche.label)
    after_label = fields.Function(lambda d: AFTER_LABELS[d.tranche.after])
    limit_yuan = fields.Function(lambda d: str(d.limit.quantize(Decimal("0.01"), ROUND_DOWN)))
    paid_yuan = fields.Decimal(attribute="paid", as_string=True)
    outstanding_yuan = fields.Decimal(attribute="outstanding", as_string=True)
    available_on = fields.Date(allow_none=True)
    due_on = fields.Date(allow_none=True)
    overdue = fields.Function(lambda d: d.overdue(today()))
    source = fields.Function(lambda d: d.tranche.source)


class RecoverySchema(BaseSchema):
    id = fields.Integer()
    case_id = fields.Integer()
    amount_yuan = fields.Decimal(as_string=True)
    recovered_yuan = fields.Decimal(as_string=True)
    outstanding_yuan = fields.Decimal(as_string=True)
    reason = fields.String()
    opened_on = fields.Date()
    closed_on = fields.Date(allow_none=True)
    status = fields.String()
    status_label = fields.Function(lambda r: RECOVERY_STATUSES[r.status])


def _split(case) -> dict:
    return {level: str(v) if v is not None else None for level, v in case.subsidy_split.items()}


class CaseMoneySchema(BaseSchema):
    case_id = fields.Function(lambda m: m.case.id)
    approved_yuan = fields.Function(lambda m: str(m.case.subsidy_yuan)
                                    if m.case.subsidy_yuan is not None else None)
    approved_by_level = fields.Function(lambda m: _split(m.case))
    approved = fields.Boolean()
    planned_area_m2 = fields.Decimal(attribute="case.planned_area_m2", as_string=True,
                                     allow_none=True)
    estimated_cost_yuan = fields.Decimal(attribute="case.estimated_cost_yuan", as_string=True,
                                         allow_none=True)
    loan_yuan = fields.Decimal(attribute="case.loan_yuan", as_string=True, allow_none=True)
    own_funds_yuan = fields.Decimal(attribute="case.own_funds_yuan", as_string=True,
                                    allow_none=True)
    total_investment_yuan = fields.Decimal(attribute="case.total_investment_yuan",
                                           as_string=True, allow_none=True)
    paid_yuan = fields.Decimal(as_string=True)
    paid_by_level = fields.Function(lambda m: {k: str(v) for k, v in m.paid_by_level.items()})
    dues = fields.List(fields.Nested(DueSchema))
    payments = fields.List(fields.Nested(PaymentSchema))
    recoveries = fields.List(fields.Nested(RecoverySchema))
    payment_roles = fields.Function(lambda m: list(m.plan.roles))


class DueItemSchema(BaseSchema):
    case_id = fields.Function(lambda i: i.case.id)
    household_name = fields.Function(lambda i: i.household.name)
    village_code = fields.Function(lambda i: i.case.village_code)
    due = fields.Nested(DueSchema)


class LedgerArgsSchema(BaseSchema):
    year = fields.Integer(required=True, validate=validate.Range(2000, 2100))
    region = fields.String(load_default=None, validate=validate.Regexp(r"^[0-9]{12}$"))


class YearArgsSchema(BaseSchema):
    year = fields.Integer(load_default=None, validate=validate.Range(2000, 2100),
                          metadata={"description": "default: this year"})


class AllocationSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    county_code = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{12}$"))
    year = fields.Integer(required=True, validate=validate.Range(2000, 2100))
    fund_level = fields.String(required=True, validate=validate.OneOf(list(FUND_LEVELS)))
    kind = fields.String(required=True, validate=validate.OneOf(list(FUND_KINDS)))
    amount_yuan = Yuan(required=True)
    on = fields.Date(required=True, validate=validate.Range(PLAUSIBLE_FROM))
    document_no = Text(allow_none=True, validate=validate.Length(max=100))
    note = Text(allow_none=True, validate=validate.Length(max=500))
    recorded_by = fields.Integer(dump_only=True)


class AllocationListSchema(BaseSchema):
    items = fields.List(fields.Nested(AllocationSchema))
    totals = fields.Dict()


@blp.route("/cases/<int:case_id>/funding")
class CaseFunding(MethodView):
    @blp.arguments(FundingSchema)
    @blp.response(200, CaseMoneySchema)
    def put(self, body, case_id):
        """Set the approved plan before approval: subsidy by fund level, planned area, cost,
        loan and own funds; 409 subsidy_locked once approved."""
        funding.set_funding(db.session, current_actor(), case_id, body)
        return ledger.case_money(db.session, current_actor(), case_id)


@blp.route("/cases/<int:case_id>/policy-check")
class CasePolicyCheck(MethodView):
    @blp.response(200, PolicyCheckSchema)
    def get(self, case_id):
        """Every policy rule of the case's county: passed, warned, failed or pending, with the
        numbers and the citation."""
        return checks.policy_check(db.session, current_actor(), case_id)


@blp.route("/cases/<int:case_id>/payments")
class CasePayments(MethodView):
    @blp.response(200, CaseMoneySchema)
    def get(self, case_id):
        """The case's approved subsidy, payments, what is due and when, and recoveries."""
        return ledger.case_money(db.session, current_actor(), case_id)

    @blp.arguments(PaymentInputSchema)
    @blp.response(201, PaymentSchema)
    @blp.alt_response(200, schema=PaymentSchema, description="the same payment, sent again")
    def post(self, body, case_id):
        """Record a payment (or money recovered: tranche `recovery`); idempotent by `id`."""
        payment, created = payments.record_payment(db.session, current_actor(), case_id, body,
                                                   today())
        return payment, 201 if created else 200


@blp.route("/payments/due")
class PaymentsDue(MethodView):
    @blp.response(200, DueItemSchema(many=True))
    def get(self):
        """Tranches payable now and not fully paid in my area, overdue first."""
        return ledger.due_items(db.session, current_actor(), today())


@blp.route("/payments/ledger.xlsx")
class PaymentLedger(MethodView):
    @blp.arguments(LedgerArgsSchema, location="query")
    @blp.response(200, description="XLSX: one row per payment, totals per fund level")
    def get(self, args):
        """The year's payment ledger (台账) for my area or one region in it."""
        name, data = ledger.ledger_workbook(db.session, current_actor(), args["year"],
                                            args["region"])
        return responses.download(data, name, responses.XLSX)


@blp.route("/funds")
class Funds(MethodView):
    @blp.arguments(YearArgsSchema, location="query")
    @blp.response(200, AllocationListSchema)
    def get(self, args):
        """The county's funds of the year per level: confirmed and received."""
        rows = funds.allocations(db.session, current_actor(), args["year"] or today().year)
        totals = funds.totals(rows)
        return {"items": rows, "totals": {kind: {level: str(v) for level, v in by.items()}
                                          for kind, by in totals.items()}}

    @blp.arguments(AllocationSchema)
    @blp.response(201, AllocationSchema)
    def post(self, body):
        """Record funds confirmed (已落实) or received by the county (已下达到县)."""
        return funds.record(db.session, current_actor(), funds.AllocationInput(**body), today())
