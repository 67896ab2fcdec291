"""Visits (检查记录), the checklist templates they follow, and rectifications (整改)."""

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.extensions import db
from backend.models.base import UTCDateTime, utc_now


class ChecklistTemplate(db.Model):
    """One version of a template, frozen: visits point at the version they were filled on."""

    __tablename__ = "checklist_templates"
    __table_args__ = (UniqueConstraint("code", "version", name="uq_checklist_templates_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    spec: Mapped[dict] = mapped_column(JSON)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class Visit(db.Model):
    __tablename__ = "visits"
    __table_args__ = (
        Index("ix_visits_case", "case_id", "started_at"),
        Index("ix_visits_household", "household_id", "started_at"),
        Index("ix_visits_inspector_review", "inspector_id", "review_state"),
        Index("ix_visits_village", "village_code"),
        Index("ix_visits_answers", "answers_visit_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the phone's UUID
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    village_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id"))
    template_id: Mapped[int] = mapped_column(ForeignKey("checklist_templates.id"))
    kind: Mapped[str] = mapped_column(String(20))
    phase: Mapped[str] = mapped_column(String(10))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    device_lat: Mapped[float | None] = mapped_column(Float)
    device_lon: Mapped[float | None] = mapped_column(Float)
    device_accuracy_m: Mapped[float | None] = mapped_column(Float)
    device_fix_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)
    # Survey forms (常规排查/应急排查) record one outcome instead of per-item results.
    outcome: Mapped[str | None] = mapped_column(String(20))
    danger_points: Mapped[list] = mapped_column(JSON, default=list)
    # Completion acceptance: the three parties' sign-off and the grade after the works.
    signoffs: Mapped[list] = mapped_column(JSON, default=list)
    appraisal_after: Mapped[str | None] = mapped_column(String(1))
    # The phone's body as received, hashed canonically: a replay must match it.
    body_sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    review_state: Mapped[str] = mapped_column(String(12), default="submitted")
    review_comment: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A resubmission (补拍/修改) names the returned visit it answers; approving the answer
    # resolves that return (its review_state stays "returned", its history kept).
    answers_visit_id: Mapped[str | None] = mapped_column(ForeignKey("visits.id"))
    resolved_by_visit_id: Mapped[str | None] = mapped_column(ForeignKey("visits.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    template: Mapped[ChecklistTemplate] = relationship(lazy="joined")
    results: Mapped[list["VisitResult"]] = relationship(
        back_populates="visit", order_by="VisitResult.id", lazy="selectin",
        cascade="all, delete-orphan")

    @property
    def return_open(self) -> bool:
        """Returned to the inspector and not yet answered by an approved resubmission."""
        return self.review_state == "returned" and self.resolved_by_visit_id is None


class VisitResult(db.Model):
    """One checklist item's result in a visit: 合格 / 不合格 / 不适用, a value, a note, photos."""

    __tablename__ = "visit_results"
    __table_args__ = (UniqueConstraint("visit_id", "item_code", name="uq_visit_results_item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"))
    node_code: Mapped[str] = mapped_column(String(40))
    item_code: Mapped[str] = mapped_column(String(80))
    result: Mapped[str] = mapped_column(String(4))
    value: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)
    photo_ids: Mapped[list] = mapped_column(JSON, default=list)

    visit: Mapped[Visit] = relationship(back_populates="results")


class Rectification(db.Model):
    """整改: opened by a failed item, closed (销号) by a later visit that passes it with a photo."""

    __tablename__ = "rectifications"
    __table_args__ = (
        Index("ix_rectifications_household_item", "household_id", "item_code", "status"),
        Index("ix_rectifications_village_status", "village_code", "status", "due_on"),
        Index("ix_rectifications_case", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    village_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    node_code: Mapped[str] = mapped_column(String(40))
    item_code: Mapped[str] = mapped_column(String(80))
    problem: Mapped[str] = mapped_column(Text)  # 问题
    task: Mapped[str] = mapped_column(Text)  # 任务
    measure: Mapped[str | None] = mapped_column(Text)  # 措施
    responsible: Mapped[str | None] = mapped_column(String(100))  # 责任人
    due_on: Mapped[date] = mapped_column(Date)  # 时限
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | closed
    opened_by_visit_id: Mapped[str] = mapped_column(ForeignKey("visits.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    closed_by_visit_id: Mapped[str | None] = mapped_column(ForeignKey("visits.id"))
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
