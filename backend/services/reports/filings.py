"""Reports sent up (报送): recorded per area, report and month, so the to-do list asks for a
report until it is filed and says when it is late (the county file's schedule)."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backend.models import Region, ReportFiling, User
from backend.services import audit
from backend.services.errors import Conflict, Forbidden, InvalidInput, OutsideScope
from backend.services.policy import Actor
from backend.services.reports.schedule import ReportDue, last_period
from backend.services.workflow.calendar import add_months
from backend.services.workflow.templates import county_workflow, spec_of

# Who sends a report up: the town to the county, the county to the city (004 §五(五)).
FILING_ROLES = ("town_reviewer", "county_admin")


@dataclass(frozen=True)
class DueReport:
    region: Region
    report: ReportDue
    period: date  # the month reported
    due_on: date
    filed: ReportFiling | None


def schedule_of(session, region: Region) -> tuple[ReportDue, ...]:
    county = region.code[:6] + "000000"
    return spec_of(county_workflow(session, county)).reports


def due_reports(session, actor: Actor, today: date) -> list[DueReport]:
    """The reports my area owes: last month's, filed or not, and every earlier month since the
    last one filed that never was (up to a year back), by their due date."""
    if actor.role not in FILING_ROLES:
        return []
    latest = last_period(today)
    user = session.get(User, actor.user_id)
    areas = [r for r in user.regions if r.level in ("county", "town")]
    filed = {(f.region_code, f.report, f.period): f for f in session.scalars(
        select(ReportFiling).where(ReportFiling.region_code.in_([r.code for r in areas]),
                                   ReportFiling.period >= f"{add_months(latest, -12).on:%Y-%m}"))}
    owed = []
    for area in areas:
        for report in schedule_of(session, area):
            done = [p for (code, name, p) in filed if (code, name) == (area.code, report.code)]
            period = add_months(date.fromisoformat(max(done) + "-01"), 1).on if done else latest
            for month in _months(min(period, latest), latest):
                owed.append(DueReport(area, report, month, report.due_on(month),
                                      filed.get((area.code, report.code, f"{month:%Y-%m}"))))
    return sorted(owed, key=lambda r: (r.due_on, r.region.code, r.report.code))


def _months(first: date, last: date) -> list[date]:
    months = [first]
    while months[-1] < last:
        months.append(add_months(months[-1], 1).on)
    return months


def file_report(session, actor: Actor, region_code: str, report: str, period: date,
                filed_on: date, today: date) -> ReportFiling:
    if actor.role not in FILING_ROLES:
        raise Forbidden("报表由乡镇审核员或县级管理员报送")
    region = session.get(Region, region_code)
    if region is None or not actor.covers(region.code) or region.level not in ("county",
                                                                               "town"):
        raise OutsideScope()
    if report not in {r.code for r in schedule_of(session, region)}:
        raise InvalidInput(fields={"report": "本县没有该报表的报送规定"})
    if not add_months(period, 1).on <= filed_on <= today:
        raise InvalidInput(fields={"filed_on": "报表须在月份结束后报送，且不晚于今天"})
    key = f"{period:%Y-%m}"
    if session.scalar(select(ReportFiling.id).where(ReportFiling.region_code == region.code,
                                                    ReportFiling.report == report,
                                                    ReportFiling.period == key)):
        raise Conflict("该月报表已登记报送")
    filing = ReportFiling(region_code=region.code, report=report, period=key,
                          filed_on=filed_on, filed_by=actor.user_id)
    session.add(filing)
    try:
        session.flush()
    except IntegrityError:  # the same filing recorded at the same moment by someone else
        session.rollback()
        raise Conflict("该月报表已登记报送") from None
    audit.record(session, actor, "file_report", "region", region.code,
                 {"report": report, "period": key})
    session.commit()
    return filing
