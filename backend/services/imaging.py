"""Photo bytes to evidence: format sniffing, a bounded and verified decode, EXIF facts, a 64-bit
perceptual hash of the upright image, and metadata-free JPEG variants. Pure: no Flask, no database.

Uploads are untrusted. The format comes from magic bytes; the pixel count is checked from the header
before any pixel is allocated; every byte of compressed data is decoded once, so truncated or
damaged files are refused; EXIF is read defensively and damaged EXIF never refuses a photo.
"""

import io
import math
import re
import struct
import threading
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType

import exifread
import numpy as np
from PIL import Image, ImageFile, JpegImagePlugin, PngImagePlugin, WebPImagePlugin
from pillow_heif import HeifImageFile

from backend.services.errors import (
    CorruptImage,
    DomainError,
    ImageTooManyPixels,
    UnsupportedImageType,
)

MAX_PIXELS = 60_000_000
VARIANT_SIZES: Mapping[str, int] = MappingProxyType({"thumb": 320, "large": 1600})
HASH_BOX = 320  # the hash is taken from the upright image reduced to fit this box
EXIF_BUDGET = 50_000  # IFD entries plus values exifread may visit; real photos need < 2,000
TEXT_MAX = 200

MIME = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "heif": "image/heif"}
_HEVC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}
_HEIF_BRANDS = {b"mif1", b"msf1", b"heif"}
_AV1_BRANDS = {b"avif", b"avis"}

# Each format is opened with its own plugin class: Image.open would try other decoders and apply
# Pillow's process-wide MAX_IMAGE_PIXELS, while we check our own limit with the real dimensions.
# Plain JpegImageFile (not jpeg_factory) also keeps MPO side images out of the picture.
_OPENERS: dict[str, type[ImageFile.ImageFile]] = {
    "jpeg": JpegImagePlugin.JpegImageFile,
    "png": PngImagePlugin.PngImageFile,
    "webp": WebPImagePlugin.WebPImageFile,
    "heif": HeifImageFile,
}

# Same table as ImageOps.exif_transpose.
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

_TRUNCATED = "照片文件不完整，可能在上传中被截断，请重新上传"


# --- facts ---------------------------------------------------------------------------------
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


@dataclass(frozen=True)
class ImageFacts:
    format: str  # jpeg | png | heif | webp
    mime: str
    width: int  # as displayed, after EXIF orientation
    height: int
    exif: ExifFacts = field(default_factory=ExifFacts)
    exif_error: str | None = None  # why an EXIF block present in the file could not be read
    phash: int = 0  # signed 64-bit, fits a BIGINT

    def as_dict(self) -> dict:
        """Return the facts JSON-ready; the hash as 16 hex digits (JavaScript loses 64-bit ints)."""
        return {"format": self.format, "mime": self.mime, "width": self.width,
                "height": self.height, "exif": self.exif.as_dict(),
                "exif_error": self.exif_error, "phash": phash_to_hex(self.phash)}


