"""Compare the photo store with the photo rows: objects nobody refers to, rows without bytes.

An upload stores the object before the row, so a crash between the two, or a request that
loses a race for one UUID with other bytes, leaves an orphan object (harmless, found here).
Orphans are taken back by `sweep_orphans` once older than a grace period, never by the
request that made them: the same bytes may be arriving under another UUID at that moment,
stored and not yet committed.
"""

import hashlib
import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from backend.models import AuditEvent, Photo
from backend.models.base import utc_now
from backend.services import audit
from backend.services.photos.variants import JPEG
from backend.storage import ObjectNotFound, ObjectStore, StorageError, StorageUnavailable
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


@dataclass
class Sweep:
    deleted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # keys left, or kept in `kept_in`
    kept_in: Path | None = field(default=None, compare=False)  # this run's recovery folder


# The audit log's words for the bytes a sweep sets out to delete, and those it puts back.
SWEPT_ENTITY, SWEEP_ACTION, PUT_BACK_ACTION = "photo_bytes", "delete_orphan", "put_back_orphan"


def sweep_orphans(session, store: ObjectStore, *, older_than: timedelta, recovery: Path,
                  report: StorageReport | None = None) -> Sweep:
    """Delete the orphan objects last written more than `older_than` ago.

    An upload of the same bytes may store them again at any moment and commit its row. One
    that commits after the deletes finds its original gone and stores it again
    (`ingest._store_if_missing`); so a photo's bytes are taken only if every orphan object of
    them is old, the original's age read first, and the original is deleted last: a thumb
    taken means the original was taken too. For an upload that commits between this look at
    the rows and the deletes, the rows are read again after them and the bytes, held until
    then, are put back; the audit log records each photo's bytes it sets out to delete, and
    those it put back (`swept`). The bytes are written first to a folder of this run's own
    under `recovery` (`Sweep.kept_in`; two sweeps at once keep their own copies), named by
    their key with "/" as "_", and removed once put back or known to be no photo's: those
    that could not be put back stay there (as do all of them if the sweep is killed midway),
    and the sweep goes on with the next photo's. Ends the session's transaction (each look at
    the rows starts afresh), so call it with nothing pending."""
    report = report or check_storage(session, store)
    cutoff = utc_now() - older_than
    by_sha: dict[str, list[tuple[str, str]]] = {}
    for key in report.orphan_objects:
        if (parsed := parse_key(key)) is not None:  # anything else is not ours to delete
            by_sha.setdefault(parsed[1], []).append((parsed[0], key))
    sweep = Sweep(kept_in=recovery / f"{utc_now():%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}")
    for sha, keys in by_sha.items():
        keys.sort(key=lambda item: item[0] != ORIGINAL)  # the original's age first
        try:
            sweep.deleted += _sweep_one(session, store, sha, [key for _, key in keys],
                                        cutoff, sweep.kept_in)
        except (StorageError, OSError, SQLAlchemyError):
            sweep.failed += [key for _, key in keys]
    session.rollback()
    if sweep.kept_in.exists() and not any(sweep.kept_in.iterdir()):
        sweep.kept_in.rmdir()
    return sweep


def _sweep_one(session, store: ObjectStore, sha: str, keys: list[str], cutoff: datetime,
               kept_in: Path) -> list[str]:
    held = {}
    for key in keys:
        try:
            if store.modified(key) > cutoff:
                return []  # written again since the listing: an upload may be under way
            held[key] = store.get(key)  # until the rows are read again after the deletes
        except ObjectNotFound:
            continue
    if not held or _claimed(session, sha) is not None:
        return []
    # Committed before the first delete: an upload that commits after the rows' second reading
    # below finds this record, and only then looks for its bytes (`swept`).
    audit.record(session, None, SWEEP_ACTION, SWEPT_ENTITY, sha, {"keys": list(held)})
    session.commit()
    # On disk before the first delete: a sweep killed past it (OOM, power) loses no bytes.
    _keep(kept_in, held)
    left = dict(held)  # bytes that may be a photo's only copy, until put back or known not
    try:
        for key in reversed(held):  # the original last
            store.delete(key)
        mime = _claimed(session, sha)
        if mime is None:
            left.clear()
            return list(held)
        for key, data in held.items():  # a photo committed meanwhile holds them
            if _put_back(store, key, data, sha, mime):
                del left[key]
        audit.record(session, None, PUT_BACK_ACTION, SWEPT_ENTITY, sha,
                     {"keys": [key for key in held if key not in left]})
        try:
            session.commit()
        except SQLAlchemyError:  # the bytes are back; only the note of it is lost
            session.rollback()
    finally:
        _release(kept_in, [key for key in held if key not in left])
    if left:
        raise StorageUnavailable(put_back_failed=sorted(left), kept_in=str(kept_in))
    return []


def swept(session, sha: str) -> bool:
    """Whether a sweep ever set out to delete these bytes. Only then can an upload's objects be
    gone once its row is committed: the sweep records it, committed, before its deletes, and
    puts back the bytes of any photo committed before its second reading of the rows; an
    upload committed after that reading finds the record when it asks here after its commit.
    So an upload asks the store (a HEAD) only for bytes a sweep has touched."""
    return session.scalar(select(AuditEvent.id).where(
        AuditEvent.entity == SWEPT_ENTITY, AuditEvent.entity_id == sha,
        AuditEvent.action == SWEEP_ACTION).limit(1)) is not None


def _claimed(session, sha: str) -> str | None:
    """The content type of a committed photo holding these bytes now, or None."""
    session.rollback()  # end any transaction: rows committed since it began count
    return session.scalar(select(Photo.mime).where(Photo.sha256 == sha).limit(1))


def _put_back(store: ObjectStore, key: str, data: bytes, sha: str, mime: str) -> bool:
    """Put back bytes a photo committed meanwhile holds; False if the store refuses them."""
    original = parse_key(key)[0] == ORIGINAL
    try:
        store.put(key, data, content_type=mime if original else JPEG,
                  sha256=sha if original else hashlib.sha256(data).hexdigest())
    except StorageError:
        return False
    return True


def _keep(folder: Path, held: dict[str, bytes]) -> None:
    """Write bytes into `folder`, named by their key with "/" as "_", through to the disk."""
    folder.mkdir(parents=True, exist_ok=True)
    for key, data in held.items():
        with open(folder / key.replace("/", "_"), "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)  # the new names too
    finally:
        os.close(descriptor)


def _release(folder: Path, keys: list[str]) -> None:
    """Remove the kept copies of bytes that are put back or known to be no photo's."""
    for key in keys:
        (folder / key.replace("/", "_")).unlink(missing_ok=True)
