"""What a county is judged on (004 附件1/2, 000 一天一汇总、一周一通报): each town's annual task,
the weekly ranking of towns kept as it stood, and the reports filed on time."""

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db
from backend.models.base import UTCDateTime, utc_now


class AnnualTask(db.Model):
    """年度任务: how many households a town is to renovate this year, set by the county
    (003 §三, 八 五到乡镇)."""

    __tablename__ = "annual_tasks"
    __table_args__ = (UniqueConstraint("town_code", "year", name="uq_annual_tasks_town_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    town_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    households: Mapped[int] = mapped_column(Integer)
    set_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)


class RankingSnapshot(db.Model):
    """One week's ranking of a county's towns by 开工率 and 竣工率, stored so that consecutive
    weeks in the bottom three can be counted (000); fixed once the week is over."""

    __tablename__ = "ranking_snapshots"
    __table_args__ = (UniqueConstraint("county_code", "week_start",
                                       name="uq_ranking_snapshots_week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    county_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    week_start: Mapped[date] = mapped_column(Date)  # a Monday
    as_of: Mapped[date] = mapped_column(Date)  # the day the figures are counted to
    rows: Mapped[list] = mapped_column(JSON)  # one object per town, as ranked
    taken_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)


class ReportFiling(db.Model):
    """A periodic report sent up on paper or by the provincial system (报送), recorded so the
    to-do list stops asking for it: which report, for which period and area, when, by whom."""

    __tablename__ = "report_filings"
    __table_args__ = (UniqueConstraint("region_code", "report", "period",
                                       name="uq_report_filings_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    report: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(10))  # YYYY-MM
    filed_on: Mapped[date] = mapped_column(Date)
    filed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
