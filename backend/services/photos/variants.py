"""A photo's stored sizes. At upload: the original and the thumb. The `large` size is the upload
itself when it is a plain phone JPEG (no metadata, no larger than the phone makes it), else it is
rendered from the original on its first read and stored under its content key; two first reads
at once render the same bytes and each store's put is atomic, so either may win."""

import hashlib

from backend.services.photos import imaging
from backend.storage import ObjectStore
from backend.storage.keys import ORIGINAL, original_key, variant_key
from backend.vocabulary import VARIANT_SIZES

JPEG = "image/jpeg"


def store_upload(store: ObjectStore, sha: str, data: bytes, mime: str,
                 thumb: bytes | None) -> None:
    """Put what an upload needs at once (without a thumb, it is drawn on its first read);
    `sha` was computed from `data` by the caller."""
    store.put(original_key(sha), data, content_type=mime, sha256=sha, hashed=True)
    if thumb is not None:
        store.put(variant_key(sha, "thumb"), thumb, content_type=JPEG,
                  sha256=hashlib.sha256(thumb).hexdigest(), hashed=True)


def stored_variant(photo, variant: str) -> str:
    """The variant whose object holds `variant`'s bytes: `large` may be the original."""
    return ORIGINAL if variant == "large" and photo.large_is_original else variant


def ensure_variant(store: ObjectStore, sha: str, variant: str, *,
                   max_pixels: int = imaging.MAX_PIXELS) -> str:
    """Return the key of `variant` of the original `sha`, rendering and storing it if missing."""
    key = variant_key(sha, variant)
    if variant == ORIGINAL or store.exists(key):
        return key
    rendered = imaging.render_variants(store.get(original_key(sha)), max_pixels=max_pixels,
                                       sizes={variant: VARIANT_SIZES[variant]})[variant]
    store.put(key, rendered, content_type=JPEG, sha256=hashlib.sha256(rendered).hexdigest(),
              hashed=True)
    return key


def photo_object(store: ObjectStore, photo, variant: str) -> tuple[str, str]:
    """Return (key, content type) of a photo's `variant`, rendering it on its first read."""
    stored = stored_variant(photo, variant)
    # The photo was accepted at its size, so its size bounds the render, whatever the setting.
    key = ensure_variant(store, photo.sha256, stored,
                         max_pixels=max(imaging.MAX_PIXELS, photo.width * photo.height))
    return key, photo.mime if stored == ORIGINAL else JPEG
