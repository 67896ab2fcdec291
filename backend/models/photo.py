"""Photos: the evidence. Every source of time and place is kept; disagreements become flags."""

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    exists,
    false,
    text,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from backend.extensions import db
from backend.models.base import UTCDateTime, utc_now
from backend.models.visit import Visit


class Photo(db.Model):
    __tablename__ = "photos"
    __table_args__ = (
        Index("ix_photos_case_phase", "case_id", "phase"),
        Index("ix_photos_household", "household_id"),
        Index("ix_photos_village", "village_code"),
        # Four 16-bit bands of the perceptual hash: two hashes within distance 6 share at
        # least one band up to one bit, so near duplicates are found with indexed lookups;
        # with the hash and id beside each band, reading only the index (migration 0019).
        *(Index(f"ix_photos_phash_b{i}", f"phash_b{i}", "phash", "id") for i in range(4)),
        # Reviewers cite "3号照片": numbered once at receipt within the household, so the
        # number stays unique within each of its cases even when the case link comes later.
        UniqueConstraint("household_id", "number", name="uq_photos_household_number"),
        # A position repeated to the last digit on other houses or days: a location app's.
        Index("ix_photos_device_position", "device_lat", "device_lon"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the phone's UUID
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    village_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    visit_id: Mapped[str | None] = mapped_column(String(36), index=True)  # may arrive first
    number: Mapped[int] = mapped_column(Integer)
    phase: Mapped[str] = mapped_column(String(10))
    node: Mapped[str | None] = mapped_column(String(50))
    item: Mapped[str | None] = mapped_column(String(80))
    note: Mapped[str | None] = mapped_column(Text)

    sha256: Mapped[str] = mapped_column(String(64), index=True)
    bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    format: Mapped[str] = mapped_column(String(10))
    mime: Mapped[str] = mapped_column(String(30))
    phash: Mapped[int] = mapped_column(BigInteger)
    phash_b0: Mapped[int] = mapped_column(Integer)
    phash_b1: Mapped[int] = mapped_column(Integer)
    phash_b2: Mapped[int] = mapped_column(Integer)
    phash_b3: Mapped[int] = mapped_column(Integer)
    # Grey levels of structure in the picture (perceptual.detail); below the setting it is a
    # black frame, a lens cap or a blank wall, kept out of reuse matching. None: not measured.
    detail: Mapped[float | None] = mapped_column(Float)
    # The upload is a plain JPEG of a phone's size with no metadata: it is its own `large`.
    large_is_original: Mapped[bool] = mapped_column(Boolean, default=False,
                                                    server_default=false())

    # What the camera wrote (EXIF), read defensively; exif_error says why it could not be read.
    exif_taken_at: Mapped[str | None] = mapped_column(String(32))  # camera's local time, as written
    exif_lat: Mapped[float | None] = mapped_column(Float)
    exif_lon: Mapped[float | None] = mapped_column(Float)
    exif_alt: Mapped[float | None] = mapped_column(Float)
    exif_make: Mapped[str | None] = mapped_column(String(200))
    exif_model: Mapped[str | None] = mapped_column(String(200))
    exif_software: Mapped[str | None] = mapped_column(String(200))
    exif_orientation: Mapped[int | None] = mapped_column(Integer)
    exif_error: Mapped[str | None] = mapped_column(String(200))

    # What the phone said at the shutter (WGS-84 from navigator.geolocation).
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    device_lat: Mapped[float | None] = mapped_column(Float)
    device_lon: Mapped[float | None] = mapped_column(Float)
    device_accuracy_m: Mapped[float | None] = mapped_column(Float)
    device_fix_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))

    # Whether its visit arrived: a photo of a draft discarded on the phone after it was sent
    # never gets one (未归入检查记录). Read in the photo's own SELECT, no query of its own.
    filed: Mapped[bool] = column_property(
        exists().where(Visit.id == visit_id).correlate_except(Visit))

    flags: Mapped[list["PhotoFlag"]] = relationship(
        back_populates="photo", lazy="selectin", order_by="PhotoFlag.code",
        cascade="all, delete-orphan",
    )

    @property
    def has_device_position(self) -> bool:
        return self.device_lat is not None and self.device_lon is not None

    @property
    def has_exif_position(self) -> bool:
        return self.exif_lat is not None and self.exif_lon is not None


class PhotoFlag(db.Model):
    """One disagreement found in a photo's facts, open until a reviewer confirms or dismisses it."""

    __tablename__ = "photo_flags"
    __table_args__ = (UniqueConstraint("photo_id", "code", name="uq_photo_flags_photo_code"),
                      Index("ix_photo_flags_code_status", "code", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    photo_id: Mapped[str] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(30))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default="open")  # open|confirmed|dismissed
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_reason: Mapped[str | None] = mapped_column(Text)

    photo: Mapped[Photo] = relationship(back_populates="flags")


WINDOW_KINDS = ("centre", "frame")


def window_key_index(kind: str, key: int) -> Index:
    """The index of one band key of one kind of window: partial, on the kind (the lookup names
    its kind as a constant), holding the hash, id and kind after the key so the lookup reads
    the index alone (SQLite reads the table for a column of the partial index's condition that
    the index does not hold; migration 0021)."""
    where = text(f"kind = '{kind}'")
    return Index(f"ix_photo_windows_{kind}_k{key}", f"k{key}", "phash", "id", "kind",
                 postgresql_where=where, sqlite_where=where)


class PhotoWindow(db.Model):
    """A hash of part of a photo (services/photos/crops.py): its centre or its whole frame read
    as windows are, so a copy cropped by up to a fifth is still found; with the hash's six band
    keys (crops.window_keys), each indexed per kind with the hash and id, so the lookup reads
    the indexes only."""

    __tablename__ = "photo_windows"
    __table_args__ = tuple(window_key_index(kind, i) for kind in WINDOW_KINDS for i in range(6))

    id: Mapped[int] = mapped_column(primary_key=True)
    photo_id: Mapped[str] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"),
                                          index=True)
    household_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(6))  # WINDOW_KINDS
    phash: Mapped[int] = mapped_column(BigInteger)
    k0: Mapped[int] = mapped_column(Integer)
    k1: Mapped[int] = mapped_column(Integer)
    k2: Mapped[int] = mapped_column(Integer)
    k3: Mapped[int] = mapped_column(Integer)
    k4: Mapped[int] = mapped_column(Integer)
    k5: Mapped[int] = mapped_column(Integer)
