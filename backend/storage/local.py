"""A folder on this machine as the photo store.

A write goes to a hidden temp file in the target's folder, is hashed and fsynced on the way,
and is renamed into place only if the hash matches: a reader never sees a partial photo and a
crash leaves at most a `.tmp-*` file, which `list()` skips. The content type is not kept: the
app knows each photo's type from its row.
"""

import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from backend.storage.base import (
    ObjectNotFound,
    ObjectStore,
    StorageUnavailable,
    iter_chunks,
    verify_sha256,
)
from backend.storage.keys import validate_key, validate_prefix

# Group-readable for backup jobs, never world-readable: the photos show people's homes.
FILE_MODE = 0o640
TEMP_PREFIX = ".tmp-"
_MISSING = (FileNotFoundError, IsADirectoryError, NotADirectoryError)


class LocalStore(ObjectStore):
    """Objects as files under `root`, one file per key."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    def path(self, key: str) -> Path:
        """Return where `key` lives (or would live) under the root."""
        return self.root / validate_key(key)

    def local_path(self, key: str) -> Path:
        """Return the object's file, for the app to stream with `send_file`."""
        path = self.path(key)
        if not path.is_file():
            raise ObjectNotFound(key)
        return path

    def put(
        self, key: str, data: bytes | BinaryIO, *, content_type: str, sha256: str,
        hashed: bool = False,
    ) -> None:
        """Write `data` to `key` atomically, refusing it unless it hashes to `sha256`."""
        hashed = hashed and isinstance(data, bytes | bytearray | memoryview)
        target = self.path(key)
        try:
            created = _make_dirs(target.parent)
            fd, temp = tempfile.mkstemp(dir=target.parent, prefix=TEMP_PREFIX)
        except OSError as error:
            raise StorageUnavailable() from error
        try:
            digest = hashlib.sha256()
            with os.fdopen(fd, "wb") as out:
                for chunk in iter_chunks(data):
                    if not hashed:
                        digest.update(chunk)
                    out.write(chunk)
                if not hashed:
                    verify_sha256(digest.hexdigest(), sha256)
                out.flush()
                os.fchmod(out.fileno(), FILE_MODE)
                os.fsync(out.fileno())
            os.replace(temp, target)
        except BaseException as error:
            Path(temp).unlink(missing_ok=True)
            if isinstance(error, OSError):
                raise StorageUnavailable() from error
            raise
        try:
            # The rename (and any new folders) must survive a power cut too: this is evidence.
            for folder in {target.parent, *(made.parent for made in created)}:
                _fsync_dir(folder)
        except OSError as error:
            raise StorageUnavailable() from error

    def open(self, key: str) -> BinaryIO:
        """Return the object's file opened for reading."""
        try:
            return self.path(key).open("rb")
        except _MISSING as error:
            raise ObjectNotFound(key) from error
        except OSError as error:
            raise StorageUnavailable() from error

    def url(
        self,
        key: str,
        *,
        expires_in: int | None = None,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> None:
        """Return None: files on this machine are streamed by the app itself."""
        validate_key(key)
        return None

    def delete(self, key: str) -> None:
        """Remove the object's file; its (maybe empty) folders stay for concurrent writers."""
        try:
            self.path(key).unlink(missing_ok=True)
        except (IsADirectoryError, NotADirectoryError):
            pass
        except OSError as error:
            raise StorageUnavailable() from error

    def exists(self, key: str) -> bool:
        """Tell whether a file is stored under `key`."""
        return self.path(key).is_file()

    def size(self, key: str) -> int:
        """Return the file's length in bytes."""
        return self._stat(key).st_size

    def modified(self, key: str) -> datetime:
        """Return the file's modification time: `put` writes a new file each time."""
        return datetime.fromtimestamp(self._stat(key).st_mtime, UTC)

    def _stat(self, key: str) -> os.stat_result:
        try:
            info = self.path(key).stat()
        except _MISSING as error:
            raise ObjectNotFound(key) from error
        except OSError as error:
            raise StorageUnavailable() from error
        if not stat.S_ISREG(info.st_mode):
            raise ObjectNotFound(key)
        return info

    def list(self, prefix: str) -> Iterator[str]:
        """Yield the keys under `prefix`, skipping temp files, sorted within each folder."""
        validate_prefix(prefix)
        # Walk only the deepest folder the prefix names in full, not the whole store.
        start = prefix.rpartition("/")[0]
        top = self.root / start if start else self.root

        def fail(error: OSError) -> None:
            if not isinstance(error, FileNotFoundError | NotADirectoryError):
                raise StorageUnavailable() from error

        for dirpath, dirnames, filenames in os.walk(top, onerror=fail):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            folder = Path(dirpath).relative_to(self.root).as_posix()
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                key = name if folder == "." else f"{folder}/{name}"
                if key.startswith(prefix):
                    yield key

    def check(self) -> None:
        """Raise `StorageUnavailable` unless a file can be written under the root."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=self.root, prefix=TEMP_PREFIX + "health-")
            try:
                os.write(fd, b"ok")
            finally:
                os.close(fd)
                os.unlink(temp)
        except OSError as error:
            raise StorageUnavailable() from error


def _make_dirs(folder: Path) -> list[Path]:
    """Create `folder` and its missing parents; return the ones created, deepest first."""
    missing = []
    probe = folder
    while not probe.is_dir():
        missing.append(probe)
        probe = probe.parent
    folder.mkdir(parents=True, exist_ok=True)
    return missing


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
