"""Administrative regions (行政区划) keyed by their 12-digit statistical code."""

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.extensions import db

# How many leading digits of the 12-digit code identify a region at each level.
PREFIX_DIGITS = {"province": 2, "prefecture": 4, "county": 6, "town": 9, "village": 12}


def is_region_code(code: str) -> bool:
    return isinstance(code, str) and len(code) == 12 and code.isdigit()


def level_of(code: str) -> str:
    """Derive a region's level from its code's zero padding."""
    if code[9:] != "000":
        return "village"
    if code[6:9] != "000":
        return "town"
    if code[4:6] != "00":
        return "county"
    if code[2:4] != "00":
        return "prefecture"
    return "province"


def code_range(code: str, level: str) -> tuple[str, str]:
    """Return the lowest and highest 12-digit codes inside a region, for index range scans."""
    prefix = code[: PREFIX_DIGITS[level]]
    return prefix.ljust(12, "0"), prefix.ljust(12, "9")


class Region(db.Model):
    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(12))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)

    # One level up is loaded with the row: a village's town name is shown everywhere.
    parent: Mapped["Region | None"] = relationship(remote_side=[code], lazy="joined", join_depth=2)

    def contains(self, code: str) -> bool:
        low, high = code_range(self.code, self.level)
        return low <= code <= high

    @property
    def range(self) -> tuple[str, str]:
        return code_range(self.code, self.level)
