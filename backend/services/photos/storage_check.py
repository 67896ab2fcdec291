"""Compare the photo store with the photo rows: objects nobody refers to, rows without bytes.

An upload stores the object before the row, so a crash between the two, or a request that
loses a race for one UUID with other bytes, leaves an orphan object (harmless, found here).
Orphans are taken back by `sweep_orphans` once older than a grace period, never by the
request that made them: the same bytes may be arriving under another UUID at that moment,
stored and not yet committed.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from backend.models import Photo
from backend.models.base import utc_now
from backend.storage import ObjectNotFound, ObjectStore
from backend.storage.keys import (
    ORIGINAL,
    PHOTO_PREFIX,
    original_key,
    parse_key,
    variant_key,
)


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

    An upload of the same bytes may store them again at any moment and commit its row: one
    that commits after a delete finds its object gone and puts it back itself
    (`ingest.ingest_photo`); for one that commits between this check of the rows and the
    delete, the rows are read again after the delete and the bytes, held until then, are put
    back. Ends the session's transaction (each look at the rows starts afresh), so call it
    with nothing pending."""
    report = report or check_storage(session, store)
    cutoff = utc_now() - older_than
    deleted = [key for key in report.orphan_objects if _sweep_one(session, store, key, cutoff)]
    session.rollback()
    return deleted


def _sweep_one(session, store: ObjectStore, key: str, cutoff: datetime) -> bool:
    parsed = parse_key(key)
    if parsed is None:
        return False  # not a photo's object: not ours to delete
    variant, sha = parsed
    try:
        if store.modified(key) > cutoff:
            return False
        held = store.get(key)  # until the rows are read again after the delete
    except ObjectNotFound:
        return False
    if _claimed(session, sha) is not None:
        return False
    store.delete(key)
    if (mime := _claimed(session, sha)) is None:
        return True
    if variant == ORIGINAL:
        store.put(key, held, sha256=sha, content_type=mime)
    else:
        store.put(key, held, sha256=hashlib.sha256(held).hexdigest(), content_type="image/jpeg")
    return False


def _claimed(session, sha: str) -> str | None:
    """The content type of a committed photo holding these bytes now, or None."""
    session.rollback()  # end any transaction: rows committed since it began count
    return session.scalar(select(Photo.mime).where(Photo.sha256 == sha).limit(1))
