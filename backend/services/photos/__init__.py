"""Photo evidence: ingest (`ingest`), decoding and derived sizes (`imaging`), EXIF facts
(`exif`), the flags computed from them (`checks`) and from what the database holds around a
photo (`flagging`), a reviewer's work on flags (`flags`) and the store-versus-database audit
(`storage_check`).
"""

from backend.services.photos.flagging import recheck_household_photos
from backend.services.photos.ingest import (
    IngestResult,
    PhotoMeta,
    content_location,
    get_photo,
    ingest_photo,
)

__all__ = ["IngestResult", "PhotoMeta", "content_location", "get_photo", "ingest_photo",
           "recheck_household_photos"]