# --- public functions ----------------------------------------------------------------------
def sniff_format(head: bytes) -> str | None:
    """Name the image format from its first bytes: jpeg, png, webp, heif, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    brands = _ftyp_brands(head)
    if brands & _HEVC_BRANDS or (brands & _HEIF_BRANDS and not brands & _AV1_BRANDS):
        return "heif"
    return None


def inspect_image(data: bytes, *, max_pixels: int = MAX_PIXELS) -> ImageFacts:
    """Verify an upload decodes completely and return its facts and perceptual hash."""
    decoded = _decode(data, max_pixels=max_pixels, box=HASH_BOX, mode="L")
    return decoded.facts(phash(decoded.upright(_fit(decoded.image, HASH_BOX))))


def render_variants(data: bytes, *, sizes: Mapping[str, int] = VARIANT_SIZES,
                    quality: int = 82, max_pixels: int = MAX_PIXELS) -> dict[str, bytes]:
    """Return an upright, metadata-free JPEG per named size (long edge, never upscaled)."""
    return process_image(data, max_pixels=max_pixels, sizes=sizes, quality=quality)[1]


def process_image(data: bytes, *, max_pixels: int = MAX_PIXELS,
                  sizes: Mapping[str, int] = VARIANT_SIZES,
                  quality: int = 82) -> tuple[ImageFacts, dict[str, bytes]]:
    """Inspect an upload and render its variants from a single decode."""
    if any(not isinstance(s, int) or s < 1 for s in sizes.values()):
        raise ValueError(f"variant sizes must be positive integers: {dict(sizes)}")
    # One decode, reduced in the JPEG decoder to just above the largest variant: a reduced
    # decode still entropy-decodes every scan, so truncation is caught as surely as by a full one.
    decoded = _decode(data, max_pixels=max_pixels, box=max([*sizes.values(), HASH_BOX]))
    rendered, src = {}, _rgb(decoded.image)
    for name, size in sorted(sizes.items(), key=lambda item: -item[1]):
        src = _fit(src, size)  # each smaller size is resized from the one before
        rendered[name] = _jpeg(decoded.upright(src), quality, decoded.icc)
    digest = phash(decoded.upright(_fit(src, HASH_BOX)))
    return decoded.facts(digest), {name: rendered[name] for name in sizes}


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


# --- perceptual hash -----------------------------------------------------------------------
def _dct_matrix(n: int) -> np.ndarray:
    k, i = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    # Unnormalised DCT-II as scipy.fftpack.dct computes it; the constant factor does not move
    # the median comparison, so the bits match imagehash.phash.
    return 2.0 * np.cos(np.pi * k * (2 * i + 1) / (2 * n))


_DCT32 = _dct_matrix(32)
_MASK64 = (1 << 64) - 1


def phash(img: Image.Image) -> int:
    """Return the 64-bit DCT perceptual hash of `img` (imagehash.phash's bits), signed."""
    if img.mode not in ("L", "RGB"):
        img = _rgb(img)
    small = img.convert("L").resize((32, 32), Image.Resampling.LANCZOS)
    dct = _DCT32 @ np.asarray(small, dtype=np.float64) @ _DCT32.T
    low = dct[:8, :8]
    bits = np.packbits(low > np.median(low))
    unsigned = int.from_bytes(bits.tobytes(), "big")
    return unsigned - (1 << 64) if unsigned >> 63 else unsigned


def phash_to_hex(value: int) -> str:
    """Format a signed or unsigned 64-bit hash as 16 hex digits (imagehash's str form)."""
    return f"{value & _MASK64:016x}"


def hamming(a: int, b: int) -> int:
    """Count the differing bits of two 64-bit hashes, signed or not."""
    return ((a ^ b) & _MASK64).bit_count()


# --- decoding ------------------------------------------------------------------------------
@dataclass
class _Decoded:
    format: str
    mime: str
    stored_size: tuple[int, int]
    image: Image.Image  # loaded, possibly reduced, in stored orientation
    exif: ExifFacts
    exif_error: str | None
    icc: bytes | None

    @property
    def orientation(self) -> int:
        # libheif already applied the container's rotation, and HEIF says EXIF's must be ignored.
        return 1 if self.format == "heif" else (self.exif.orientation or 1)

    def upright(self, img: Image.Image) -> Image.Image:
        method = _TRANSPOSE.get(self.orientation)
        return img.transpose(method) if method is not None else img

    def facts(self, digest: int) -> ImageFacts:
        w, h = self.stored_size
        if self.orientation in (5, 6, 7, 8):
            w, h = h, w
        return ImageFacts(self.format, self.mime, w, h, self.exif, self.exif_error, digest)


_warnings_lock = threading.Lock()


@contextmanager
def _quiet() -> Iterator[None]:
    # Pillow warns (UserWarning) about damaged EXIF or APNG chunks while opening; under an
    # "error" filter that would refuse a photo that is only badly tagged. catch_warnings mutates
    # process state, hence the lock; it guards only header parsing, which takes microseconds.
    with _warnings_lock, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _decode(data: bytes, *, max_pixels: int, box: int, mode: str | None = None) -> _Decoded:
    fmt = sniff_format(data[:64])
    if fmt is None:
        raise UnsupportedImageType()
    if fmt == "webp" and (size := _webp_size(data[:30])):
        _check_pixels(size, max_pixels)  # libwebp allocates its canvas while opening
    with _failures_as_corrupt(max_pixels):
        with _quiet():
            im = _OPENERS[fmt](io.BytesIO(data))
    with im:
        stored_size = im.size
        _check_pixels(stored_size, max_pixels)
        with _failures_as_corrupt(max_pixels):
            # HEIF's draft would decode an embedded thumbnail and leave the image unverified.
            if fmt == "jpeg" and max(stored_size) > box:
                im.draft(mode, _draft_request(stored_size, box))
            if fmt == "png":
                with _quiet():  # chunks after the pixel data are parsed during load
                    im.load()
            else:
                im.load()
        exif, exif_error = read_exif(im.info.get("exif"))
        mime = (im.get_format_mimetype() or MIME["heif"]) if fmt == "heif" else MIME[fmt]
        return _Decoded(fmt, mime, stored_size, im, exif, exif_error,
                        _rgb_icc(im.info.get("icc_profile")))


@contextmanager
def _failures_as_corrupt(max_pixels: int) -> Iterator[None]:
    try:
        yield
    except (DomainError, MemoryError):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooManyPixels(max_pixels=max_pixels, reason=str(exc)) from exc
    except Exception as exc:  # decoders raise OSError, SyntaxError, ValueError, struct.error...
        reason = f"{type(exc).__name__}: {exc}"[:TEXT_MAX]
        message = _TRUNCATED if "truncated" in reason.lower() else None
        raise CorruptImage(message, reason=reason) from exc


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    w, h = size
    if w < 1 or h < 1:
        raise CorruptImage(reason=f"empty image {w}x{h}")
    if w * h > max_pixels:
        raise ImageTooManyPixels(f"照片像素过多（{w}×{h}），最多允许 {max_pixels:,} 像素",
                                 width=w, height=h, max_pixels=max_pixels)


def _draft_request(size: tuple[int, int], box: int) -> tuple[int, int]:
    # JPEG draft picks the largest 1/2, 1/4, 1/8 scale that keeps both sides >= this request.
    w, h = size
    scale = box / max(w, h)
    return max(1, math.ceil(w * scale)), max(1, math.ceil(h * scale))


def _ftyp_brands(head: bytes) -> set[bytes]:
    if head[4:8] != b"ftyp" or len(head) < 12:
        return set()
    end = min(len(head), max(16, struct.unpack(">I", head[:4])[0]))
    return {head[8:12]} | {head[i:i + 4] for i in range(16, end - 3, 4)}


def _webp_size(head: bytes) -> tuple[int, int] | None:
    # The canvas size from the first chunk's header, as WebPImagePlugin reads it.
    chunk = head[12:16]
    if chunk == b"VP8 " and len(head) >= 30 and head[23:26] == b"\x9d\x01\x2a":
        w, h = struct.unpack("<HH", head[26:30])
        return w & 0x3FFF, h & 0x3FFF
    if chunk == b"VP8X" and len(head) >= 30:
        w = int.from_bytes(head[24:27], "little") + 1
        return w, int.from_bytes(head[27:30], "little") + 1
    if chunk == b"VP8L" and len(head) >= 25 and head[20] == 0x2F:
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


# --- rendering -----------------------------------------------------------------------------
def _fit(img: Image.Image, size: int) -> Image.Image:
    w, h = img.size
    if max(w, h) <= size:
        return img
    scale = size / max(w, h)
    target = (max(1, round(w * scale)), max(1, round(h * scale)))
    # Pillow's bilinear filter widens with the scale, so it antialiases a downscale; after a box
    # reduction it looks the same at display size and costs 2/3 of bicubic on the 2048 -> 1600
    # step, the largest single cost of an upload (bench/ingest.py).
    return img.resize(target, Image.Resampling.BILINEAR, reducing_gap=2.0)


def _rgb(img: Image.Image) -> Image.Image:
    if img.mode == "RGB":
        return img
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        # 16-bit PNGs: scale to 8 bits instead of letting convert() clip at 255.
        arr = np.asarray(img, dtype=np.float64) / 257.0
        return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).convert("RGB")
    if img.mode in ("P", "PA", "LA", "La", "RGBA", "RGBa") or "transparency" in img.info:
        rgba = img.convert("RGBA")  # P via RGBA: converting straight to RGB warns on bytes tRNS
        background = Image.new("RGB", img.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB")


def _rgb_icc(icc: object) -> bytes | None:
    # An RGB profile (e.g. Display P3) keeps colours right; a CMYK or grey one would not fit.
    if isinstance(icc, bytes) and 128 <= len(icc) <= 1 << 20 and icc[16:20] == b"RGB ":
        return icc
    return None


def _jpeg(img: Image.Image, quality: int, icc: bytes | None) -> bytes:
    buf = io.BytesIO()
    params = {"icc_profile": icc} if icc and img.mode == "RGB" else {}
    _rgb(img).save(buf, "JPEG", quality=quality, **params)
    return buf.getvalue()


# --- EXIF ----------------------------------------------------------------------------------
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
