"""The case procedure's records: the county's workflow versions, every action taken on a case,
publicity periods with their objections, and the departments' identity checks."""

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db
from backend.models.base import UTCDateTime, utc_now


class WorkflowVersion(db.Model):
    """One version of a county's procedure, frozen: a case follows the version it began on."""

    __tablename__ = "workflow_versions"
    __table_args__ = (UniqueConstraint("code", "version", name="uq_workflow_versions_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    spec: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class CaseStep(db.Model):
    """One action on a case: who, when, the stage it was taken at and the one it led to.

    The history is the proof of the procedure. `outside_system` marks a step done before the
    case entered this system (系统外办理): recorded as such, never invented.
    """

    __tablename__ = "case_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(30))
    to_stage: Mapped[str] = mapped_column(String(20))
    effective_on: Mapped[date] = mapped_column(Date)
    acted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the system
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    attachment_ids: Mapped[list] = mapped_column(JSON, default=list)
    outside_system: Mapped[bool] = mapped_column(Boolean, default=False)


class Publicity(db.Model):
    """A notice posted for at least the county's minimum days (公示), with a phone to report to."""

    __tablename__ = "publicities"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    posted_on: Mapped[date] = mapped_column(Date)
    earliest_end_on: Mapped[date] = mapped_column(Date)
    report_phone: Mapped[str] = mapped_column(String(30))
    notice_attachment_id: Mapped[str | None] = mapped_column(ForeignKey("attachments.id"))
    ended_on: Mapped[date | None] = mapped_column(Date)
    posted_by: Mapped[int] = mapped_column(ForeignKey("users.id"))


class Objection(db.Model):
    """An objection or report (异议/举报) received during a publicity, and its outcome."""

    __tablename__ = "objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    publicity_id: Mapped[int] = mapped_column(ForeignKey("publicities.id"), index=True)
    received_on: Mapped[date] = mapped_column(Date)
    reporter: Mapped[str | None] = mapped_column(String(100))
    content: Mapped[str] = mapped_column(Text)
    attachment_ids: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | upheld | dismissed
    outcome_note: Mapped[str | None] = mapped_column(Text)
    resolved_on: Mapped[date | None] = mapped_column(Date)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))


class DepartmentCheck(db.Model):
    """One department's identity check of an applicant (部门比对); silence past the deadline
    counts as passed, and the system records that itself with the date."""

    __tablename__ = "department_checks"
    __table_args__ = (UniqueConstraint("case_id", "department",
                                       name="uq_department_checks_case_department"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    department: Mapped[str] = mapped_column(String(20))
    sent_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    due_is_estimate: Mapped[bool] = mapped_column(Boolean, default=False)
    # pending | passed | problem | passed_by_silence
    result: Mapped[str] = mapped_column(String(20), default="pending")
    replied_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    document_attachment_id: Mapped[str | None] = mapped_column(ForeignKey("attachments.id"))
    entered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
