"""The same picture cropped by up to a fifth from any edge or corner: hashes of windows.

The DCT hash of a whole frame moves far when a fifth of the frame is cut away, so each photo
keeps two more hashes (its `centre`, the middle 60 % both ways, which every such crop still
holds whole, and its `frame`), and a new photo computes two families of windows at 2.5 % steps:
where a stored photo's centre would lie if the new one were its crop, and where a stored crop
would lie if the new one were its original. A family member that shares a 16-bit band with a
stored hash and lies within `crop_distance` bits of it is the same picture. Measured on drawn
village houses of one style and angle (tests/houses.py): crops of 5-20 % from each edge and
corner, recompressed, lie within 4 bits; distinct houses no nearer than 8.

Windows are read from one summed-area table of the grey image (each cell the mean of its area),
so the ~560 windows cost a few array operations, not ~560 resizes. Pure: no Flask, no database.
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


def _grid(per_axis: list[tuple[float, float]]) -> np.ndarray:
    """Every pairing of an x span with a y span, as rows (left, right, top, bottom)."""
    return np.array([(*x, *y) for x in per_axis for y in per_axis])


_STORED = np.array([(0.2, 0.8, 0.2, 0.8), (0.0, 1.0, 0.0, 1.0)])
_CENTRES = _grid([_centre_within(c) for c in _CUTS])
_CROPS = _grid([_kept(c) for c in _CUTS])


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
    table = _summed_area(np.asarray(grey, dtype=np.float64))
    centre, frame = _hashes(table, _STORED)
    return CropHashes(centre, frame, tuple(sorted(set(_hashes(table, _CENTRES)))),
                      tuple(sorted(set(_hashes(table, _CROPS)))))


def _summed_area(grey: np.ndarray) -> np.ndarray:
    table = np.zeros((grey.shape[0] + 1, grey.shape[1] + 1))
    table[1:, 1:] = grey.cumsum(0).cumsum(1)
    return table


def _hashes(table: np.ndarray, windows: np.ndarray) -> list[int]:
    """The DCT hash (perceptual.hash_grey's bits) of 32x32 cell means of each window."""
    h, w = table.shape[0] - 1, table.shape[1] - 1
    left, right, top, bottom = windows.T
    xs = (left[:, None] + (right - left)[:, None] * _CELLS) * w
    ys = (top[:, None] + (bottom - top)[:, None] * _CELLS) * h
    corners = _read(table, *np.broadcast_arrays(ys[:, :, None], xs[:, None, :]))
    sums = corners[:, 1:, 1:] - corners[:, :-1, 1:] - corners[:, 1:, :-1] + corners[:, :-1, :-1]
    cells = sums / (np.diff(ys, axis=1)[:, :, None] * np.diff(xs, axis=1)[:, None, :])
    low = (_DCT8 @ cells @ _DCT8.T).reshape(len(windows), 64)
    bits = np.packbits(low > np.median(low, axis=1, keepdims=True), axis=1)
    return [int(v) for v in bits.view(">i8").ravel()]


def _read(table: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    # The summed-area table at fractional points, bilinear: exact area means of any box.
    h, w = table.shape[0] - 1, table.shape[1] - 1
    x0 = np.clip(np.floor(x).astype(int), 0, w - 1)
    y0 = np.clip(np.floor(y).astype(int), 0, h - 1)
    fx, fy = x - x0, y - y0
    return ((1 - fy) * ((1 - fx) * table[y0, x0] + fx * table[y0, x0 + 1])
            + fy * ((1 - fx) * table[y0 + 1, x0] + fx * table[y0 + 1, x0 + 1]))
