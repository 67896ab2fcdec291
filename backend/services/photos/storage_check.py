"""Compare the photo store with the photo rows: objects nobody refers to, rows without bytes.

An upload stores the object before the row, so a crash between the two leaves an orphan
object (harmless, found here) and never a row without its photo. A request that loses a race
for one UUID with other bytes takes its own objects back (`discard_unreferenced`).
"""

from dataclasses import dataclass, field

from sqlalchemy import select

from backend.models import Photo
from backend.storage import ObjectStore
from backend.storage.keys import PHOTO_PREFIX, original_key, variant_key


@dataclass
class StorageReport:
    objects: int = 0
    rows: int = 0
    orphan_objects: list[str] = field(default_factory=list)
    missing_objects: list[tuple[str, str]] = field(default_factory=list)  # (photo id, key)


def photo_keys(sha: str) -> tuple[str, ...]:
    """Every object one photo's bytes are stored as: the original and its derived sizes."""
    return (*required_keys(sha), variant_key(sha, "large"))


def required_keys(sha: str) -> tuple[str, str]:
    """The objects an upload stores at once; `large` is rendered on its first read
    (`variants`), so its absence is no loss."""
    return (original_key(sha), variant_key(sha, "thumb"))


def discard_unreferenced(session, store: ObjectStore, sha: str) -> bool:
    """Delete the objects of `sha` unless a committed photo row holds the same bytes; return
    whether they were deleted. An upload of the same bytes under another UUID at this very
    moment puts them back after its commit (`ingest.ensure_stored`)."""
    if session.scalar(select(Photo.id).where(Photo.sha256 == sha).limit(1)) is not None:
        return False
    for key in photo_keys(sha):
        store.delete(key)
    return True


def check_storage(session, store: ObjectStore) -> StorageReport:
    report = StorageReport()
    present = set(store.list(PHOTO_PREFIX))
    report.objects = len(present)
    expected: set[str] = set()
    for photo_id, sha in session.execute(select(Photo.id, Photo.sha256)):
        report.rows += 1
        expected.update(photo_keys(sha))
        for key in required_keys(sha):
            if key not in present:
                report.missing_objects.append((photo_id, key))
    report.orphan_objects = sorted(present - expected)
    return report
