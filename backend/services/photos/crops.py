"""The same picture cropped by up to a fifth from any edge or corner: hashes of windows.

The DCT hash of a whole frame moves far when a fifth of the frame is cut away, so each photo
keeps two more hashes (its `centre`, the middle 60 % both ways, which every such crop still
holds whole, and its `frame`), and a new photo computes two families of windows at 2.5 % steps:
where a stored photo's centre would lie if the new one were its crop, and where a stored crop
would lie if the new one were its original. A stored hash that shares a band key (below) with
a family member and lies within `crop_distance` bits of the family is the same picture.
Measured on drawn village houses of one style and angle (tests/houses.py): crops of 5-20 % from
each edge and corner, recompressed, lie within 4 bits; distinct houses no nearer than 8.

Band keys. A family is ~280 hashes, so the lookup cannot afford what the whole-photo lookup
does (every 16-bit band and each a bit away): even the exact 16-bit bands of a family meet
6,000-10,000 random rows at a million photos. Each hash is cut instead into three bands of 21,
21 and 22 bits, twice: as it is and turned by 11 bits. A window within 4 bits of a stored hash
nearly always shares one of those six bands whole with it, and a random hash shares one with a
chance of about 5 in 2^21, so a family's ~1,100 band keys meet ~450 random rows at a million
photos. On 60 drawn houses, each cropped 8 ways (2-20 %) and looked up both ways round, the
keys find 941 of the 943 crops whose nearest window lies within 4 bits (16-bit bands found
934), and no more look-alikes among 3,540 pairs of distinct houses (one, at 4 bits, both ways).

Every window is read from the grey image as 32x32 cell means (each cell the mean of its area)
in one matrix product, not ~560 resizes. Pure: no Flask, no database.
"""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image

from backend.services.photos.perceptual import _DCT32

GREY_BOX = 128  # windows are read from the grey image reduced to fit this box
_CUTS = np.round(np.arange(-0.2, 0.2001, 0.025), 4)  # a fraction cut off; negative: far edge
_CELLS = np.linspace(0.0, 1.0, 33)
KEY_TURN = 11  # bits the second layout is turned by (rotated right)
KEY_BANDS = ((43, 21), (22, 21), (0, 22))  # (lowest bit, width) of each band of a layout
_MASK64 = (1 << 64) - 1
_DCT8 = _DCT32[:8]


def _kept(cut: float) -> tuple[float, float]:
    return (cut, 1.0) if cut >= 0 else (0.0, 1.0 + cut)


def _centre_within(cut: float) -> tuple[float, float]:
    start, end = _kept(cut)
    return (0.2 - start) / (end - start), (0.8 - start) / (end - start)


_STORED = ((0.2, 0.8), (0.0, 1.0))  # the centre, the frame: the same span both ways
_CENTRES = tuple(_centre_within(c) for c in _CUTS)
_CROPS = tuple(_kept(c) for c in _CUTS)


@dataclass(frozen=True)
class CropHashes:
    centre: int  # the middle 60 % of the photo, both ways
    frame: int  # the whole photo, read the same way as the windows
    centres: tuple[int, ...] = ()  # where a stored photo's centre lies if this is its crop
    crops: tuple[int, ...] = ()  # where a stored crop lies if this is its original


def crop_hashes(img: Image.Image) -> CropHashes:
    """The stored window hashes of an upright image and the families to look up."""
    grey = img.convert("L")
    if max(grey.size) > GREY_BOX:
        grey = grey.copy()
        grey.thumbnail((GREY_BOX, GREY_BOX), Image.Resampling.BOX)
    pixels = np.asarray(grey, dtype=np.float64)
    centre, frame = (_hashes(pixels, (span,))[0] for span in _STORED)
    return CropHashes(centre, frame, tuple(sorted(set(_hashes(pixels, _CENTRES)))),
                      tuple(sorted(set(_hashes(pixels, _CROPS)))))


def _hashes(pixels: np.ndarray, spans: tuple[tuple[float, float], ...]) -> list[int]:
    """The DCT hash (perceptual.hash_grey's bits) of the 32x32 cell means of every window that
    pairs one of `spans` across with one of `spans` down (fractions of the image).

    Cell means are separable, so are the DCT's rows and columns: the low 8x8 frequencies of all
    windows are one product of the pixels with each side's span weights folded into the DCT."""
    down = _folded(spans, pixels.shape[0])  # (spans, 8, height)
    across = _folded(spans, pixels.shape[1])  # (spans, 8, width)
    n = len(spans)
    low = down.reshape(n * 8, -1) @ pixels @ across.reshape(n * 8, -1).T
    low = low.reshape(n, 8, n, 8).transpose(2, 0, 1, 3).reshape(n * n, 64)  # across, down
    bits = np.packbits(low > np.median(low, axis=1, keepdims=True), axis=1)
    return bits.view(">i8").ravel().tolist()


@lru_cache(maxsize=64)
def _folded(spans: tuple[tuple[float, float], ...], size: int) -> np.ndarray:
    """The low DCT rows folded into each span's cell weights, (spans, 8, size). Cached: a
    phone sends one or two image sizes, and building them was half of the windows' time."""
    folded = _DCT8 @ _cell_weights(spans, size)
    folded.flags.writeable = False
    return folded


def _cell_weights(spans: tuple[tuple[float, float], ...], size: int) -> np.ndarray:
    """(spans, 32, size): the share of each pixel in each of 32 equal cells of each span."""
    edges = np.array([(start + (end - start) * _CELLS) * size for start, end in spans])
    low, high = edges[:, :-1, None], edges[:, 1:, None]
    pixel = np.arange(size)[None, None, :]
    overlap = np.clip(np.minimum(high, pixel + 1) - np.maximum(low, pixel), 0, None)
    return overlap / (high - low)


def window_keys(digest: int) -> tuple[int, ...]:
    """The six band keys of a signed 64-bit hash: three bands as it is, three turned."""
    unsigned = digest & _MASK64
    turned = (unsigned >> KEY_TURN) | (unsigned << (64 - KEY_TURN)) & _MASK64
    return tuple((layout >> low) & ((1 << width) - 1)
                 for layout in (unsigned, turned) for low, width in KEY_BANDS)


def family_keys(family: tuple[int, ...]) -> list[list[int]]:
    """The distinct values of each of the six band keys (window_keys) over a family."""
    unsigned = np.array(family, dtype=np.int64).view(np.uint64)
    turned = (unsigned >> np.uint64(KEY_TURN)) | (unsigned << np.uint64(64 - KEY_TURN))
    return [np.unique((layout >> np.uint64(low)) & np.uint64((1 << width) - 1)).tolist()
            for layout in (unsigned, turned) for low, width in KEY_BANDS]


def nearest(digests: np.ndarray, family: tuple[int, ...]) -> np.ndarray:
    """For each of `digests` (signed 64-bit), how many bits it differs from its nearest
    family member."""
    members = np.array(family, dtype=np.int64)
    # Unsigned: numpy counts the bits of an int64's absolute value.
    differing = (digests[:, None] ^ members[None, :]).view(np.uint64)
    return np.bitwise_count(differing).min(axis=1)
