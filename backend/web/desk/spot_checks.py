"""Desk page of random spot checks (随机抽查, 003 §七(三)): the county admin's form drawing a
sample; the past draws with their seed and population fingerprint; one draw's allocation per
town and sample, checked again from its seed on request; the sample's spreadsheet. Read by
the county admin and auditors (the nav shows the link only to them)."""

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from flask import Blueprint, redirect, render_template, request, url_for
from sqlalchemy import select

from backend import responses
from backend.extensions import db
from backend.models import Round, User
from backend.services import inputs, policy, regions, spot_checks
from backend.services.errors import DomainError, InvalidInput, status_of
from backend.services.rounds import region_names
from backend.services.spot_checks import export
from backend.services.spot_checks.draws import DAYS_TO_CHECK
from backend.web.desk.base import actor, describe, region_code, today

bp = Blueprint("spot_checks", __name__)
NOTICES = {"drawn": "已抽取样本并开启抽查轮次，随机种子已保存"}


@bp.get("/spot-checks", endpoint="spot_checks")
def list_page():
    return _page(None, form=_default_form())


@bp.get("/spot-checks/<int:check_id>", endpoint="spot_check")
def draw_page(check_id: int):
    return _page(check_id, form=_default_form(), verify=request.args.get("verify") == "1")


@bp.post("/spot-checks", endpoint="draw")
def draw():
    form = request.form
    try:
        check = spot_checks.draw(db.session, actor(), _spec_from(form), today())
    except DomainError as error:
        db.session.rollback()
        return _page(None, form={key: form.get(key, "") for key in _default_form()},
                     error=describe(error), status=status_of(error))
    return redirect(url_for("desk.spot_checks.spot_check", check_id=check.id,
                            notice="drawn"), 303)


@bp.get("/spot-checks/<int:check_id>/sample.xlsx", endpoint="sample")
def sample(check_id: int):
    name, data = export.workbook(db.session, actor(), check_id)
    return responses.download(data, name, responses.XLSX)


def _page(check_id: int | None, *, form: dict, verify: bool = False, error: str | None = None,
          status: int = 200):
    me = actor()
    draws = spot_checks.list_draws(db.session, me)
    check = spot_checks.get_draw(db.session, me, check_id) if check_id else None
    people = {d.drawn_by for d in draws}
    names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(people)))
                 .all()) if people else {}
    areas = _area_names(draws)
    may_draw = me.can(policy.SPOT_CHECK_DRAW)
    return render_template(
        "review/spot_checks.html", draws=draws, check=check, names=names, areas=areas,
        towns=spot_checks.town_shares(db.session, check) if check else [],
        rows=spot_checks.sample_rows(db.session, check) if check else [],
        round=db.session.get(Round, check.round_id) if check else None,
        verification=spot_checks.verify(db.session, me, check.id) if check and verify else None,
        may_draw=may_draw, choices=_choices(me) if may_draw else [], form=form,
        notice=NOTICES.get(request.args.get("notice")), error=error), status


def _area_names(draws) -> dict[str, str]:
    return region_names(db.session, sorted({d.area_code for d in draws}))


def _choices(me) -> list[dict]:
    """The counties and towns I may draw from, each county followed by its towns."""
    found = []

    def walk(nodes):
        for node in nodes:
            if node["level"] in ("county", "town"):
                found.append({"code": node["code"], "name": node["name"],
                              "town": node["level"] == "town"})
            walk(node["children"])

    walk(regions.region_tree(db.session, me))
    return found


def _default_form() -> dict:
    day = today()
    return {"area_code": "", "year": str(day.year), "purpose": "", "count": "", "percent": "",
            "due_on": (day + timedelta(days=DAYS_TO_CHECK)).isoformat()}


def _spec_from(form) -> spot_checks.DrawSpec:
    """Read the form; a number that is not one is refused with its field."""
    problems = {}
    area_code = region_code(form.get("area_code"))
    if area_code is None:
        problems["area_code"] = "请选择抽查范围"
    year = _integer(form.get("year"), 4)
    if year is None:
        problems["year"] = "请填写年度"
    count = _integer(form.get("count"), 5)
    if form.get("count", "").strip() and count is None:
        problems["count"] = "抽取户数应为整数"
    percent = None
    if form.get("percent", "").strip():
        try:
            percent = Decimal(form["percent"].strip())
        except InvalidOperation:
            problems["percent"] = "抽取比例应为数字"
        if percent is not None and not percent.is_finite():
            problems["percent"] = "抽取比例应为数字"
    due_on = None
    if form.get("due_on"):
        try:
            due_on = date.fromisoformat(form["due_on"])
        except ValueError:
            problems["due_on"] = "日期格式应为 YYYY-MM-DD"
        else:
            if problem := inputs.date_problem(due_on):
                problems["due_on"] = problem
    if problems:
        raise InvalidInput(fields=problems)
    return spot_checks.DrawSpec(area_code=area_code, year=year, purpose=form.get("purpose", ""),
                                count=count, percent=percent, due_on=due_on)


def _integer(text: str | None, digits: int) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= digits else None
