"""Photo flags: each a stable code, a Chinese label and the numbers behind it.

A photo is never rejected for what it claims; where its sources disagree (EXIF GPS, the
phone's position, the house; EXIF time, capture time, receive time, phase order; the same
picture under another household; editing software) it is flagged for a reviewer.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from backend.models.base import CHINA_TZ, china_date
from backend.services.geo import distance_m
from backend.vocabulary import FLAG_LABELS, VISIT_KIND_LABELS

# Codes computed from one photo's own facts and its household; recomputed on any change.
OWN_CODES = tuple(c for c in FLAG_LABELS if c != "reused_elsewhere")
# Visits whose record says someone stood at the house: all of them. 003 §四(四): 实地验收覆盖率
# 必须达到100%; 001/002: 入户排查; a spot check (抽查) is verified 实地 by definition.
PRESENCE_KINDS = frozenset(VISIT_KIND_LABELS)
# EXIF Software values that name an editor rather than a camera (lower case, substrings).
EDITORS = ("photoshop", "lightroom", "gimp", "snapseed", "picsart", "meitu", "美图", "醒图",
           "黄油相机", "天天p图", "vsco", "fotor", "pixlr", "canva", "photoscape", "affinity",
           "faceu", "美颜")


# Two hashes at most 7 bits apart have one of their four 16-bit bands within a bit of each
# other (8 bits could put two in every band), and that is what the reused-photo lookup reads
# (band_neighbours): a larger distance would miss look-alikes without a word.
MAX_REUSE_DISTANCE = 7


@dataclass(frozen=True)
class PhotoRules:
    low_accuracy_m: float = 50.0
    far_from_house_m: float = 100.0
    exif_phone_mismatch_m: float = 200.0
    max_clock_skew: timedelta = timedelta(minutes=30)
    max_upload_delay: timedelta = timedelta(days=30)
    reuse_distance: int = 6  # at most MAX_REUSE_DISTANCE
    crop_distance: int = 4  # bits between a window of one photo and another's (crops.py)
    reuse_max_matches: int = 20  # a photo names at most this many look-alikes, nearest first
    low_detail: float = 3.0  # grey levels (perceptual.detail): less is a black frame or blank wall
    min_phase_gap: timedelta = timedelta(days=7)  # 改造后 photos this soon after 改造前 ones
    min_works_days: int = 20  # works "done" in fewer days than this after 开工
    mock_decimals: int = 6  # a fix this precise, met again exactly, is one fix replayed

    @classmethod
    def from_config(cls, config) -> "PhotoRules":
        if not 0 <= config["PHOTO_REUSE_DISTANCE"] <= MAX_REUSE_DISTANCE:
            # A mistyped setting stops the app here.
            raise ValueError(f"PHOTO_REUSE_DISTANCE must be 0-{MAX_REUSE_DISTANCE} "
                             f"(got {config['PHOTO_REUSE_DISTANCE']})")
        return cls(
            low_accuracy_m=config["PHOTO_LOW_ACCURACY_M"],
            far_from_house_m=config["PHOTO_FAR_FROM_HOUSE_M"],
            exif_phone_mismatch_m=config["PHOTO_EXIF_PHONE_MISMATCH_M"],
            max_clock_skew=timedelta(minutes=config["PHOTO_MAX_CLOCK_SKEW_MINUTES"]),
            max_upload_delay=timedelta(days=config["PHOTO_MAX_UPLOAD_DELAY_DAYS"]),
            reuse_distance=config["PHOTO_REUSE_DISTANCE"],
            crop_distance=config["PHOTO_CROP_DISTANCE"],
            reuse_max_matches=config["PHOTO_REUSE_MAX_MATCHES"],
            low_detail=config["PHOTO_LOW_DETAIL"],
            min_phase_gap=timedelta(days=config["PHOTO_MIN_PHASE_GAP_DAYS"]),
            min_works_days=config["PHOTO_MIN_WORKS_DAYS"],
            mock_decimals=config["PHOTO_MOCK_DECIMALS"],
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


@dataclass(frozen=True)
class Context:
    """What a photo's flags read beyond its own row, gathered by the caller."""

    house: tuple[float, float] | None = None
    latest_before: datetime | None = None  # the case's latest 改造前 photo
    works_started_on: date | None = None
    min_works_days: int | None = None  # the case's county's own, else rules.min_works_days
    visit_kind: str | None = None  # of the visit the photo is filed under, when it has arrived
    visit_has_position: bool = False
    same_position: dict | None = None  # another house's or day's photo at the very same fix


def own_flags(photo, context: Context, rules: PhotoRules) -> dict[str, dict]:
    """Return {code: details} for every flag a photo's own facts and its context raise."""
    flags = {}
    flags.update(_position_flags(photo, context.house, rules))
    flags.update(_time_flags(photo, rules))
    flags.update(_phase_flags(photo, context, rules))
    flags.update(_presence_flags(photo, context, rules))
    if photo.exif_software and any(e in photo.exif_software.lower() for e in EDITORS):
        flags["edited"] = {"software": photo.exif_software}
    if photo.exif_error:
        flags["exif_unreadable"] = {"reason": photo.exif_error}
    if photo.detail is not None and photo.detail < rules.low_detail:
        flags["low_information"] = {"detail": photo.detail, "limit": rules.low_detail}
    return flags


def _phase_flags(photo, context: Context, rules: PhotoRules) -> dict[str, dict]:
    when = taken_at(photo)
    if photo.phase != "after" or when is None:
        return {}
    before, started = context.latest_before, context.works_started_on
    if before and when < before:
        return {"phase_order": {"taken_at": when.isoformat(),
                                "before_photo_taken_at": before.isoformat()}}
    if started and china_date(when) < started:
        return {"phase_order": {"taken_at": when.isoformat(),
                                "works_started_on": started.isoformat()}}
    if before and when - before < rules.min_phase_gap:
        return {"phase_timing": {"kind": "after_soon_after_before", "taken_at": when.isoformat(),
                                 "before_photo_taken_at": before.isoformat(),
                                 "days": round((when - before).total_seconds() / 86400, 1),
                                 "limit_days": rules.min_phase_gap.days}}
    least = rules.min_works_days if context.min_works_days is None else context.min_works_days
    if started and (china_date(when) - started).days < least:
        return {"phase_timing": {"kind": "works_too_short", "taken_at": when.isoformat(),
                                 "works_started_on": started.isoformat(),
                                 "days": (china_date(when) - started).days,
                                 "limit_days": least}}
    return {}


def _presence_flags(photo, context: Context, rules: PhotoRules) -> dict[str, dict]:
    flags = {}
    if photo.has_device_position and photo.device_accuracy_m == 0:
        # A real fix always has an error radius; a location app's often says exactly 0.
        flags["mock_location"] = {"kind": "zero_accuracy", "accuracy_m": 0}
    elif context.same_position:
        flags["mock_location"] = {"kind": "repeated_position", **context.same_position}
    if context.visit_kind in PRESENCE_KINDS and not context.visit_has_position \
            and not photo.has_device_position and not photo.has_exif_position:
        flags["presence_unproven"] = {"visit_kind": context.visit_kind}
    return flags


def repeats_a_fix(lat: float | None, lon: float | None, rules: PhotoRules) -> bool:
    """Whether a position is precise enough that meeting it again is one fix replayed."""
    if lat is None or lon is None:
        return False
    return all(_decimals(v) >= rules.mock_decimals for v in (lat, lon))


def _decimals(value: float) -> int:
    text = repr(abs(value))
    return 0 if "e" in text or "." not in text else len(text.split(".")[1].rstrip("0"))


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
