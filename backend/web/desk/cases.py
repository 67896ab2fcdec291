"""Desk pages of cases: the overview of my area, one case's evidence and its position plot,
its household's archive as a PDF, overdue work, and a supervisor's review of a visit
(approve, or return with a comment)."""

import uuid
from urllib.parse import urlencode

from flask import Blueprint, current_app, render_template, request

from backend import responses
from backend.extensions import db, object_store
from backend.models.base import utc_now
from backend.rules import current_rules
from backend.services import accounts, policy, visits
from backend.services.archive import pdf
from backend.services.cases import dossier, overview
from backend.services.cases.overdue import overdue_items
from backend.services.errors import Conflict, Forbidden, InvalidInput
from backend.services.subsidies import checks as policy_checks
from backend.services.subsidies import ledger
from backend.services.subsidies.plan import AFTER_LABELS
from backend.services.workflow import engine
from backend.vocabulary import FINAL_STATUSES, FLAG_LABELS, METHODS, STATUSES
from backend.web.desk import plots
from backend.web.desk.base import (
    actor,
    form_action,
    notice_and_error,
    redirect_back,
    region_code,
    safe_next,
    today,
    whole_number,
)

bp = Blueprint("cases", __name__)


@bp.get("/", endpoint="overview")
def overview_page():
    args = request.args
    filters = overview.OverviewFilters(
        town=region_code(args.get("town")), village=region_code(args.get("village")),
        status=args.get("status") if args.get("status") in STATUSES else None,
        method=args.get("method") if args.get("method") in METHODS else None,
        flag=args.get("flag") if args.get("flag") in (*FLAG_LABELS, "any") else None,
        returned=args.get("returned") == "1", overdue=args.get("overdue") == "1")
    page = max(1, whole_number(args.get("page"), 1))
    data = overview.overview(db.session, actor(), filters, current_rules().deadlines, today(),
                             limit=100, offset=(page - 1) * 100)
    query = {k: v for k, v in args.items() if v and k != "page"}
    return render_template("review/overview.html", data=data, filters=filters, page=page,
                           query=query, urlencode=urlencode)


@bp.get("/cases/<int:case_id>")
def case(case_id: int):
    return case_page(case_id)


def case_page(case_id: int, *, failed: dict | None = None, typed=None, status: int = 200):
    """The case's procedure (what to do now, why the rest waits), its money, its evidence and
    visits.

    `failed` is a refused form (an action, or the money section's when its `section` is
    "money"), shown at its form with what was typed.
    """
    me = actor()
    data = dossier.case_dossier(db.session, me, case_id)
    state = engine.workflow_state(db.session, me, case_id, today())
    money = ledger.case_money(db.session, me, case_id)
    people = {s.actor_id for s in state.history} | {o.recorded_by for o in state.objections} \
        | {p.recorded_by for p in money.payments}
    users = {**data.users, **accounts.users_by_id(db.session, people - set(data.users))}
    plot = plots.position_plot(data, **tile_settings())
    return render_template("review/case.html", r=data, plot=plot, wf=state, docs=state.documents,
                           can_upload=me.can(policy.ATTACHMENT_WRITE),
                           can_sign_appraisal=me.can(policy.APPRAISAL_WRITE),
                           can_file_appraisal=me.can(policy.APPRAISAL_FILE),
                           users=users, failed=failed, typed=typed or {},
                           **money_words(money, state, failed), **notice_and_error()), status


def money_words(money: ledger.CaseMoney, state: engine.WorkflowState,
                failed: dict | None) -> dict:
    """What the 补助资金 section and the approve/accept forms need: the policy check, the
    soft rules awaiting a written reason, which money forms my role gets, fresh payment ids."""
    me, case = actor(), money.case
    check = policy_checks.policy_check(db.session, me, case.id)
    # Reasons to write: soft rules exceeded now, and those a refused action named (an
    # acceptance checks the built house, whose numbers were rolled back with the refusal).
    justify = {r.rule.code: f"{r.rule.text}（{r.detail}）" for r in check.unjustified}
    for key, message in (failed or {}).get("fields", {}).items():
        if key.startswith("justifications."):
            justify[key.removeprefix("justifications.")] = message.removeprefix("请说明理由：")
    spec, ended = state.workflow, case.status in FINAL_STATUSES
    following = spec.stage(spec.next_after(case.status)) if state.stage else None
    payable = [d for d in money.dues if d.available_on is not None and d.outstanding > 0]
    return {
        "money": money, "check": check, "justify": justify, "payable": payable,
        "AFTER_LABELS": AFTER_LABELS,
        "releases_money": following is not None and following.type == "payment",
        "can_fund": me.can(policy.CASE_WRITE) and not ended
        and not (money.approved and case.subsidy_yuan is not None),
        "can_pay": me.role in money.plan.roles and bool(payable),
        "may_pay": me.role in money.plan.roles,
        "can_recover": me.role in money.plan.recovery_roles
        and any(r.closed_on is None for r in money.recoveries),
        "payment_id": str(uuid.uuid4()), "recovery_id": str(uuid.uuid4()),
    }


@bp.get("/cases/<int:case_id>/plot")
def case_plot(case_id: int):
    data = dossier.case_dossier(db.session, actor(), case_id)
    extent = whole_number(request.args.get("r"))
    plot = plots.position_plot(data, extent=extent, **tile_settings())
    return render_template("review/plot.html", r=data, plot=plot, zoom=extent)


@bp.get("/households/<int:household_id>/archive.pdf")
def archive_pdf(household_id: int):
    """The household's archive (the API's PDF), for its case of `?year=`."""
    name, data = pdf.household_pdf(db.session, object_store(), actor(), household_id,
                                   year=whole_number(request.args.get("year")), today=today(),
                                   now=utc_now())
    return responses.download(data, name, responses.PDF)


def tile_settings() -> dict:
    return {"tile_url": current_app.config.get("MAP_TILE_URL") or None,
            "tile_crs": current_app.config.get("MAP_TILE_CRS") or "WGS-84"}


@bp.get("/overdue")
def overdue():
    open_only = request.args.get("all") != "1"
    rules = current_rules().deadlines
    items = overdue_items(db.session, actor(), rules, today(), open_only=open_only)
    return render_template("review/overdue.html", items=items, open_only=open_only,
                           today=today(), rules=rules)


@bp.post("/visits/<visit_id>/review")
def review_visit(visit_id: str):
    decision = request.form.get("decision")
    if decision not in ("approve", "return"):
        return redirect_back(safe_next(request.form.get("next")), error="invalid")
    comment = request.form.get("comment", "").strip() or None
    return form_action(
        lambda: visits.review_visit(db.session, actor(), visit_id, decision, comment,
                                    today=today()),
        notice="approved" if decision == "approve" else "returned",
        error_code=lambda error: {InvalidInput: "comment_required", Conflict: "already_approved",
                                  Forbidden: "forbidden"}.get(type(error)),
        anchor=f"visit-{visit_id}")
