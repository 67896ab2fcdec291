"""EXIF facts from a photo's raw EXIF block: camera time and its offset, GPS position, altitude
and fix time, make, model, software and orientation. Pure: no Flask, no database.

EXIF is untrusted and often damaged: the block's structure is costed before exifread visits it,
every value is checked before it is kept, and a block that cannot be read is named, never raised.
"""

import io
import math
import re
import struct
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta, timezone

import exifread

EXIF_BUDGET = 50_000  # IFD entries plus values exifread may visit; real photos need < 2,000
TEXT_MAX = 200


@dataclass(frozen=True)
class ExifFacts:
    taken_at: datetime | None = None  # camera clock; aware only when OffsetTimeOriginal is set
    taken_at_offset: str | None = None
    gps_lat: float | None = None  # WGS-84 decimal degrees
    gps_lon: float | None = None
    gps_alt: float | None = None  # metres above sea level
    gps_time: datetime | None = None  # UTC, from the GPS fix
    make: str | None = None
    model: str | None = None
    software: str | None = None
    orientation: int | None = None

    def as_dict(self) -> dict:
        """Return the facts with times as ISO 8601 strings."""
        return {k: v.isoformat() if isinstance(v, datetime) else v
                for k, v in asdict(self).items()}


def read_exif(blob: bytes | None) -> tuple[ExifFacts, str | None]:
    """Parse a raw EXIF block (TIFF, optionally behind "Exif\\0\\0"); never raise."""
    if not blob:
        return ExifFacts(), None
    tiff = blob[6:] if blob.startswith(b"Exif\x00\x00") else blob
    try:
        if _exif_cost(tiff, EXIF_BUDGET) > EXIF_BUDGET:
            return ExifFacts(), "EXIF structure too large to parse safely"
        tags = exifread.process_file(io.BytesIO(tiff), details=False, extract_thumbnail=False)
        if not tags:
            return ExifFacts(), "EXIF block present but holds no readable tags"
        return _exif_facts(tags), None
    except Exception as exc:  # exifread fails in many ways on damaged input
        return ExifFacts(), f"EXIF unreadable: {type(exc).__name__}: {exc}"[:TEXT_MAX]


_IFD_POINTERS = {0x8769, 0x8825, 0xA005}
_ASCII = 2
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}


def _exif_cost(tiff: bytes, limit: int) -> int:
    """Count what exifread would visit: entries plus values, following IFD chains and pointers.

    exifread decodes up to 999 values per entry and re-reads a sub-IFD for every pointer to it,
    so 60 KB of crafted EXIF can hold it for tens of seconds; we refuse such blocks first.
    """
    if tiff[:4] not in (b"II*\x00", b"MM\x00*") or len(tiff) < 8:
        return 0
    end = "<" if tiff[:2] == b"II" else ">"

    def u(fmt: str, offset: int) -> int:
        size = struct.calcsize(fmt)
        if offset < 0 or offset + size > len(tiff):
            return 0
        return struct.unpack_from(end + fmt, tiff, offset)[0]

    def first_value(entry: int, kind: int, count: int) -> int:
        size = _TYPE_SIZES.get(kind, 4)
        where = entry + 8 if count * size <= 4 else u("I", entry + 8)
        return u({1: "B", 3: "H"}.get(kind, "I"), where)

    cost, chain, seen = 0, u("I", 4), set()
    todo: list[tuple[int, int]] = []
    while chain and chain not in seen:
        if len(seen) >= 64:  # real files chain two or three IFDs
            return limit + 1
        seen.add(chain)
        todo.append((chain, 0))
        chain = u("I", chain + 2 + 12 * u("H", chain))
    while todo and cost <= limit:
        ifd, depth = todo.pop()
        entries = u("H", ifd)
        cost += entries
        for i in range(entries):
            entry = ifd + 2 + 12 * i
            if entry + 12 > len(tiff) or cost > limit:
                break
            tag, kind, count = u("H", entry), u("H", entry + 2), u("I", entry + 4)
            if kind != _ASCII and count < 1000:
                cost += count
            if tag in _IFD_POINTERS and depth < 2 and count:
                todo.append((first_value(entry, kind, count), depth + 1))
    return cost


