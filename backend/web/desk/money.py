"""Desk pages of the money trail: a case's approved subsidy (核定补助), its payments with their
vouchers and its recovery receipts, all from the case page's 补助资金 section; the county's
拨付 page (what is due and overdue across my area, money to recover, the county's funds per
level) and the payment ledger (台账) as XLSX.

The forms are checked by the API's own schemas, so one validation serves both."""

import hashlib
import uuid

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from marshmallow import ValidationError

from backend import responses
from backend.api.money import AllocationSchema, FundingSchema, LedgerArgsSchema, PaymentInputSchema
from backend.extensions import db, object_store
from backend.models import Case
from backend.services import attachments, policy, regions
from backend.services.errors import (
    DomainError,
    InvalidInput,
    PaymentConflict,
    status_of,
)
from backend.services.subsidies import funds, ledger, payments
from backend.services.subsidies.funding import set_funding
from backend.services.workflow.templates import workflow_of
from backend.web.desk.base import actor, notice_and_error, today, whole_number
from backend.web.desk.cases import case_page
from backend.web.desk.rounds import area_choices

bp = Blueprint("money", __name__)
# The name of each form field, for the messages of a refusal.
LABELS = {
    "central": "中央补助", "provincial": "省级补助", "below_provincial": "省级以下补助",
    "planned_area_m2": "计划建筑面积", "estimated_cost_yuan": "预算造价", "loan_yuan": "贷款",
    "own_funds_yuan": "自筹资金", "id": "拨付编号", "tranche": "款项", "fund_level": "资金级次",
    "amount_yuan": "金额", "paid_on": "日期", "voucher_id": "凭证", "voucher": "凭证",
    "payee_kind": "收款方", "payee_name": "收款人", "payee_account": "账号", "note": "备注",
    "county_code": "县", "year": "年度", "kind": "类别", "on": "日期",
    "document_no": "文号", "region": "区域", "batch_no": "拨付批次",
}
FUNDING_FIELDS = ("central", "provincial", "below_provincial", "planned_area_m2",
                  "estimated_cost_yuan", "loan_yuan", "own_funds_yuan")
PAYMENT_FIELDS = ("id", "tranche", "fund_level", "amount_yuan", "paid_on", "payee_kind",
                  "payee_name", "payee_account", "batch_no", "note")
# The voucher's id follows from the payment's and the file's: the same form sent twice stores
# one voucher and records one payment.
VOUCHERS = uuid.UUID("6f1d2b7e-58a4-4c1e-9d0b-3a6e2f9c8b41")


# --- one case ----------------------------------------------------------------------------
@bp.post("/cases/<int:case_id>/funding")
def funding(case_id: int):
    """核定补助: the subsidy by fund level, planned area, estimated cost, loan, own funds."""
    form = request.form
    try:
        given = _load(FundingSchema(), _filled(form, FUNDING_FIELDS))
        set_funding(db.session, actor(), case_id, given)
    except DomainError as error:
        return _refused(case_id, "funding", error, form)
    return redirect(url_for("desk.cases.case", case_id=case_id, notice="funded") + "#money",
                    303)


@bp.post("/cases/<int:case_id>/payments")
def pay(case_id: int):
    """One payment (or one receipt of money recovered) with its voucher, uploaded in the same
    form; the form's hidden UUID makes a second submission the same payment."""
    form = request.form
    tranche = form.get("tranche", "")
    recovering = tranche == "recovery"
    me = actor()
    try:
        case = policy.get_in_scope(db.session, Case, case_id, me)
        plan = workflow_of(db.session, case)[1].payments
        # Before reading the upload: a role that may not pay is told so at once.
        payments.require_recorder(me, plan, tranche)
        filename, data = _voucher()
        body = _filled(form, PAYMENT_FIELDS)
        body["voucher_id"] = str(uuid.uuid5(VOUCHERS, f"{body.get('id')}:"
                                             f"{hashlib.sha256(data).hexdigest()}"))
        given = _load(PaymentInputSchema(), body)
        # Every rule first: a refused payment leaves no voucher on the case (the archive counts
        # vouchers as 资金拨付凭证).
        payments.record_payment(db.session, me, case_id, given, today(), check_only=True)
        attachments.store_attachment(
            db.session, object_store(), me, given.voucher_id, data, case_id=case_id,
            kind="recovery_notice" if recovering else "payment_voucher", filename=filename,
            max_bytes=current_app.config["ATTACHMENT_MAX_BYTES"])
        _, created = payments.record_payment(db.session, me, case_id, given, today())
    except DomainError as error:
        return _refused(case_id, "recovery" if recovering else "payment", error, form)
    notice = ("recovered" if recovering else "paid") if created else "paid_again"
    return redirect(url_for("desk.cases.case", case_id=case_id, notice=notice) + "#money", 303)


