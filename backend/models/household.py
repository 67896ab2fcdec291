"""Households (农户), their target category and their house."""

from datetime import date, datetime

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from backend.extensions import db
from backend.models.base import UTCDateTime, utc_now
from backend.models.region import Region


def _identities_of_category(context) -> list[str]:
    """A household registered with only its category has that one identity (none if 一般农户)."""
    category = context.get_current_parameters().get("category")
    return [] if category in (None, "ordinary") else [category]


def _last_six(context) -> str:
    """A bulk insert that gives only the ID number gets its six-character tail all the same."""
    return context.get_current_parameters()["id_number"][-6:]


class Household(db.Model):
    __tablename__ = "households"
    __table_args__ = (
        Index("ix_households_village_name", "village_code", "name", "id"),
        Index("ix_households_name", "name", "id"),
        Index("ix_households_id_tail", "id_tail"),
        Index("ix_households_id_tail6", "id_tail6"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    village_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    group_name: Mapped[str | None] = mapped_column(String(50))  # 村民小组
    name: Mapped[str] = mapped_column(String(50))  # 户主姓名
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    id_tail: Mapped[str] = mapped_column(String(4))  # last four: search without the PII right
    # Last six, indexed: a 5- or 6-character tail search is an index lookup, never a scan.
    id_tail6: Mapped[str] = mapped_column(String(6), default=_last_six)
    phone: Mapped[str | None] = mapped_column(String(20))
    family_size: Mapped[int | None] = mapped_column(Integer)
    # Every identity the household is certified under (民政 and 乡村振兴 certify different
    # ones); `category` is the first by the seeds' priority, under which it counts once.
    category: Mapped[str] = mapped_column(String(20))
    identities: Mapped[list] = mapped_column(JSON, default=_identities_of_category)
    address: Mapped[str | None] = mapped_column(String(200))
    lat: Mapped[float | None] = mapped_column(Float)  # WGS-84
    lon: Mapped[float | None] = mapped_column(Float)
    location_source: Mapped[str | None] = mapped_column(String(20))
    location_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    location_set_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    year_built: Mapped[int | None] = mapped_column(Integer)
    floor_area_m2: Mapped[float | None] = mapped_column(Float)
    rooms: Mapped[int | None] = mapped_column(Integer)
    storeys: Mapped[int | None] = mapped_column(Integer)
    structure_type: Mapped[str | None] = mapped_column(String(20))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)

    village: Mapped[Region] = relationship(lazy="joined")
    appraisals: Mapped[list["Appraisal"]] = relationship(
        back_populates="household", order_by="Appraisal.appraised_on"
    )
    cases: Mapped[list["Case"]] = relationship(  # noqa: F821
        order_by="[Case.year, Case.id]", viewonly=True, lazy="selectin"
    )

    @validates("id_number")
    def _keep_tails(self, _key: str, number: str) -> str:
        self.id_tail, self.id_tail6 = number[-4:], number[-6:]
        return number

    @property
    def has_location(self) -> bool:
        return self.lat is not None and self.lon is not None

    @property
    def current_case(self):
        return self.cases[-1] if self.cases else None


class Appraisal(db.Model):
    """A house safety appraisal (住房安全性鉴定); only C and D qualify for renovation."""

    __tablename__ = "appraisals"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    grade: Mapped[str] = mapped_column(String(1))
    appraised_on: Mapped[date] = mapped_column(Date)
    appraiser: Mapped[str] = mapped_column(String(100))
    notes: Mapped[str | None] = mapped_column(Text)
    # The report carries at least 3 signatures (民主监督员, 村委负责人, 乡镇负责人) and the
    # county's filing (备案) (003 §四(五)2): [{"role", "name"}].
    signatures: Mapped[list] = mapped_column(JSON, default=list)
    filed_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    household: Mapped[Household] = relationship(back_populates="appraisals")
