"""Object keys: what a valid key is, and where each photo's and document's bytes live.

Layout:

    photos/original/{sha[:2]}/{sha256}        the bytes as received, content-addressed
    photos/thumb/{sha[:2]}/{sha256}.jpg       small JPEG derived from the original
    photos/large/{sha[:2]}/{sha256}.jpg       screen-sized JPEG derived from the original
    attachments/{sha[:2]}/{sha256}            a case's document (PDF, JPEG, PNG) as received

`sha256` is the lowercase hex SHA-256 of the *original* bytes, also for the derived sizes, so
all three keys follow from one photo row. Content addressing makes an upload retried by a
phone land on the same key instead of creating a second object, and lets `storage-check`
compare the store with the database key by key (it lists only `PHOTO_PREFIX`, so documents
under `ATTACHMENT_PREFIX` are never taken for orphan photos). The `{sha[:2]}` level keeps any
one directory of the local store (and any one listing page) to a few thousand entries.
"""

import re

PHOTO_PREFIX = "photos/"
ATTACHMENT_PREFIX = "attachments/"
ORIGINAL = "original"
VARIANTS = ("thumb", "large")

# Keys map to file paths on the local store and on stores like rclone or MinIO: allow only
# plain path segments, none hidden (that also rules out "." and ".." and our temp files).
_KEY_RE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*")
_PREFIX_RE = re.compile(r"([A-Za-z0-9_-][A-Za-z0-9._-]*/)*([A-Za-z0-9_-][A-Za-z0-9._-]*)?")
_SHA_RE = re.compile(r"[0-9a-f]{64}")
_PHOTO_KEY_RE = re.compile(
    r"photos/(?P<variant>original|thumb|large)/(?P<fan>[0-9a-f]{2})/(?P<sha>[0-9a-f]{64})"
    r"(?P<ext>\.jpg)?"
)
MAX_KEY_LENGTH = 1024  # the S3 limit, in bytes; keys here are ASCII


class InvalidKey(ValueError):
    """A key or prefix that could escape the store's root or is not a canonical path."""


def validate_key(key: str) -> str:
    """Return `key` unchanged if it is a safe object key, else raise `InvalidKey`."""
    if not isinstance(key, str) or len(key) > MAX_KEY_LENGTH or not _KEY_RE.fullmatch(key):
        raise InvalidKey(f"invalid object key: {key!r}")
    return key


def validate_prefix(prefix: str) -> str:
    """Return `prefix` unchanged if it is empty or a safe key prefix, else raise `InvalidKey`."""
    if not isinstance(prefix, str) or len(prefix) > MAX_KEY_LENGTH:
        raise InvalidKey(f"invalid key prefix: {prefix!r}")
    if not _PREFIX_RE.fullmatch(prefix):
        raise InvalidKey(f"invalid key prefix: {prefix!r}")
    return prefix


def _normalise_sha(sha256: str) -> str:
    sha = sha256.lower() if isinstance(sha256, str) else ""
    if not _SHA_RE.fullmatch(sha):
        raise ValueError(f"not a hex SHA-256: {sha256!r}")
    return sha


def original_key(sha256: str) -> str:
    """Return the key of the original bytes whose SHA-256 is `sha256`."""
    sha = _normalise_sha(sha256)
    return f"{PHOTO_PREFIX}{ORIGINAL}/{sha[:2]}/{sha}"


def variant_key(sha256: str, variant: str) -> str:
    """Return the key of a derived size (`thumb` or `large`) of the original `sha256`."""
    if variant == ORIGINAL:
        return original_key(sha256)
    if variant not in VARIANTS:
        raise ValueError(f"unknown photo variant: {variant!r}")
    sha = _normalise_sha(sha256)
    return f"{PHOTO_PREFIX}{variant}/{sha[:2]}/{sha}.jpg"


def attachment_key(sha256: str) -> str:
    """Return the key of the document whose SHA-256 is `sha256`."""
    sha = _normalise_sha(sha256)
    return f"{ATTACHMENT_PREFIX}{sha[:2]}/{sha}"


def parse_key(key: str) -> tuple[str, str] | None:
    """Return `(variant, sha256)` for a key in the photo layout, or None for any other key."""
    match = _PHOTO_KEY_RE.fullmatch(key)
    if match is None:
        return None
    variant, sha = match["variant"], match["sha"]
    # Exactly one spelling per object: fan-out must match, and only derived sizes end in .jpg.
    if match["fan"] != sha[:2] or (variant == ORIGINAL) == bool(match["ext"]):
        return None
    return variant, sha


def sha_from_key(key: str) -> str | None:
    """Return the original's SHA-256 named by a photo key, or None if `key` is not one."""
    parsed = parse_key(key)
    return parsed[1] if parsed else None
