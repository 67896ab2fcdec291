"""Survey-round pages: the rounds in my area, opening one, coverage, reasons, reassignment,
closing and the Excel export."""

from datetime import date, timedelta

from flask import Blueprint, redirect, render_template, request, url_for

from backend import responses
from backend.extensions import db
from backend.services import accounts, inputs, policy, regions, rounds
from backend.services.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    RoundNotClosable,
    status_of,
)
from backend.services.rounds import export as round_export
from backend.services.rounds.lifecycle import RoundSpec
from backend.services.rounds.progress import region_names, round_rows
from backend.vocabulary import AREA_ROUND_KINDS, OUTCOME_LABELS
from backend.web.desk.base import NOTICES, actor, describe, is_id, region_code, today

bp = Blueprint("rounds", __name__)


# --- the list and the form to open a round -----------------------------------------------
@bp.get("/rounds", endpoint="rounds")
def round_list():
    return _list_page(form=_default_form(), notice=NOTICES.get(request.args.get("notice")))


@bp.post("/rounds", endpoint="open_round")
def open_round():
    try:
        rnd = rounds.open_round(db.session, actor(), _spec_from(request.form))
    except InvalidInput as error:
        db.session.rollback()
        return _list_page(form=_kept_form(request.form), error=describe(error), status=422)
    return redirect(url_for("desk.rounds.round", round_id=rnd.id, notice="opened"), 303)


def _list_page(*, form: dict, notice: str | None = None, error: str | None = None,
               status: int = 200):
    me = actor()
    found = sorted(rounds.list_rounds(db.session, me), key=lambda r: r.status != "open")
    totals = rounds.totals_by_round(db.session, me, [r.id for r in found])
    manage = me.can(policy.ROUND_MANAGE)
    areas = area_choices(regions.region_tree(db.session, me)) if manage else []
    return render_template("review/rounds.html", rounds=found, totals=totals, manage=manage,
                           areas=areas, form=form, today=today(), notice=notice,
                           error=error, AREA_ROUND_KINDS=AREA_ROUND_KINDS), status


