"""Compare the photo store with the photo rows: objects nobody refers to, rows without bytes.

An upload stores the object before the row, so a crash between the two, or a request that
loses a race for one UUID with other bytes, leaves an orphan object (harmless, found here) and
never a row without its photo. Orphans are taken back by `sweep_orphans` once older than a
grace period, never by the request that made them: the same bytes may be arriving under
another UUID at that moment, stored and not yet committed, and a delete then would leave that
photo's row without its bytes.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from backend.models import Photo
from backend.models.base import utc_now
from backend.storage import ObjectNotFound, ObjectStore
from backend.storage.keys import PHOTO_PREFIX, original_key, sha_from_key, variant_key


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


def sweep_orphans(session, store: ObjectStore, *, older_than: timedelta,
                  report: StorageReport | None = None) -> list[str]:
    """Delete the orphan objects last written more than `older_than` ago; return their keys.

    Each is checked again just before its delete: an upload renews an object's time when it
    stores it (`ObjectStore.modified`), and its row is committed milliseconds later, so an
    object that is both old and unreferenced now is no upload's in flight."""
    report = report or check_storage(session, store)
    cutoff = utc_now() - older_than
    return [key for key in report.orphan_objects if _sweep_one(session, store, key, cutoff)]


def _sweep_one(session, store: ObjectStore, key: str, cutoff: datetime) -> bool:
    try:
        if store.modified(key) > cutoff:
            return False
    except ObjectNotFound:
        return False
    sha = sha_from_key(key)
    session.rollback()  # a fresh snapshot: rows committed since the listing count
    if sha is None or session.scalar(
            select(Photo.id).where(Photo.sha256 == sha).limit(1)) is not None:
        return False
    store.delete(key)
    return True
