"""Desk page of the monthly progress forms (004 附件1/附件2): the month's table previewed as
the seed lays it out, its spreadsheet, and the reports my area owes with their filing."""

from datetime import date

from flask import Blueprint, redirect, render_template, request, url_for

from backend import responses
from backend.extensions import db
from backend.models import Region, User
from backend.services import policy
from backend.services.errors import DomainError, InvalidInput, status_of
from backend.services.reports import filings, forms, monthly
from backend.services.reports.schedule import MONTHLY_PROGRESS, last_period
from backend.web.desk.base import actor, notice_and_error, region_code, today

bp = Blueprint("reports", __name__)


def _choice() -> tuple[date, str, str | None]:
    month = request.args.get("month") or f"{last_period(today()):%Y-%m}"
    form = request.args.get("form") if request.args.get("form") in monthly.FORMS \
        else "renovation"
    return monthly.parse_month(month), form, region_code(request.args.get("region"))


@bp.get("/reports")
def monthly_page():
    me = actor()
    me.require(policy.REPORT_READ)
    try:
        month, form, region = _choice()
        report = monthly.monthly_report(db.session, me, month, form, region)
    except InvalidInput as error:
        return render_template("review/reports.html", report=None, error=error.message,
                               fields=error.fields, **_context(me)), status_of(error)
    return render_template("review/reports.html", report=report, header=forms.html_header(),
                           notes=forms.notes(_due(report.region)), **_context(me),
                           **notice_and_error())


@bp.get("/reports/monthly.xlsx")
def monthly_workbook():
    me = actor()
    month, form, region = _choice()
    report = monthly.monthly_report(db.session, me, month, form, region)
    name, data = forms.workbook(report, db.session.get(User, me.user_id), _due(report.region),
                                me)
    return responses.download(data, name, responses.XLSX)


@bp.post("/reports/filings")
def file_report():
    """登记已报送: a report of my area for a month has been sent up."""
    me = actor()
    form = request.form
    try:
        filings.file_report(db.session, me, form.get("region_code", ""),
                            form.get("report", ""), monthly.parse_month(form.get("period", "")),
                            today(), today())
    except DomainError as error:
        db.session.rollback()
        return render_template("review/reports.html", report=None, error=error.message,
                               fields=error.fields, **_context(me)), status_of(error)
    return redirect(url_for("desk.reports.monthly_page", notice="filed"), 303)


def _due(region: Region):
    return next((r for r in filings.schedule_of(db.session, region)
                 if r.code == MONTHLY_PROGRESS), None)


def _context(me) -> dict:
    user = db.session.get(User, me.user_id)
    areas = [r for r in user.regions if r.level in ("county", "town")]
    towns = [t for a in areas if a.level == "county" for t in db.session.query(Region)
             .filter(Region.parent_code == a.code, Region.level == "town")
             .order_by(Region.code)]
    return {"areas": areas + towns, "forms": monthly.FORMS,
            "owed": filings.due_reports(db.session, me, today()), "today_date": today(),
            "chosen": request.args}
