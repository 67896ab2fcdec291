"""What the eye sees in a photo, in 64 bits: the DCT perceptual hash (imagehash.phash's bits) of
the upright image and of its mirror image, and how much picture there is to hash at all.

A black frame, a lens cap, a white sky or a blank wall has almost nothing but its lighting, so its
hash is noise or a gradient and "matches" every other such frame; those photos are measured here
(`detail`) and kept out of reuse matching. Pure: no Flask, no database.
"""

from dataclasses import dataclass

import numpy as np
from PIL import Image

_MASK64 = (1 << 64) - 1


def _dct_matrix(n: int) -> np.ndarray:
    k, i = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    # Unnormalised DCT-II as scipy.fftpack.dct computes it; the constant factor does not move
    # the median comparison, so the bits match imagehash.phash.
    return 2.0 * np.cos(np.pi * k * (2 * i + 1) / (2 * n))


_DCT32 = _dct_matrix(32)
_Y, _X = np.mgrid[0:32, 0:32] / 31.0
# Smooth light over a blank surface: a plane and its curvature (side light, lens vignetting).
_SURFACE = np.column_stack([np.ones(32 * 32), _X.ravel(), _Y.ravel(), _X.ravel() ** 2,
                           (_X * _Y).ravel(), _Y.ravel() ** 2])


@dataclass(frozen=True)
class Hashes:
    phash: int  # signed 64-bit, fits a BIGINT
    mirrored: int  # the hash of the left-right mirror image
    detail: float  # grey levels of structure left after smooth lighting is taken away


def grey32(img: Image.Image) -> np.ndarray:
    """The image as the 32x32 grey levels every hash here starts from."""
    if img.mode not in ("L", "RGB"):
        img = img.convert("RGB")
    return np.asarray(img.convert("L").resize((32, 32), Image.Resampling.LANCZOS),
                      dtype=np.float64)


def hash_grey(small: np.ndarray) -> int:
    """Return the signed 64-bit DCT hash of 32x32 grey levels."""
    low = (_DCT32 @ small @ _DCT32.T)[:8, :8]
    bits = np.packbits(low > np.median(low))
    unsigned = int.from_bytes(bits.tobytes(), "big")
    return unsigned - (1 << 64) if unsigned >> 63 else unsigned


def detail(small: np.ndarray) -> float:
    """The spread (standard deviation, grey levels) of 32x32 grey levels around their best
    smooth surface: a lit blank wall's gradient counts for nothing, a house's edges a lot."""
    coeffs, *_ = np.linalg.lstsq(_SURFACE, small.ravel(), rcond=None)
    return float(np.std(small.ravel() - _SURFACE @ coeffs))


def hashes(img: Image.Image) -> Hashes:
    """The hash of `img` and of its mirror image, and how much detail it holds."""
    small = grey32(img)
    return Hashes(hash_grey(small), hash_grey(small[:, ::-1]), round(detail(small), 2))


def phash(img: Image.Image) -> int:
    """Return the 64-bit DCT perceptual hash of `img` (imagehash.phash's bits), signed."""
    return hash_grey(grey32(img))


def phash_to_hex(value: int) -> str:
    """Format a signed or unsigned 64-bit hash as 16 hex digits (imagehash's str form)."""
    return f"{value & _MASK64:016x}"


def hamming(a: int, b: int) -> int:
    """Count the differing bits of two 64-bit hashes, signed or not."""
    return ((a ^ b) & _MASK64).bit_count()
