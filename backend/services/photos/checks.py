"""Photo flags: each a stable code, a Chinese label and the numbers behind it.

A photo is never rejected for what it claims; where its sources disagree (EXIF GPS, the
phone's position, the house; EXIF time, capture time, receive time, phase order; the same
picture under another household; editing software) it is flagged for a reviewer.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from backend.models.base import CHINA_TZ, china_date
from backend.services.geo import distance_m
from backend.vocabulary import FLAG_LABELS

# Codes computed from one photo's own facts and its household; recomputed on any change.
OWN_CODES = tuple(c for c in FLAG_LABELS if c != "reused_elsewhere")
# EXIF Software values that name an editor rather than a camera (lower case, substrings).
EDITORS = ("photoshop", "lightroom", "gimp", "snapseed", "picsart", "meitu", "美图", "醒图",
           "黄油相机", "天天p图", "vsco", "fotor", "pixlr", "canva", "photoscape", "affinity",
           "faceu", "美颜")


@dataclass(frozen=True)
class PhotoRules:
    low_accuracy_m: float = 50.0
    far_from_house_m: float = 100.0
    exif_phone_mismatch_m: float = 200.0
    max_clock_skew: timedelta = timedelta(minutes=30)
    max_upload_delay: timedelta = timedelta(days=30)
    reuse_distance: int = 6

    @classmethod
    def from_config(cls, config) -> "PhotoRules":
        return cls(
            low_accuracy_m=config["PHOTO_LOW_ACCURACY_M"],
            far_from_house_m=config["PHOTO_FAR_FROM_HOUSE_M"],
            exif_phone_mismatch_m=config["PHOTO_EXIF_PHONE_MISMATCH_M"],
            max_clock_skew=timedelta(minutes=config["PHOTO_MAX_CLOCK_SKEW_MINUTES"]),
            max_upload_delay=timedelta(days=config["PHOTO_MAX_UPLOAD_DELAY_DAYS"]),
            reuse_distance=config["PHOTO_REUSE_DISTANCE"],
        )


def exif_time(photo) -> datetime | None:
    """The camera's time as an aware datetime; cameras write local time, China is UTC+8."""
    if not photo.exif_taken_at:
        return None
    try:
        taken = datetime.fromisoformat(photo.exif_taken_at)
    except ValueError:
        return None
    return taken if taken.tzinfo else taken.replace(tzinfo=CHINA_TZ)


def taken_at(photo) -> datetime | None:
    """When the photo was taken, by the best source: the phone's clock, else the camera's."""
    return photo.captured_at or exif_time(photo)


def own_flags(photo, house: tuple[float, float] | None, rules: PhotoRules, *,
              later_before_photo: datetime | None = None,
              works_started_on: date | None = None) -> dict[str, dict]:
    """Return {code: details} for every flag a photo's own facts and its house raise."""
    flags = {}
    flags.update(_position_flags(photo, house, rules))
    flags.update(_time_flags(photo, rules))
    if photo.exif_software and any(e in photo.exif_software.lower() for e in EDITORS):
        flags["edited"] = {"software": photo.exif_software}
    if photo.exif_error:
        flags["exif_unreadable"] = {"reason": photo.exif_error}
    if photo.phase == "after":
        when = taken_at(photo)
        if when and later_before_photo and when < later_before_photo:
            flags["phase_order"] = {"taken_at": when.isoformat(),
                                    "before_photo_taken_at": later_before_photo.isoformat()}
        elif when and works_started_on and china_date(when) < works_started_on:
            flags["phase_order"] = {"taken_at": when.isoformat(),
                                    "works_started_on": works_started_on.isoformat()}
    return flags


def _position_flags(photo, house, rules: PhotoRules) -> dict[str, dict]:
    flags = {}
    device = (photo.device_lat, photo.device_lon) if photo.has_device_position else None
    exif = (photo.exif_lat, photo.exif_lon) if photo.has_exif_position else None
    if device is None and exif is None:
        return {"no_position": {}}
    if device and photo.device_accuracy_m is not None \
            and photo.device_accuracy_m > rules.low_accuracy_m:
        flags["low_accuracy"] = {"accuracy_m": round(photo.device_accuracy_m, 1),
                                 "limit_m": rules.low_accuracy_m}
    if device and exif:
        apart = distance_m(*device, *exif)
        if apart > rules.exif_phone_mismatch_m:
            flags["exif_phone_mismatch"] = {"distance_m": round(apart),
                                            "limit_m": rules.exif_phone_mismatch_m}
    if house:
        where = device or exif
        away = distance_m(*where, *house)
        if away > rules.far_from_house_m:
            flags["far_from_house"] = {"distance_m": round(away), "limit_m": rules.far_from_house_m,
                                       "source": "device" if device else "exif"}
    return flags


def _time_flags(photo, rules: PhotoRules) -> dict[str, dict]:
    problems = []
    received = photo.received_at or datetime.now(UTC)
    camera = exif_time(photo)
    if camera and photo.captured_at:
        skew = abs(camera - photo.captured_at)
        if skew > rules.max_clock_skew:
            problems.append({"kind": "exif_vs_capture",
                             "minutes": round(skew.total_seconds() / 60)})
    for kind, when in (("capture_in_future", photo.captured_at), ("exif_in_future", camera)):
        if when and when - received > rules.max_clock_skew:
            problems.append({"kind": kind,
                             "minutes": round((when - received).total_seconds() / 60)})
    if photo.captured_at and received - photo.captured_at > rules.max_upload_delay:
        problems.append({"kind": "late_upload", "days": (received - photo.captured_at).days})
    return {"time_skew": {"problems": problems}} if problems else {}


def hash_bands(phash: int) -> tuple[int, int, int, int]:
    """Split a signed 64-bit hash into four unsigned 16-bit bands."""
    unsigned = phash & 0xFFFFFFFFFFFFFFFF
    return tuple((unsigned >> (16 * i)) & 0xFFFF for i in range(4))


def band_neighbours(band: int) -> list[int]:
    """The band itself and every value one bit away from it."""
    return [band] + [band ^ (1 << bit) for bit in range(16)]
