"""Synthetic test images: JPEG, PNG, WebP and HEIC bytes with chosen EXIF and seeded content."""

import io
import struct
import zlib
from datetime import datetime

import numpy as np
import pillow_heif
from PIL import Image, ImageDraw, TiffImagePlugin

GPS_IFD = 0x8825
EXIF_IFD = 0x8769
MARKER_RGB = (255, 0, 0)


def make_image(width: int, height: int, *, seed: int = 0, pattern: str = "blobs",
               marker: bool = False) -> Image.Image:
    """Return an RGB image whose coarse structure differs from seed to seed.

    Patterns: "blobs" (smooth colour field plus random shapes), "noisy" (the same with grain, so
    JPEGs have the size and decode cost of a real photo), "gradient", "flat". `marker` paints a
    pure red square in the top-left corner of the stored pixels, to follow orientation.
    """
    rng = np.random.default_rng(seed)
    if pattern == "flat":
        img = Image.new("RGB", (width, height), (128, 128, 128))
    elif pattern == "gradient":
        x = np.linspace(0, 255, width, dtype=np.float32)
        y = np.linspace(0, 255, height, dtype=np.float32)
        a, b = rng.uniform(-1, 1, 2)
        g = np.clip(np.add.outer(y * b, x * a) + 128, 0, 255).astype(np.uint8)
        img = Image.merge("RGB", [Image.fromarray(g)] * 3)
    else:
        # A coarse random field upscaled gives large low-frequency structure, which pHash sees.
        coarse = (rng.random((6, 8, 3)) * 255).astype(np.uint8)
        img = Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC)
        draw = ImageDraw.Draw(img)
        for _ in range(12):
            x0, x1 = sorted(rng.integers(0, width, 2).tolist())
            y0, y1 = sorted(rng.integers(0, height, 2).tolist())
            colour = tuple(int(c) for c in rng.integers(0, 256, 3))
            box = (x0, y0, max(x1, x0 + 1), max(y1, y0 + 1))
            if rng.random() < 0.5:
                draw.ellipse(box, fill=colour)
            else:
                draw.rectangle(box, fill=colour)
        if pattern == "noisy":
            grain = rng.integers(-24, 25, (height, width, 1), dtype=np.int16)
            arr = np.asarray(img, dtype=np.int16) + grain
            img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    if marker:
        side = max(2, min(width, height) // 5)
        ImageDraw.Draw(img).rectangle((0, 0, side - 1, side - 1), fill=MARKER_RGB)
    return img


def _rational(value: float, den: int = 10_000) -> TiffImagePlugin.IFDRational:
    return TiffImagePlugin.IFDRational(round(value * den), den)


def _dms(value: float) -> tuple:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = (value - degrees - minutes / 60) * 3600
    return (_rational(degrees, 1), _rational(minutes, 1), _rational(seconds, 10_000))


def make_exif(*, exif_gps: tuple[float, float, float | None] | None = None,
              taken_at: datetime | None = None, offset: str | None = None,
              gps_time: datetime | None = None, make: str | None = None,
              model: str | None = None, software: str | None = None,
              orientation: int | None = None) -> Image.Exif:
    """Build an EXIF block the way a phone camera writes it (GPS as DMS rationals plus Ref)."""
    exif = Image.Exif()
    for tag, value in ((0x010F, make), (0x0110, model), (0x0131, software),
                       (0x0112, orientation)):
        if value is not None:
            exif[tag] = value
    if taken_at is not None or offset is not None:
        sub = exif.get_ifd(EXIF_IFD)
        if taken_at is not None:
            sub[0x9003] = taken_at.strftime("%Y:%m:%d %H:%M:%S")
        if offset is not None:
            sub[0x9011] = offset
    if exif_gps is not None or gps_time is not None:
        gps = exif.get_ifd(GPS_IFD)
        gps[0x0000] = b"\x02\x02\x00\x00"
        if exif_gps is not None:
            lat, lon, alt = exif_gps
            gps[0x0001] = "N" if lat >= 0 else "S"
            gps[0x0002] = _dms(lat)
            gps[0x0003] = "E" if lon >= 0 else "W"
            gps[0x0004] = _dms(lon)
            if alt is not None:
                gps[0x0005] = b"\x00" if alt >= 0 else b"\x01"
                gps[0x0006] = _rational(abs(alt), 100)
        if gps_time is not None:
            gps[0x001D] = gps_time.strftime("%Y:%m:%d")
            gps[0x0007] = (_rational(gps_time.hour, 1), _rational(gps_time.minute, 1),
                           _rational(gps_time.second, 1))
    return exif


def _encode(img: Image.Image, fmt: str, exif: Image.Exif | None, **params) -> bytes:
    buf = io.BytesIO()
    # Sub-IFDs (EXIF, GPS) alone do not count in len(exif), so look at them too.
    if exif is not None and (len(exif) or exif.get_ifd(EXIF_IFD) or exif.get_ifd(GPS_IFD)):
        params["exif"] = exif.tobytes()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def make_jpeg(width: int = 640, height: int = 480, *,
              exif_gps: tuple[float, float, float | None] | None = None,
              taken_at: datetime | None = None, offset: str | None = None,
              gps_time: datetime | None = None, make: str | None = None,
              model: str | None = None, software: str | None = None,
              orientation: int | None = None, quality: int = 85, seed: int = 0,
              pattern: str = "blobs", marker: bool = False,
              progressive: bool = False) -> bytes:
    """Return JPEG bytes with the given EXIF and seeded content."""
    exif = make_exif(exif_gps=exif_gps, taken_at=taken_at, offset=offset, gps_time=gps_time,
                     make=make, model=model, software=software, orientation=orientation)
    img = make_image(width, height, seed=seed, pattern=pattern, marker=marker)
    return _encode(img, "JPEG", exif, quality=quality, progressive=progressive)


def make_png(width: int = 320, height: int = 240, *, seed: int = 0, pattern: str = "blobs",
             mode: str = "RGB", **exif_args) -> bytes:
    """Return PNG bytes (EXIF, if any, in an eXIf chunk)."""
    img = make_image(width, height, seed=seed, pattern=pattern)
    if mode != "RGB":
        img = img.convert(mode)
    return _encode(img, "PNG", make_exif(**exif_args))


def make_webp(width: int = 320, height: int = 240, *, seed: int = 0, pattern: str = "blobs",
              quality: int = 80, **exif_args) -> bytes:
    """Return lossy WebP bytes."""
    img = make_image(width, height, seed=seed, pattern=pattern)
    return _encode(img, "WEBP", make_exif(**exif_args), quality=quality)


def make_heic(width: int = 320, height: int = 240, *, seed: int = 0, pattern: str = "blobs",
              quality: int = 80, **exif_args) -> bytes:
    """Return HEIC bytes written by pillow-heif (x265)."""
    img = make_image(width, height, seed=seed, pattern=pattern)
    heif = pillow_heif.from_pillow(img)
    buf = io.BytesIO()
    exif = make_exif(**exif_args)
    heif.save(buf, quality=quality, exif=exif.tobytes() if len(exif) else None)
    return buf.getvalue()


def near_duplicate(data: bytes, *, scale: float = 0.7, quality: int = 60) -> bytes:
    """Re-encode an image smaller and at another quality, as a messaging app would."""
    with Image.open(io.BytesIO(data)) as img:
        img = img.convert("RGB")
        size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
        small = img.resize(size, Image.Resampling.BICUBIC)
    return _encode(small, "JPEG", None, quality=quality)


def jpeg_segments(data: bytes) -> list[tuple[int, int, int]]:
    """List (marker, start, end) of each header segment before the scan data."""
    out, pos = [], 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        out.append((marker, pos, pos + 2 + length))
        if marker == 0xDA:
            break
        pos += 2 + length
    return out


def with_app1(data: bytes, payload: bytes) -> bytes:
    """Return the JPEG with its EXIF APP1 replaced by (or, if none, prefixed with) `payload`."""
    segs = [s for s in jpeg_segments(data) if s[0] == 0xE1]
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    if segs:
        _, start, end = segs[0]
        return data[:start] + segment + data[end:]
    return data[:2] + segment + data[2:]


def corrupt_exif_jpeg(kind: str = "garbage", **jpeg_args) -> bytes:
    """Return a decodable JPEG whose EXIF APP1 segment cannot be parsed.

    Kinds: "garbage" (random bytes after the Exif header), "bad_offset" (a TIFF header whose
    first IFD points past the end), "bad_entries" (an IFD whose entries point nowhere).
    """
    base = make_jpeg(**jpeg_args)
    if kind == "garbage":
        tiff = bytes(np.random.default_rng(7).integers(0, 256, 200, dtype=np.uint8))
        tiff = b"XX" + tiff[2:]
    elif kind == "bad_offset":
        tiff = b"II*\x00" + struct.pack("<I", 0x7FFF_FFF0) + b"\x00" * 32
    elif kind == "bad_entries":
        entries = b"".join(struct.pack("<HHII", tag, 5, 3, 0xFFFF_0000)
                           for tag in (0x8825, 0x0112, 0x010F))
        tiff = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 3) + entries + b"\0" * 4
    else:
        raise ValueError(kind)
    return with_app1(base, b"Exif\x00\x00" + tiff)


def png_header(width: int, height: int) -> bytes:
    """Return a tiny PNG whose IHDR claims `width` x `height` (valid CRCs, almost no pixels)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def jpeg_header(width: int, height: int) -> bytes:
    """Return a small JPEG whose SOF claims `width` x `height` (the scan is far too short)."""
    base = make_jpeg(16, 16)
    out = bytearray(base)
    for marker, start, _end in jpeg_segments(base):
        if marker in (0xC0, 0xC2):
            struct.pack_into(">HH", out, start + 5, height, width)
    return bytes(out)
