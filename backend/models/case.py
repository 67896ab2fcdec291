"""Renovation cases (改造项目): the household's renovation in one year, at one stage of its
county's procedure; every action on it is a `CaseStep` (models/workflow.py)."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.extensions import db
from backend.models.base import UTCDateTime, utc_now
from backend.models.household import Appraisal, Household
from backend.models.workflow import CaseStep
from backend.vocabulary import STATUS_PHASES


class Case(db.Model):
    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("household_id", "year", name="uq_cases_household_year"),
        Index("ix_cases_village_status", "village_code", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    # Copied from the household so that area checks on cases need no join.
    village_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    year: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(20))
    build_mode: Mapped[str] = mapped_column(String(10))
    # The stage of the procedure; written only by the workflow engine's actions.
    status: Mapped[str] = mapped_column(String(20), default="application")
    workflow_id: Mapped[int | None] = mapped_column(ForeignKey("workflow_versions.id"))
    stage_entered_on: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)  # when the current stage should be done
    # The application (申请): applicant, family members, hardship, current house, reason,
    # requested method and standard, own funds (003 §四(一)).
    application: Mapped[dict] = mapped_column(JSON, default=dict)
    closed_reason: Mapped[str | None] = mapped_column(Text)  # rejected, cancelled, deferred
    appraisal_id: Mapped[int | None] = mapped_column(ForeignKey("appraisals.id"))
    agreement_signed_on: Mapped[date | None] = mapped_column(Date)
    planned_start_on: Mapped[date | None] = mapped_column(Date)
    planned_end_on: Mapped[date | None] = mapped_column(Date)
    started_on: Mapped[date | None] = mapped_column(Date)
    completed_on: Mapped[date | None] = mapped_column(Date)
    town_accepted_on: Mapped[date | None] = mapped_column(Date)
    accepted_on: Mapped[date | None] = mapped_column(Date)
    paid_on: Mapped[date | None] = mapped_column(Date)
    archived_on: Mapped[date | None] = mapped_column(Date)
    # The approved plan (核定), set before approval and fixed by it: the planned area and
    # cost the policy rules check, and the subsidy split by fund level (004 附件1 columns 21–26).
    planned_area_m2: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    estimated_cost_yuan: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    subsidy_central_yuan: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    subsidy_provincial_yuan: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    subsidy_below_yuan: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    subsidy_yuan: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # their sum
    # The rest of the total investment as 003 附件2 资金情况 has it: 贷款, 其它自筹.
    loan_yuan: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    own_funds_yuan: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    # As built, entered with the acceptance (竣工验收表): the policy rules check them again.
    area_after_m2: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    cost_yuan: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)

    household: Mapped[Household] = relationship(lazy="joined")
    appraisal: Mapped[Appraisal | None] = relationship(lazy="joined")
    history: Mapped[list[CaseStep]] = relationship(order_by=CaseStep.id, lazy="selectin")

    @property
    def subsidy_split(self) -> dict[str, Decimal | None]:
        """The approved subsidy by fund level (vocabulary.FUND_LEVELS)."""
        return {"central": self.subsidy_central_yuan, "provincial": self.subsidy_provincial_yuan,
                "below_provincial": self.subsidy_below_yuan}

    @property
    def total_investment_yuan(self) -> Decimal | None:
        """总投资 = 各级政府补助 + 农户危房改造贷款 + 农户其它自筹 (003 附件2)."""
        if self.subsidy_yuan is None:
            return None
        return self.subsidy_yuan + (self.loan_yuan or 0) + (self.own_funds_yuan or 0)

    @property
    def phase(self) -> str | None:
        return STATUS_PHASES[self.status]
