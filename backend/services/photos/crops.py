"""The same picture cropped by up to a fifth from any edge or corner: hashes of windows.

The DCT hash of a whole frame moves far when a fifth of the frame is cut away, so each photo
keeps two more hashes (its `centre`, the middle 60 % both ways, which every such crop still
holds whole, and its `frame`), and a new photo computes two families of windows at 2.5 % steps:
where a stored photo's centre would lie if the new one were its crop, and where a stored crop
would lie if the new one were its original. A family member that shares a 16-bit band with a
stored hash and lies within `crop_distance` bits of it is the same picture. Measured on drawn
village houses of one style and angle (tests/houses.py): crops of 5-20 % from each edge and
corner, recompressed, lie within 4 bits; distinct houses no nearer than 8.

Every window is read from the grey image as 32x32 cell means (each cell the mean of its area)
in one matrix product, not ~560 resizes. Pure: no Flask, no database.
"""

from dataclasses import dataclass

import numpy as np
from PIL import Image

from backend.services.photos.perceptual import _DCT32

GREY_BOX = 128  # windows are read from the grey image reduced to fit this box
_CUTS = np.round(np.arange(-0.2, 0.2001, 0.025), 4)  # a fraction cut off; negative: far edge
_CELLS = np.linspace(0.0, 1.0, 33)
_DCT8 = _DCT32[:8]


def _kept(cut: float) -> tuple[float, float]:
    return (cut, 1.0) if cut >= 0 else (0.0, 1.0 + cut)


def _centre_within(cut: float) -> tuple[float, float]:
    start, end = _kept(cut)
    return (0.2 - start) / (end - start), (0.8 - start) / (end - start)


_STORED = [(0.2, 0.8), (0.0, 1.0)]  # the centre, the frame: the same span both ways
_CENTRES = [_centre_within(c) for c in _CUTS]
_CROPS = [_kept(c) for c in _CUTS]


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
    centre, frame = (_hashes(pixels, [span])[0] for span in _STORED)
    return CropHashes(centre, frame, tuple(sorted(set(_hashes(pixels, _CENTRES)))),
                      tuple(sorted(set(_hashes(pixels, _CROPS)))))


def _hashes(pixels: np.ndarray, spans: list[tuple[float, float]]) -> list[int]:
    """The DCT hash (perceptual.hash_grey's bits) of the 32x32 cell means of every window that
    pairs one of `spans` across with one of `spans` down (fractions of the image).

    Cell means are separable, so are the DCT's rows and columns: the low 8x8 frequencies of all
    windows are one product of the pixels with each side's span weights folded into the DCT."""
    down = _DCT8 @ _cell_weights(spans, pixels.shape[0])  # (spans, 8, height)
    across = _DCT8 @ _cell_weights(spans, pixels.shape[1])  # (spans, 8, width)
    n = len(spans)
    low = down.reshape(n * 8, -1) @ pixels @ across.reshape(n * 8, -1).T
    low = low.reshape(n, 8, n, 8).transpose(2, 0, 1, 3).reshape(n * n, 64)  # across, down
    bits = np.packbits(low > np.median(low, axis=1, keepdims=True), axis=1)
    return [int(v) for v in bits.view(">i8").ravel()]


def _cell_weights(spans: list[tuple[float, float]], size: int) -> np.ndarray:
    """(spans, 32, size): the share of each pixel in each of 32 equal cells of each span."""
    edges = np.array([(start + (end - start) * _CELLS) * size for start, end in spans])
    low, high = edges[:, :-1, None], edges[:, 1:, None]
    pixel = np.arange(size)[None, None, :]
    overlap = np.clip(np.minimum(high, pixel + 1) - np.maximum(low, pixel), 0, None)
    return overlap / (high - low)