def _exif_facts(tags: Mapping) -> ExifFacts:
    def values(key: str) -> object:
        tag = tags.get(key)
        return getattr(tag, "values", None)

    lat = _coordinate(values("GPS GPSLatitude"), values("GPS GPSLatitudeRef"), "NS", 90.0)
    lon = _coordinate(values("GPS GPSLongitude"), values("GPS GPSLongitudeRef"), "EW", 180.0)
    if lat is None or lon is None or (lat == 0 and lon == 0):
        lat = lon = None  # half a position is no position; 0,0 is what some phones write unfixed
    offset, tz = _offset(values("EXIF OffsetTimeOriginal"))
    taken = _exif_datetime(values("EXIF DateTimeOriginal"), values("EXIF SubSecTimeOriginal"))
    if taken is None:
        taken = _exif_datetime(values("EXIF DateTimeDigitized"), values("EXIF SubSecTimeDigitized"))
    orientation = _first_int(values("Image Orientation"))
    return ExifFacts(
        taken_at=taken.replace(tzinfo=tz) if taken and tz else taken,
        taken_at_offset=offset,
        gps_lat=lat,
        gps_lon=lon,
        gps_alt=_altitude(values("GPS GPSAltitude"), values("GPS GPSAltitudeRef")),
        gps_time=_gps_time(values("GPS GPSDate"), values("GPS GPSTimeStamp")),
        make=_text(values("Image Make")),
        model=_text(values("Image Model")),
        software=_text(values("Image Software")),
        orientation=orientation if orientation in range(1, 9) else None,
    )


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if hasattr(value, "numerator") and hasattr(value, "denominator"):
        num, den = value.numerator, value.denominator
        if not isinstance(num, int) or not isinstance(den, int) or den == 0:
            return None
        result = num / den
    elif isinstance(value, int | float):
        result = float(value)
    else:
        return None
    return result if math.isfinite(result) else None


def _numbers(values: object) -> list[float] | None:
    if not isinstance(values, list | tuple) or not values:
        return None
    out = [_number(v) for v in values]
    return None if any(v is None for v in out) else out  # type: ignore[return-value]


def _first_int(values: object) -> int | None:
    first = values[0] if isinstance(values, list | tuple) and values else values
    return first if isinstance(first, int) and not isinstance(first, bool) else None


def _text(value: object) -> str | None:
    if isinstance(value, list | tuple) and all(isinstance(v, int) and 0 <= v < 256 for v in value):
        value = bytes(value)
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        return None
    cleaned = "".join(ch for ch in value if ch.isprintable()).strip()[:TEXT_MAX]
    return cleaned or None


def _coordinate(values: object, ref: object, refs: str, limit: float) -> float | None:
    parts = _numbers(values)
    if parts is None or len(parts) > 3 or any(p < 0 for p in parts):
        return None
    degrees = sum(p / 60**i for i, p in enumerate(parts))
    hemisphere = (_text(ref) or refs[0]).upper()[:1]
    if hemisphere not in refs:
        return None
    signed = -degrees if hemisphere == refs[1] else degrees
    return signed if abs(signed) <= limit else None


def _altitude(values: object, ref: object) -> float | None:
    parts = _numbers(values)
    if parts is None or len(parts) != 1:
        return None
    below = _first_int(ref) == 1 or (isinstance(ref, bytes) and ref[:1] == b"\x01")
    alt = -parts[0] if below else parts[0]
    return alt if -1_000.0 <= alt <= 20_000.0 else None


_DATETIME = re.compile(r"\s*(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_DATE = re.compile(r"\s*(\d{4})[:-](\d{2})[:-](\d{2})\s*$")
_OFFSET = re.compile(r"\s*([+-])(\d{2}):(\d{2})\s*$")


def _exif_datetime(value: object, subsec: object = None) -> datetime | None:
    match = _DATETIME.match(_text(value) or "")
    if not match:
        return None
    try:
        moment = datetime(*(int(g) for g in match.groups()))  # type: ignore[misc]
    except ValueError:  # "0000:00:00 00:00:00" and other impossible dates
        return None
    digits = (_text(subsec) or "").strip()
    if digits.isdigit():
        moment = moment.replace(microsecond=int(digits[:6].ljust(6, "0")))
    return moment


def _offset(value: object) -> tuple[str | None, timezone | None]:
    match = _OFFSET.match(_text(value) or "")
    if not match:
        return None, None
    sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3))
    if hours > 14 or minutes >= 60:
        return None, None
    delta = timedelta(hours=hours, minutes=minutes) * (-1 if sign == "-" else 1)
    return f"{sign}{hours:02d}:{minutes:02d}", timezone(delta)


def _gps_time(date_value: object, time_values: object) -> datetime | None:
    match = _DATE.match(_text(date_value) or "")
    parts = _numbers(time_values)
    if not match or parts is None or len(parts) != 3:
        return None
    hours, minutes, seconds = parts
    if not (0 <= hours < 24 and 0 <= minutes < 60 and 0 <= seconds < 60):
        return None
    try:
        day = datetime(*(int(g) for g in match.groups()), tzinfo=UTC)  # type: ignore[misc]
    except ValueError:
        return None
    return day + timedelta(hours=hours, minutes=minutes, seconds=seconds)
