"""The money trail (资金): every payment of a subsidy, every recovery of one, and the county's
funds per level and year. Amounts are yuan as `Decimal` with two places, never floats."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db
from backend.models.base import UTCDateTime, utc_now

Yuan = Numeric(12, 2)


class Payment(db.Model):
    """One transfer of a case's subsidy (拨付), or money brought back (追回: a negative amount
    against a `Recovery`). The id is the client's UUID, so a retried request is recognised."""

    __tablename__ = "payments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    village_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    tranche: Mapped[str] = mapped_column(String(20))
    fund_level: Mapped[str] = mapped_column(String(20))
    amount_yuan: Mapped[Decimal] = mapped_column(Yuan)
    paid_on: Mapped[date] = mapped_column(Date, index=True)
    payee_kind: Mapped[str] = mapped_column(String(20))
    payee_name: Mapped[str] = mapped_column(String(100))
    payee_account: Mapped[str | None] = mapped_column(String(40))  # 一本通 number
    voucher_id: Mapped[str] = mapped_column(ForeignKey("attachments.id"))
    recovery_id: Mapped[int | None] = mapped_column(ForeignKey("recoveries.id"))
    # 武乡 pays accepted cases batch by batch (000 验收一批、拨付一批): the batch's document.
    batch_no: Mapped[str | None] = mapped_column(String(60))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class Recovery(db.Model):
    """Money paid on a case that must come back (003 §七(二)2 整改不到位的取消其补助资金，
    已拨付的款项由乡镇府负责追回): open until its receipts reach its amount."""

    __tablename__ = "recoveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    village_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    amount_yuan: Mapped[Decimal] = mapped_column(Yuan)
    recovered_yuan: Mapped[Decimal] = mapped_column(Yuan, default=Decimal("0.00"))
    reason: Mapped[str] = mapped_column(Text)
    opened_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    opened_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    @property
    def outstanding_yuan(self) -> Decimal:
        return self.amount_yuan - self.recovered_yuan

    @property
    def status(self) -> str:
        return "recovered" if self.closed_on else "open"


class FundAllocation(db.Model):
    """The county's funds for a year at one level: confirmed (已落实) or received by the county
    (已下达到县), each entry dated and with its document number, so any month can be summed."""

    __tablename__ = "fund_allocations"

    id: Mapped[int] = mapped_column(primary_key=True)
    county_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    fund_level: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    amount_yuan: Mapped[Decimal] = mapped_column(Yuan)
    on: Mapped[date] = mapped_column(Date)
    document_no: Mapped[str | None] = mapped_column(String(100))  # 文号
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
