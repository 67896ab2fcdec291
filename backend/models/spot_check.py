"""Random spot checks (随机抽查, 003 §七(三)): one draw of households from an area's renovation
archive of a year, kept with the seed that produced it so that anyone can draw it again."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db
from backend.models.base import UTCDateTime, utc_now


class SpotCheck(db.Model):
    """A draw, fixed when made: the population it was drawn from, the seed and the sample.

    One per area, year and purpose: the unique constraint refuses a second draw even when two
    are made at the same moment."""

    __tablename__ = "spot_checks"
    __table_args__ = (UniqueConstraint("area_code", "year", "purpose",
                                       name="uq_spot_checks_purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    area_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(100))  # normalised: NFKC, single spaces
    # What was asked for: a number of households or a percentage of the population.
    requested_count: Mapped[int | None] = mapped_column(Integer)
    requested_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    size: Mapped[int] = mapped_column(Integer)  # households drawn
    seed: Mapped[str] = mapped_column(String(16))  # 64 bits in hex, made by the server
    population_size: Mapped[int] = mapped_column(Integer)
    population_sha256: Mapped[str] = mapped_column(String(64))
    population: Mapped[dict] = mapped_column(JSON)  # town code → household ids, ascending
    allocation: Mapped[dict] = mapped_column(JSON)  # town code → households drawn there
    sample: Mapped[list] = mapped_column(JSON)  # household ids in the order drawn
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    drawn_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