def _default_form() -> dict:
    day = today()
    quarter = (day.month - 1) // 3 + 1
    next_quarter = date(day.year + quarter // 4, quarter % 4 * 3 + 1, 1)
    return {"kind": "routine", "name": "", "period": f"{day.year}Q{quarter}", "cause": "",
            "starts_on": day.isoformat(),
            "due_on": (next_quarter - timedelta(days=1)).isoformat(),
            "area": [], "category": []}


def _kept_form(form) -> dict:
    kept = {key: form.get(key, "") for key in ("kind", "name", "period", "cause", "starts_on",
                                               "due_on")}
    return {**kept, "area": form.getlist("area"), "category": form.getlist("category")}


def _spec_from(form) -> RoundSpec:
    """Read the open-round form; every field problem is reported at once."""
    problems = {}
    kind = form.get("kind")
    if kind not in AREA_ROUND_KINDS:
        problems["kind"] = "请选择排查类型"
    name = form.get("name", "").strip()
    if not name or len(name) > 100:
        problems["name"] = "请填写轮次名称（不超过 100 字）"
    period = form.get("period", "").strip() or None
    cause = form.get("cause", "").strip() or None
    if kind == "routine" and (not period or len(period) > 20):
        problems["period"] = "常规排查须填写期次，如 2026Q4"
    if kind == "emergency" and (not cause or len(cause) > 500):
        problems["cause"] = "应急排查须填写起因（不超过 500 字），如暴雨、地震"
    starts_on, due_on = _date(form.get("starts_on")), _date(form.get("due_on"))
    if starts_on is None:
        problems["starts_on"] = "请填写开始日期"
    if due_on is None:
        problems["due_on"] = "请填写截止日期"
    for field, day in (("starts_on", starts_on), ("due_on", due_on)):
        if day is not None and (problem := inputs.date_problem(day)):
            problems[field] = problem
    if problems:
        raise InvalidInput(fields=problems)
    return RoundSpec(kind=kind, name=name, starts_on=starts_on, due_on=due_on,
                     area_codes=list(dict.fromkeys(form.getlist("area"))),
                     categories=list(dict.fromkeys(form.getlist("category"))),
                     period=period if kind == "routine" else None,
                     cause=cause if kind == "emergency" else None)


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        return None


def area_choices(tree: list[dict]) -> list[dict]:
    """Towns with their villages, from the region tree of my area."""
    towns, loose = [], []

    def walk(nodes):
        for node in nodes:
            if node["level"] == "town":
                towns.append({"code": node["code"], "name": node["name"], "villages": [
                    c for c in node["children"] if c["level"] == "village"]})
            elif node["level"] == "village":
                loose.append(node)
            else:
                walk(node["children"])

    walk(tree)
    if loose:
        towns.append({"code": None, "name": "村", "villages": loose})
    return towns



# --- one round: coverage, unvisited households, reasons, reassignment, export -----------
@bp.get("/rounds/<int:round_id>", endpoint="round")
def round_page(round_id: int):
    return _round_page(round_id, notice=NOTICES.get(request.args.get("notice")))


@bp.get("/rounds/<int:round_id>/households", endpoint="round_households")
def round_households(round_id: int):
    """The households behind a count of the coverage table (a village's 疑似危房, 新发现 …)."""
    outcome = request.args.get("outcome")
    outcome = outcome if outcome in OUTCOME_LABELS else None
    found = request.args.get("found") == "1"
    village = region_code(request.args.get("village"))
    rnd, rows = round_rows(db.session, actor(), round_id, village=village,
                                    outcome=outcome, found=found)
    return render_template("review/round_households.html", rnd=rnd, rows=rows,
                           outcome=outcome, found=found, village=village,
                           village_name=region_names(db.session, [village]).get(
                               village) if village else None)


@bp.post("/rounds/<int:round_id>/reasons", endpoint="round_reasons")
def round_reasons(round_id: int):
    """Save the reasons for unvisited households, or save them and close the round."""
    typed = {int(key[7:]): value for key, value in request.form.items()
             if key.startswith("reason-") and is_id(key[7:])}
    closing = request.form.get("op") == "close"
    try:
        if closing:
            rounds.close_round(db.session, actor(), round_id, typed,
                               default_reason=request.form.get("reason_all", "").strip() or None)
        else:
            rounds.record_reasons(db.session, actor(), round_id, typed)
    except RoundNotClosable as error:
        return _round_page(round_id, typed=typed, missing=set(error.details["unvisited"]),
                           error=f"{error.message}：请为标红的农户填写未排查原因后再结束本轮排查。",
                           status=409)
    except (InvalidInput, Conflict, Forbidden) as error:
        db.session.rollback()
        return _round_page(round_id, typed=typed, error=describe(error),
                           status=status_of(error))
    return redirect(url_for("desk.rounds.round", round_id=round_id,
                            notice="closed" if closing else "reasons"), 303)


@bp.post("/rounds/<int:round_id>/reassign", endpoint="round_reassign")
def round_reassign(round_id: int):
    chosen = [int(v) for v in request.form.getlist("household") if is_id(v)]
    typed_id = request.form.get("inspector_id", "")
    inspector_id = int(typed_id) if is_id(typed_id) else None
    try:
        if not chosen:
            raise InvalidInput(fields={"household_ids": "请先勾选要改派的农户"})
        if inspector_id is None:
            raise InvalidInput(fields={"inspector_id": "请选择检查员"})
        rounds.reassign(db.session, actor(), round_id, chosen, inspector_id)
    except (InvalidInput, Conflict) as error:  # Conflict: the round was closed meanwhile
        db.session.rollback()
        return _round_page(round_id, chosen=set(chosen), inspector_id=inspector_id,
                           error=describe(error), status=status_of(error))
    return redirect(url_for("desk.rounds.round", round_id=round_id, notice="moved"), 303)


@bp.get("/rounds/<int:round_id>/export.xlsx", endpoint="round_export")
def round_export_xlsx(round_id: int):
    name, data = round_export.workbook(db.session, actor(), round_id,
                                       base_url=request.host_url)
    return responses.download(data, name, responses.XLSX)


def _round_page(round_id: int, *, typed: dict | None = None, missing: set = frozenset(),
                chosen: set = frozenset(), inspector_id: int | None = None,
                notice: str | None = None, error: str | None = None, status: int = 200):
    me = actor()
    report = rounds.progress(db.session, me, round_id)
    rnd = report.round
    manage = me.can(policy.ROUND_MANAGE) and rnd.status == "open"
    inspectors = rounds.available_inspectors(db.session, me, rnd) if manage else []
    names = rounds.region_names(db.session, rnd.area_codes)
    users = accounts.users_by_id(db.session, {rnd.opened_by, rnd.closed_by})
    reasons = {u.household_id: u.skip_reason or "" for u in report.unvisited}
    if typed is not None:
        reasons.update({hid: text for hid, text in typed.items() if hid in reasons})
    return render_template(
        "review/round.html", p=report, r=rnd, manage=manage, inspectors=inspectors,
        area_names=[names.get(code, code) for code in rnd.area_codes], users=users,
        village_names={v.village_code: v.village_name for v in report.villages},
        reasons=reasons, missing=missing, chosen=chosen, inspector_id=inspector_id,
        can_close=manage and rounds.covers_round(me, rnd),
        overdue=rnd.status == "open" and rnd.due_on < today(), notice=notice,
        error=error), status
