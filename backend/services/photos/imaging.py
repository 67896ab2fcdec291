"""Photo bytes to evidence: format sniffing, a bounded and verified decode, EXIF facts, a 64-bit
perceptual hash of the upright image, and metadata-free JPEG variants. Pure: no Flask, no database.

Uploads are untrusted. The format comes from magic bytes; the pixel count is checked from the header
before any pixel is allocated; every byte of compressed data is decoded once, so truncated or
damaged files are refused; EXIF is read defensively and damaged EXIF never refuses a photo.
"""

import io
import math
import threading
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageFile, JpegImagePlugin, PngImagePlugin, WebPImagePlugin
from pillow_heif import HeifImageFile

from backend.services.errors import (
    CorruptImage,
    DomainError,
    ImageTooManyPixels,
    UnsupportedImageType,
)
from backend.services.photos.crops import CropHashes, crop_hashes
from backend.services.photos.exif import TEXT_MAX, ExifFacts, read_exif
from backend.services.photos.formats import jpeg_scan_too_short, sniff_format, webp_size
from backend.services.photos.perceptual import Hashes, hamming, hashes, phash, phash_to_hex  # noqa: F401 - the module's API
from backend.vocabulary import VARIANT_SIZES

MAX_PIXELS = 60_000_000
HASH_BOX = 320  # the hash is taken from the upright image reduced to fit this box
LARGE_FROM_UPLOAD = 2048  # the phone's own long edge (DESIGN.md): such a plain JPEG is `large`

MIME = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "heif": "image/heif"}

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
class ImageFacts:
    format: str  # jpeg | png | heif | webp
    mime: str
    width: int  # as displayed, after EXIF orientation
    height: int
    exif: ExifFacts = field(default_factory=ExifFacts)
    exif_error: str | None = None  # why an EXIF block present in the file could not be read
    phash: int = 0  # signed 64-bit, fits a BIGINT
    phash_mirrored: int = 0  # the hash of the mirror image: a flipped copy is still a copy
    detail: float = 0.0  # perceptual.detail: little of it is a black frame or a blank wall
    # A plain upright JPEG no larger than a phone's upload, with no metadata (EXIF, XMP, IPTC,
    # comments) to strip: its own bytes serve as the `large` size, nothing is rendered.
    serves_as_large: bool = False
    crops: CropHashes | None = None  # window hashes, for copies cropped by up to a fifth

    def as_dict(self) -> dict:
        """Return the facts JSON-ready; the hash as 16 hex digits (JavaScript loses 64-bit ints)."""
        return {"format": self.format, "mime": self.mime, "width": self.width,
                "height": self.height, "exif": self.exif.as_dict(),
                "exif_error": self.exif_error, "phash": phash_to_hex(self.phash),
                "phash_mirrored": phash_to_hex(self.phash_mirrored), "detail": self.detail,
                "serves_as_large": self.serves_as_large}


# --- public functions ----------------------------------------------------------------------
def inspect_image(data: bytes, *, max_pixels: int = MAX_PIXELS) -> ImageFacts:
    """Verify an upload decodes completely and return its facts and perceptual hashes."""
    decoded = _decode(data, max_pixels=max_pixels, box=HASH_BOX)
    return decoded.facts(hashes(decoded.upright(_fit(_rgb(decoded.image), HASH_BOX))))


def prepare_upload(data: bytes, *, max_pixels: int = MAX_PIXELS,
                   thumb: int = VARIANT_SIZES["thumb"], quality: int = 82
                   ) -> tuple[ImageFacts, bytes]:
    """What an upload needs at once, from one decode reduced in the JPEG decoder to just above
    the thumb: its facts, hashes and the thumb. Every scan is still entropy-decoded, so a
    truncated file is refused as surely as by a full decode; the `large` size is the upload
    itself (`serves_as_large`) or is rendered on its first read (`render_variants`)."""
    decoded = _decode(data, max_pixels=max_pixels, box=max(thumb, HASH_BOX))
    small = decoded.upright(_fit(_rgb(decoded.image), max(thumb, HASH_BOX)))
    boxed = _fit(small, HASH_BOX)
    facts = decoded.facts(hashes(boxed), crop_hashes(boxed))
    return facts, _jpeg(_fit(small, thumb), quality, decoded.icc)


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
    digest = hashes(decoded.upright(_fit(src, HASH_BOX)))
    return decoded.facts(digest), {name: rendered[name] for name in sizes}


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
    plain: bool = False  # a JPEG with no metadata to strip, upright, RGB or grey

    @property
    def orientation(self) -> int:
        # libheif already applied the container's rotation, and HEIF says EXIF's must be ignored.
        return 1 if self.format == "heif" else (self.exif.orientation or 1)

    def upright(self, img: Image.Image) -> Image.Image:
        method = _TRANSPOSE.get(self.orientation)
        return img.transpose(method) if method is not None else img

    def facts(self, digest: Hashes, crops: CropHashes | None = None) -> ImageFacts:
        w, h = self.stored_size
        if self.orientation in (5, 6, 7, 8):
            w, h = h, w
        return ImageFacts(self.format, self.mime, w, h, self.exif, self.exif_error,
                          digest.phash, digest.mirrored, digest.detail,
                          self.plain and max(w, h) <= LARGE_FROM_UPLOAD, crops)


