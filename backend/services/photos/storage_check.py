"""Compare the photo store with the photo rows: objects nobody refers to, rows without bytes.

An upload stores the object before the row, so a crash between the two leaves an orphan
object (harmless, found here) and never a row without its photo.
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


def check_storage(session, store: ObjectStore) -> StorageReport:
    report = StorageReport()
    present = set(store.list(PHOTO_PREFIX))
    report.objects = len(present)
    expected: set[str] = set()
    for photo_id, sha in session.execute(select(Photo.id, Photo.sha256)):
        report.rows += 1
        for key in (original_key(sha), variant_key(sha, "thumb"), variant_key(sha, "large")):
            expected.add(key)
            if key not in present:
                report.missing_objects.append((photo_id, key))
    report.orphan_objects = sorted(present - expected)
    return report
