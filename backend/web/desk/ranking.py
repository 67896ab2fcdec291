"""Desk page of the towns' weekly ranking (000 武乡 一周一通报): the ranking as of a day with the
named towns, their weeks in a row and what follows; the last weeks' snapshots and the button
taking this week's; the spreadsheet; and the county admin's form setting every town's annual
task (003 §八 五到乡镇). Everyone in the county reads it: it is announced county-wide."""

from datetime import date

from flask import Blueprint, redirect, render_template, request, url_for
from sqlalchemy import select

from backend import responses
from backend.extensions import db
from backend.models import User
from backend.services import policy
from backend.services.errors import DomainError, InvalidInput, status_of
from backend.services.reports import ranking, ranking_export, tasks
from backend.vocabulary import NAMING_CONSEQUENCES
from backend.web.desk.base import actor, region_code, today

bp = Blueprint("ranking", __name__)
NOTICES = {"tasks": "已保存年度任务", "taken": "已生成本周排名", "retaken": "已重新生成本周排名"}
WEEKS_SHOWN = 6
TOWN_FIELD = "town_"


def _day(text: str | None) -> date:
    if not text:
        return today()
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise InvalidInput(fields={"date": "日期格式应为 YYYY-MM-DD"}) from error


def _year(text: str | None, default: int) -> int:
    year = int(text) if text and text.isascii() and text.isdigit() and len(text) == 4 else 0
    return year if tasks.FIRST_YEAR <= year <= tasks.LAST_YEAR else default


@bp.get("/ranking")
def ranking_page():
    return _page()


def _page(*, failed: DomainError | None = None, form: str | None = None, typed=None,
          status: int = 200):
    """The ranking as of `?date=` (today by default), the last weeks, the tasks of `?year=`."""
    me = actor()
    counties = tasks.counties_of(db.session, me)
    county = region_code(request.values.get("county")) or (counties[0].code if counties
                                                            else None)
    error = None
    try:
        result = ranking.ranking(db.session, me, county, _day(request.values.get("date")),
                                 today())
    except InvalidInput as refused:  # a mistyped day: today's ranking, and say why
        db.session.rollback()
        error, status = "；".join(refused.fields.values()) or refused.message, 422
        result = ranking.ranking(db.session, me, county, today(), today())
    county_code, county_name = result.county.code, result.county.name
    _, weeks = ranking.recent_weeks(db.session, me, county_code, WEEKS_SHOWN, today())
    year = _year(request.values.get("year"), result.year)
    _, towns = tasks.county_tasks(db.session, me, county_code, year)
    taker_ids = {w.taken_by for w in weeks if w.taken_by}
    takers = {u.id: u.name for u in db.session.scalars(
        select(User).where(User.id.in_(taker_ids)))} if taker_ids else {}
    return render_template(
        "review/ranking.html", result=result, county_code=county_code, counties=counties,
        county_name=county_name, weeks=weeks,
        this_week_taken=bool(weeks) and not weeks[0].closed,
        this_week=ranking.week_of(today()), towns=towns, task_year=year,
        total=sum(t.households or 0 for t in towns), takers=takers,
        can_set_task=me.can(policy.TASK_SET), can_snapshot=me.can(policy.RANKING_SNAPSHOT),
        NAMING_CONSEQUENCES=NAMING_CONSEQUENCES, unranked_note=ranking.unranked_note,
        notice=NOTICES.get(request.args.get("notice")), error=error, typed=typed or {},
        failed=failed and {"form": form, "message": failed.message,
                           "fields": list(failed.fields.values())}), status


@bp.post("/ranking/tasks")
def save_tasks():
    """Every town's annual task for a year, from one form (all saved or none)."""
    form = request.form
    year = _year(form.get("year"), 0)
    try:
        if not year:
            raise InvalidInput(fields={"year": f"年度应在 {tasks.FIRST_YEAR}—{tasks.LAST_YEAR} "
                                               "之间"})
        numbers = {}
        for name, value in form.items():
            value = value.strip()
            if name.startswith(TOWN_FIELD) and value:
                if not (value.isascii() and value.isdigit() and len(value) <= 6):
                    raise InvalidInput(fields={"households": f"户数应为 0—{tasks.MAX_HOUSEHOLDS}"
                                                              " 之间的整数"})
                numbers[name.removeprefix(TOWN_FIELD)] = int(value)
        tasks.set_tasks(db.session, actor(), year, numbers)
    except DomainError as error:
        db.session.rollback()
        return _page(failed=error, form="tasks", typed=form, status=status_of(error))
    return redirect(url_for("desk.ranking.ranking_page", county=form.get("county") or None,
                            year=year, notice="tasks") + "#tasks", 303)


@bp.post("/ranking/snapshots")
def take():
    """Take (or retake) this week's snapshot."""
    county = region_code(request.form.get("county"))
    try:
        _, created = ranking.take_snapshot(db.session, actor(), county, None, today())
    except DomainError as error:
        db.session.rollback()
        return _page(failed=error, form="snapshot", status=status_of(error))
    return redirect(url_for("desk.ranking.ranking_page", county=county,
                            notice="taken" if created else "retaken") + "#weeks", 303)


@bp.get("/ranking.xlsx")
def workbook():
    county = region_code(request.args.get("county"))
    name, data = ranking_export.ranking_workbook(db.session, actor(), county,
                                                 _day(request.args.get("date")), today())
    return responses.download(data, name, responses.XLSX)
