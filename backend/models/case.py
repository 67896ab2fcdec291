"""Renovation cases (改造项目) and their dated status history."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.extensions import db
from backend.models.base import UTCDateTime, utc_now
from backend.models.household import Appraisal, Household
from backend.vocabulary import STATUS_PHASES

# Which status may follow which; derived steps (works started, accepted) come from visits later.
TRANSITIONS = {
    "planned": {"agreement_signed", "in_progress", "cancelled"},
    "agreement_signed": {"in_progress", "cancelled"},
    "in_progress": {"completed", "cancelled"},
    "completed": {"accepted", "in_progress"},
    "accepted": {"paid"},
    "paid": set(),
    "cancelled": set(),
}


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
    status: Mapped[str] = mapped_column(String(20), default="planned")
    appraisal_id: Mapped[int | None] = mapped_column(ForeignKey("appraisals.id"))
    agreement_signed_on: Mapped[date | None] = mapped_column(Date)
    planned_start_on: Mapped[date | None] = mapped_column(Date)
    planned_end_on: Mapped[date | None] = mapped_column(Date)
    started_on: Mapped[date | None] = mapped_column(Date)
    completed_on: Mapped[date | None] = mapped_column(Date)
    accepted_on: Mapped[date | None] = mapped_column(Date)
    paid_on: Mapped[date | None] = mapped_column(Date)
    area_after_m2: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    cost_yuan: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    subsidy_yuan: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)

    household: Mapped[Household] = relationship(lazy="joined")
    appraisal: Mapped[Appraisal | None] = relationship(lazy="joined")
    history: Mapped[list["CaseStatusChange"]] = relationship(
        order_by="CaseStatusChange.id", lazy="selectin", back_populates="case"
    )

    def can_move_to(self, status: str) -> bool:
        return status in TRANSITIONS[self.status]

    @property
    def phase(self) -> str | None:
        return STATUS_PHASES[self.status]


class CaseStatusChange(db.Model):
    __tablename__ = "case_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    effective_on: Mapped[date] = mapped_column(Date)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship(back_populates="history")