def _voucher() -> tuple[str, bytes]:
    upload = request.files.get("voucher")
    if upload is None or not upload.filename:
        raise InvalidInput(fields={"voucher": "请上传拨付凭证（PDF、JPEG 或 PNG）"})
    data = upload.read()
    if len(data) > current_app.config["ATTACHMENT_MAX_BYTES"]:
        raise InvalidInput(fields={"voucher": f"{upload.filename} 超过大小限制"})
    attachments.document_type(data)  # 415 for anything but PDF, JPEG or PNG
    return upload.filename, data


def _refused(case_id: int, form_name: str, error: DomainError, form):
    db.session.rollback()
    if isinstance(error, PaymentConflict):  # the id is taken: the form gets a new one
        form = {k: v for k, v in form.items() if k != "id"}
    return case_page(case_id, failed={
        "action": form_name, "section": "money", "message": error.message,
        "reasons": error.details.get("reasons") or [], "fields": _worded(error.fields)},
        typed=form, status=status_of(error))


# --- across my area -----------------------------------------------------------------------
@bp.get("/payments")
def payments_page():
    return _payments_page(whole_number(request.args.get("year")))


def _payments_page(year: int | None, *, failed: DomainError | None = None, typed=None,
                   status: int = 200):
    """What is due across my area (overdue first), money to recover, the county's funds of a
    year per level, and the ledger's download form."""
    me = actor()
    year = year if year and 2000 <= year <= 2100 else today().year
    rows = funds.allocations(db.session, me, year)
    tree = regions.region_tree(db.session, me)
    return render_template(
        "review/payments.html", items=ledger.due_items(db.session, me, today()),
        recoveries=ledger.open_recoveries(db.session, me), year=year, allocations=rows,
        totals=funds.totals(rows), towns=area_choices(tree), counties=_counties(tree),
        can_fund=me.can(policy.FUNDS_WRITE), sees_pii=me.can(policy.PII), typed=typed or {},
        failed=failed and {"message": failed.message, "fields": _worded(failed.fields)},
        **notice_and_error()), status


def _counties(tree: list[dict]) -> list[dict]:
    found = []
    for node in tree:
        if node["level"] == "county":
            found.append(node)
        elif node["level"] in ("province", "prefecture"):
            found += _counties(node["children"])
    return found


@bp.post("/funds")
def allocate():
    """An entry of the county's funds: confirmed (已落实) or received by the county (已下达到县)."""
    form = request.form
    fields = ("county_code", "year", "fund_level", "kind", "amount_yuan", "on", "document_no",
              "note")
    year = whole_number(form.get("year"))
    try:
        given = _load(AllocationSchema(), _filled(form, fields))
        funds.record(db.session, actor(), funds.AllocationInput(**given), today())
    except DomainError as error:
        db.session.rollback()
        return _payments_page(year, failed=error, typed=form, status=status_of(error))
    return redirect(url_for("desk.money.payments_page", year=year, notice="allocated")
                    + "#funds", 303)


@bp.get("/payments/ledger.xlsx")
def ledger_download():
    """The year's payment ledger for my area or one town or village in it."""
    args = {k: v for k, v in request.args.items() if v}
    given = _load(LedgerArgsSchema(), args)
    name, data = ledger.ledger_workbook(db.session, actor(), given["year"], given["region"])
    return responses.download(data, name, responses.XLSX)


# --- forms ----------------------------------------------------------------------------------
def _filled(form, names) -> dict:
    """The form's fields as the API's body: blank ones left out (the schema's defaults)."""
    values = {name: form.get(name, "").strip() for name in names}
    return {k: v for k, v in values.items() if v}


def _load(schema, body: dict):
    try:
        return schema.load(body)
    except ValidationError as error:
        raise InvalidInput(fields={k: "；".join(v) if isinstance(v, list) else str(v)
                                   for k, v in error.messages.items()}) from error


def _worded(fields: dict) -> dict[str, str]:
    """A refusal's field messages, each with the field's name in front."""
    return {k: f"{LABELS[k]}：{v}" if k in LABELS else str(v) for k, v in fields.items()}
