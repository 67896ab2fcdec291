"""Compare the photo store with the photo rows: objects nobody refers to, rows without bytes.

An upload stores the object before the row, so a crash between the two, or a request that
loses a race for one UUID with other bytes, leaves an orphan object (harmless, found here).
Orphans are taken back by `sweep_orphans` once older than a grace period, never by the
request that made them: the same bytes may be arriving under another UUID at that moment,
stored and not yet committed.
"""

import hashlib
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from backend.models import Photo
from backend.models.base import utc_now
from backend.storage import ObjectNotFound, ObjectStore
from backend.storage.keys import (
    ORIGINAL,
    PHOTO_PREFIX,
    original_key,
    parse_key,
    sha_from_key,
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


# Longer than any upload takes from storing its bytes to committing its row (under a second;
# seconds when the database is busy): what the sweep waits before its last look.
SETTLE = timedelta(minutes=10)


@dataclass
class _Taken:
    key: str
    held: Path  # the bytes, kept until the last look


def sweep_orphans(session, store: ObjectStore, *, older_than: timedelta,
                  settle: timedelta = SETTLE, report: StorageReport | None = None,
                  wait=time.sleep) -> list[str]:
    """Delete the orphan objects last written more than `older_than` ago; return their keys.

    An upload of the same bytes can store them just before a delete and commit its row just
    after the sweep looked for one. So each object's bytes are kept aside as it is deleted;
    after `settle`, longer than any upload takes from storing to committing, the rows are read
    once more and whatever a photo now holds is put back. Ends the session's transaction (each
    look at the rows starts afresh), so call it with nothing pending."""
    report = report or check_storage(session, store)
    cutoff = utc_now() - older_than
    with tempfile.TemporaryDirectory(prefix="storage-sweep-") as folder:
        taken = [t for key in report.orphan_objects
                 if (t := _take(session, store, key, cutoff, Path(folder))) is not None]
        if not taken:
            return []
        session.rollback()  # hold no transaction (nor its snapshot) while waiting
        wait(settle.total_seconds())
        claimed = _claimed(session, {sha_from_key(t.key) for t in taken})
        for t in taken:
            if (sha := sha_from_key(t.key)) in claimed:
                _put_back(store, t, mime=claimed[sha])
        return [t.key for t in taken if sha_from_key(t.key) not in claimed]


def _take(session, store: ObjectStore, key: str, cutoff: datetime,
          folder: Path) -> _Taken | None:
    """Delete one orphan if it is old and still no photo's, keeping its bytes aside."""
    sha = sha_from_key(key)
    try:
        if sha is None or store.modified(key) > cutoff or _claimed(session, {sha}):
            return None
        held = folder / key.replace("/", "_")
        with store.open(key) as stream, held.open("wb") as out:
            shutil.copyfileobj(stream, out)
    except ObjectNotFound:
        return None
    store.delete(key)
    return _Taken(key, held)


def _claimed(session, shas: set[str]) -> dict[str, str]:
    """{sha: the photo's content type} for the shas a committed photo row holds now."""
    session.rollback()  # end any transaction: rows committed since it began count
    return dict(session.execute(select(Photo.sha256, Photo.mime).where(
        Photo.sha256.in_(sorted(shas)))).all())


def _put_back(store: ObjectStore, taken: _Taken, *, mime: str) -> None:
    variant = parse_key(taken.key)[0]
    with taken.held.open("rb") as data:
        digest = hashlib.file_digest(data, "sha256").hexdigest()
        data.seek(0)
        store.put(taken.key, data, sha256=digest,
                  content_type=mime if variant == ORIGINAL else "image/jpeg")