_warnings_lock = threading.Lock()


@contextmanager
def _quiet() -> Iterator[None]:
    # Pillow warns (UserWarning) about damaged EXIF or APNG chunks while opening; under an
    # "error" filter that would refuse a photo that is only badly tagged. catch_warnings mutates
    # process state, hence the lock; it guards only header parsing, which takes microseconds.
    with _warnings_lock, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


# PNG, WebP and HEIF cannot be decoded at reduced size: one such decode at a time per process
# (a worker's threads take turns), so two large uploads at once never hold two full canvases.
_FULL_DECODE = threading.Lock()


def _decode(data: bytes, *, max_pixels: int, box: int, mode: str | None = None) -> _Decoded:
    fmt = sniff_format(data[:64])
    if fmt is None:
        raise UnsupportedImageType()
    if fmt == "jpeg":
        return _load(data, fmt, max_pixels=max_pixels, box=box, mode=mode)
    with _FULL_DECODE:
        return _load(data, fmt, max_pixels=max_pixels, box=box, mode=mode)


def _load(data: bytes, fmt: str, *, max_pixels: int, box: int, mode: str | None) -> _Decoded:
    if fmt == "webp" and (size := webp_size(data[:30])):
        # libwebp allocates its canvas while opening: the worst mode's cost before that.
        _check_pixels(size, min(max_pixels, DECODE_BUDGET // _decode_cost("webp", "RGBA")))
    with _failures_as_corrupt(max_pixels):
        with _quiet():
            im = _OPENERS[fmt](io.BytesIO(data))
    with im:
        stored_size = im.size
        _check_pixels(stored_size, max_pixels)
        if fmt == "jpeg" and jpeg_scan_too_short(data):
            raise CorruptImage(_TRUNCATED, reason="compressed data shorter than the frame")
        if fmt != "jpeg":  # refused by its declared size, before a pixel is decoded
            _check_pixels(stored_size, DECODE_BUDGET // _decode_cost(fmt, im.mode), fmt)
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
        plain = fmt == "jpeg" and im.mode in ("RGB", "L") and _no_metadata(im)
        return _Decoded(fmt, mime, stored_size, _shrink(im, box), exif, exif_error,
                        _rgb_icc(im.info.get("icc_profile")), plain)


# Worst-case bytes one decode holds at once: the decoded pixels (Pillow keeps RGB in 4 bytes a
# pixel) and the full-size copy a mode change or the decoder's own buffer adds. JPEG decodes at a
# reduced size (draft) and never comes near it; PNG, WebP and HEIF decode every pixel, so their
# pixel limit is this budget over their cost, and they decode one at a time (_FULL_DECODE): two
# uploads at once in one worker stay under 300 MB (bench/decode_memory.py). 60 MP of RGB PNG
# would hold 240 MB; a 12 MP iPhone HEIC fits.
DECODE_BUDGET = 96 * 1024 * 1024
_REDUCIBLE = {"L", "LA", "RGB", "RGBA", "I", "F"}  # Image.reduce works on these directly
_APP_PLAIN = {"APP0", "APP2", "APP14"}  # JFIF, ICC profile, Adobe colour transform


def _decode_cost(fmt: str, mode: str) -> int:
    """Bytes per pixel a full decode of `fmt` in `mode` holds at its peak."""
    stored = 1 if mode in ("1", "L", "P") else 2 if mode.startswith("I;16") else 4
    copy = 0 if mode in _REDUCIBLE else 13 if mode.startswith("I;16") else 8  # see _rgb
    if fmt in ("heif", "webp"):
        # The decoder's own buffers beside Pillow's; libwebp's measured at 12 bytes a pixel.
        copy += 3 if fmt == "heif" else 12
    elif mode in ("RGBA", "LA"):
        copy += 2  # measured (bench/decode_memory.py): zlib and row buffers of an RGBA PNG
    return stored + copy


def _shrink(img: Image.Image, box: int) -> Image.Image:
    # A full decode (PNG, WebP, HEIF) is reduced at once, so no later step copies it whole.
    if max(img.size) <= 2 * box:
        return img
    source = img if img.mode in _REDUCIBLE else _rgb(img)
    return source.reduce(max(img.size) // box)


def _no_metadata(im: Image.Image) -> bool:
    # EXIF and XMP (APP1) may hold GPS, IPTC (APP13) names and places, COM free text.
    return "comment" not in im.info and all(
        marker in _APP_PLAIN for marker, _ in getattr(im, "applist", []))


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


def _check_pixels(size: tuple[int, int], max_pixels: int, fmt: str | None = None) -> None:
    w, h = size
    if w < 1 or h < 1:
        raise CorruptImage(reason=f"empty image {w}x{h}")
    if w * h > max_pixels:
        kind = f"{fmt.upper()} 格式" if fmt else ""
        raise ImageTooManyPixels(f"照片像素过多（{w}×{h}），{kind}最多允许 {max_pixels:,} 像素",
                                 width=w, height=h, max_pixels=max_pixels)


def _draft_request(size: tuple[int, int], box: int) -> tuple[int, int]:
    # JPEG draft picks the largest 1/2, 1/4, 1/8 scale that keeps both sides >= this request.
    w, h = size
    scale = box / max(w, h)
    return max(1, math.ceil(w * scale)), max(1, math.ceil(h * scale))


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
