"""Photo storage: one interface, a local folder or an S3 bucket, chosen by settings.

The key layout is documented in `backend.storage.keys`.
"""

from collections.abc import Mapping

from backend.storage.base import (
    ChecksumMismatch,
    ObjectNotFound,
    ObjectStore,
    StorageError,
    StorageUnavailable,
)
from backend.storage.keys import InvalidKey
from backend.storage.local import LocalStore
from backend.storage.s3 import S3Store

__all__ = ["ChecksumMismatch", "InvalidKey", "LocalStore", "ObjectNotFound", "ObjectStore",
           "S3Store", "StorageError", "StorageUnavailable", "make_store"]


def make_store(config: Mapping) -> ObjectStore:
    """Build the store that STORAGE_BACKEND ("local" or "s3") names."""
    backend = config.get("STORAGE_BACKEND") or "local"
    if backend == "local":
        return LocalStore(config["STORAGE_LOCAL_ROOT"])
    if backend == "s3":
        return S3Store(
            config.get("S3_BUCKET") or "",
            endpoint_url=config.get("S3_ENDPOINT_URL"),
            region=config.get("S3_REGION"),
            access_key_id=config.get("S3_ACCESS_KEY_ID"),
            secret_access_key=config.get("S3_SECRET_ACCESS_KEY"),
            addressing_style=config.get("S3_ADDRESSING_STYLE") or "path",
            presign_expires=int(config.get("S3_PRESIGN_EXPIRES") or 300),
        )
    raise ValueError(f"unknown STORAGE_BACKEND: {backend!r} (expected 'local' or 's3')")
