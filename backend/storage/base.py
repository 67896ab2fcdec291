"""The interface every photo store implements, and the errors it raises."""

import abc
import hashlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

__all__ = ["ChecksumMismatch", "ObjectNotFound", "ObjectStore", "StorageError",
           "StorageUnavailable"]

CHUNK_SIZE = 1024 * 1024


class StorageError(Exception):
    """A store's refusal or failure; the error catalogue says it to users (`from_storage`)."""

    def __init__(self, **details):
        self.details = details
        super().__init__(", ".join(f"{k}={v}" for k, v in details.items()) or type(self).__name__)


class StorageUnavailable(StorageError):
    """The store cannot be reached or refused the operation; retrying later may work."""


class ChecksumMismatch(StorageError):
    """The bytes do not hash to the SHA-256 the caller gave; nothing was stored."""


class ObjectNotFound(KeyError):
    """No object is stored under the key."""

    def __init__(self, key: str):
        super().__init__(key)
        self.key = key

    def __str__(self) -> str:
        return f"no object stored under {self.key!r}"


class ObjectStore(abc.ABC):
    """Bytes by key. Keys are checked by `keys.validate_key`; objects are never partial.

    Backend failures (unreachable, refused, 5xx, disk full) raise `StorageUnavailable`;
    a missing key raises `ObjectNotFound` from `open`, `get`, `size` and `modified`; `put` raises
    `ChecksumMismatch` and stores nothing when the bytes do not hash to `sha256`.
    """

    @abc.abstractmethod
    def put(
        self, key: str, data: bytes | BinaryIO, *, content_type: str, sha256: str,
        hashed: bool = False,
    ) -> None:
        """Store `data` under `key` after checking it hashes to `sha256` (hex); `hashed` says
        the caller has just hashed these very bytes in memory, so they are hashed only once."""

    @abc.abstractmethod
    def open(self, key: str) -> BinaryIO:
        """Return a readable stream of the object; the caller closes it."""

    def get(self, key: str) -> bytes:
        """Return the whole object."""
        with self.open(key) as stream:
            return stream.read()

    @abc.abstractmethod
    def url(
        self,
        key: str,
        *,
        expires_in: int | None = None,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> str | None:
        """Return a short-lived download URL, or None when the app must stream the bytes."""

    def local_path(self, key: str) -> Path | None:
        """Return the object's file on this machine, or None if it has none."""
        return None

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; a missing key is not an error."""

    @abc.abstractmethod
    def exists(self, key: str) -> bool:
        """Tell whether an object is stored under `key`."""

    @abc.abstractmethod
    def list(self, prefix: str) -> Iterator[str]:
        """Yield every key that starts with `prefix` (no order promised)."""

    @abc.abstractmethod
    def size(self, key: str) -> int:
        """Return the object's length in bytes."""

    @abc.abstractmethod
    def modified(self, key: str) -> datetime:
        """Return when the object was last written (aware, UTC); every `put` renews it."""

    @abc.abstractmethod
    def check(self) -> None:
        """Raise `StorageUnavailable` unless the store can be reached and written now."""


def iter_chunks(data: bytes | BinaryIO, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Yield `data` in chunks, reading a stream from its current position."""
    if isinstance(data, bytes | bytearray | memoryview):
        view = memoryview(data)
        for start in range(0, len(view), chunk_size):
            yield bytes(view[start : start + chunk_size])
        return
    while chunk := data.read(chunk_size):
        yield chunk


def verify_sha256(actual: str, expected: str) -> None:
    """Raise `ChecksumMismatch` unless the two hex digests agree."""
    if actual != expected.lower():
        raise ChecksumMismatch(expected=expected, actual=actual)


def sha256_hex(data: bytes | BinaryIO) -> str:
    """Return the hex SHA-256 of `data`, reading a stream to its end."""
    digest = hashlib.sha256()
    for chunk in iter_chunks(data):
        digest.update(chunk)
    return digest.hexdigest()
