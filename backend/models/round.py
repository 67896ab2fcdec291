"""Survey rounds (排查轮次): every target household checked, none missed (不漏一户)."""

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.extensions import db
from backend.models.base import UTCDateTime, utc_now
from backend.models.household import Household


class Round(db.Model):
    __tablename__ = "rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(100))  # e.g. 2026年第四季度常规排查
    period: Mapped[str | None] = mapped_column(String(20))  # e.g. 2026Q4
    cause: Mapped[str | None] = mapped_column(Text)  # an emergency's cause (暴雨、地震 ...)
    starts_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    # The region the round was opened for (its area lies inside it) and the chosen parts.
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    area_codes: Mapped[list] = mapped_column(JSON)
    categories: Mapped[list] = mapped_column(JSON)  # empty: every household
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | closed
    opened_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# On PostgreSQL each round's households are a partition of their own, named so (migration
# 0018): a round opens by filling and attaching it (backend.services.rounds.partitions).
ROUND_PARTITION = "round_households_{}"


def is_round_partition(table: str) -> bool:
    prefix = ROUND_PARTITION.format("")
    return table.startswith(prefix) and table[len(prefix):].isdigit()


class RoundHousehold(db.Model):
    """One household to check in a round: who goes, and what they found."""

    __tablename__ = "round_households"
    __table_args__ = (
        # Covers every column progress counts, so coverage per village reads the index alone.
        Index("ix_round_households_progress", "round_id", "village_code", "visited_at",
              "outcome", "revisit_needed", "found_in_round"),
        Index("ix_round_households_inspector", "inspector_id", "round_id"),
        {"postgresql_partition_by": "LIST (round_id)"},
    )

    # A partitioned table's key holds the partition column: the round and its household.
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"),
                                          primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), primary_key=True)
    # A copy of the household's village (no key of its own: migration 0017), for area checks.
    village_code: Mapped[str] = mapped_column(String(12))
    inspector_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    visit_id: Mapped[str | None] = mapped_column(ForeignKey("visits.id"))
    outcome: Mapped[str | None] = mapped_column(String(20))
    visited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revisit_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    found_in_round: Mapped[bool] = mapped_column(Boolean, default=False)  # 以房找人
    skip_reason: Mapped[str | None] = mapped_column(Text)  # why unvisited when closed

    household: Mapped[Household] = relationship(lazy="joined")


class RoundTally(db.Model):
    """How many of a round's households share one village and one state: progress reads these
    few rows instead of counting a county's or a province's households on every request.

    Kept by database triggers on `round_households` (migration 0015), so every write path,
    bulk ones included, keeps them equal to a recount; a household moved to another village
    moves its round rows, and the triggers its tallies. `outcome` is '' for none (a key part).
    """

    __tablename__ = "round_tallies"

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"),
                                          primary_key=True)
    village: Mapped[str] = mapped_column(String(12), primary_key=True)  # its code
    visited: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    outcome: Mapped[str] = mapped_column(String(20), primary_key=True)
    revisit_needed: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    found_in_round: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    households: Mapped[int] = mapped_column(Integer)
