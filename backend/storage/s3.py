"""An S3-compatible bucket as the photo store (MinIO, AWS S3, Alibaba OSS, Tencent COS, Huawei OBS).

One boto3 client per process and settings, made on first use, so gunicorn's forked workers
never share the parent's connection pool. The bytes are hashed here before they are sent
(not every S3 clone checks `ChecksumSHA256`) and the hash rides along as metadata `sha256`.
"""

import hashlib
import io
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, BinaryIO
from urllib.parse import quote

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from backend.storage.base import (
    CHUNK_SIZE,
    ObjectNotFound,
    ObjectStore,
    StorageUnavailable,
    iter_chunks,
    verify_sha256,
)
from backend.storage.keys import validate_key, validate_prefix

ADDRESSING_STYLES = ("path", "virtual", "auto")
MULTIPART_THRESHOLD = 8 * 1024 * 1024
MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # the SigV4 limit
HEALTH_KEY = "health/check"  # overwritten by every check(); tiny, outside PHOTO_PREFIX
_MISSING_CODES = {"404", "NoSuchKey", "NotFound"}

_clients: dict[tuple, Any] = {}
_clients_lock = threading.Lock()


def _forget_clients() -> None:
    # A child must not reuse the parent's sockets, nor a lock some other thread held at fork.
    global _clients_lock
    _clients.clear()
    _clients_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_clients)


class S3Store(ObjectStore):
    """Objects in one bucket of an S3-compatible service."""

    def __init__(
        self,
        bucket: str,
        endpoint_url: str | None = None,
        region: str | None = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        addressing_style: str = "path",
        presign_expires: int = 300,
        *,
        multipart_threshold: int = MULTIPART_THRESHOLD,
        list_page_size: int = 1000,
    ):
        if not bucket:
            raise ValueError("S3_BUCKET is required for the s3 storage backend")
        if addressing_style not in ADDRESSING_STYLES:
            raise ValueError(f"S3_ADDRESSING_STYLE must be one of {ADDRESSING_STYLES}")
        self.bucket = bucket
        self.endpoint_url = endpoint_url or None
        self.region = region or "us-east-1"
        self.addressing_style = addressing_style
        self.presign_expires = _check_expiry(presign_expires)
        self.list_page_size = list_page_size
        self._credentials = (access_key_id or None, secret_access_key or None)
        self._transfer = TransferConfig(
            multipart_threshold=multipart_threshold,
            multipart_chunksize=multipart_threshold,
            # Parts in order, one at a time: rclone and small MinIOs stream them straight through.
            use_threads=False,
        )

    def __repr__(self) -> str:
        return f"S3Store({self.bucket!r}, endpoint_url={self.endpoint_url!r})"

    @property
    def client(self) -> Any:
        """Return this process's boto3 client for these settings, making it on first use."""
        cache_key = (
            os.getpid(),
            self.endpoint_url,
            self.region,
            self.addressing_style,
            *self._credentials,
        )
        client = _clients.get(cache_key)
        if client is None:
            with _clients_lock:
                client = _clients.get(cache_key)
                if client is None:
                    client = _clients[cache_key] = self._make_client()
        return client

    def _make_client(self) -> Any:
        config = Config(
            signature_version="s3v4",
            # The body is hashed once, by us (`put`); botocore would hash it again to sign it
            # over plain HTTP. TLS guards it in transit to a real store.
            s3={"addressing_style": self.addressing_style, "payload_signing_enabled": False},
            # boto3 >= 1.36 otherwise sends CRC32 trailers that non-AWS stores refuse.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            retries={"max_attempts": 3, "mode": "standard"},
            connect_timeout=5,
            read_timeout=30,
        )
        access_key_id, secret_access_key = self._credentials
        # A session of its own: boto3's default session is not safe to share between threads.
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=config,
        )

    def put(
        self, key: str, data: bytes | BinaryIO, *, content_type: str, sha256: str,
        hashed: bool = False,
    ) -> None:
        """Upload `data` to `key` if it hashes to `sha256`; large streams go in parts."""
        validate_key(key)
        extra = {"ContentType": content_type, "Metadata": {"sha256": sha256.lower()}}
        if isinstance(data, bytes | bytearray | memoryview):
            if not hashed:
                verify_sha256(hashlib.sha256(data).hexdigest(), sha256)
            with _translated():
                self.client.put_object(
                    Bucket=self.bucket, Key=key, Body=bytes(data), **extra
                )
            return
        with _spooled(data, sha256) as (body, length):
            with _translated():
                if length <= self._transfer.multipart_threshold:
                    self.client.put_object(
                        Bucket=self.bucket, Key=key, Body=body.read(), **extra
                    )
                else:
                    self.client.upload_fileobj(
                        body, self.bucket, key, ExtraArgs=extra, Config=self._transfer
                    )

    def open(self, key: str) -> BinaryIO:
        """Return a buffered stream of the object; read errors become `StorageUnavailable`."""
        validate_key(key)
        with _translated(key):
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        return io.BufferedReader(_Body(body), CHUNK_SIZE)

    def url(
        self,
        key: str,
        *,
        expires_in: int | None = None,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> str:
        """Return a presigned GET URL; `filename` and `content_type` set the response headers."""
        params = {"Bucket": self.bucket, "Key": validate_key(key)}
        if filename:
            params["ResponseContentDisposition"] = content_disposition(filename)
        if content_type:
            # Pass it: some stores (rclone) forget stored content types when they restart.
            params["ResponseContentType"] = content_type
        expires = self.presign_expires if expires_in is None else _check_expiry(expires_in)
        with _translated():
            return self.client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=expires
            )

    def delete(self, key: str) -> None:
        """Delete the object; S3 answers a missing key with success too."""
        validate_key(key)
        with _translated():
            self.client.delete_object(Bucket=self.bucket, Key=key)

    def exists(self, key: str) -> bool:
        """Tell whether an object is stored under `key`."""
        try:
            self._head(key)
        except ObjectNotFound:
            return False
        return True

    def size(self, key: str) -> int:
        """Return the object's length in bytes."""
        return int(self._head(key)["ContentLength"])

    def modified(self, key: str) -> datetime:
        """Return the object's Last-Modified: every PUT, even of the same bytes, renews it."""
        return self._head(key)["LastModified"].astimezone(UTC)

    def _head(self, key: str) -> dict:
        validate_key(key)
        with _translated(key):
            return self.client.head_object(Bucket=self.bucket, Key=key)

    def list(self, prefix: str) -> Iterator[str]:
        """Yield the keys under `prefix` in key order, one listing page at a time."""
        validate_prefix(prefix)
        args: dict[str, Any] = {
            "Bucket": self.bucket,
            "Prefix": prefix,
            "MaxKeys": self.list_page_size,
        }
        while True:
            with _translated():
                page = self.client.list_objects_v2(**args)
            for item in page.get("Contents", ()):
                yield item["Key"]
            if not page.get("IsTruncated"):
                return
            args["ContinuationToken"] = page["NextContinuationToken"]

    def check(self) -> None:
        """Write a two-byte object: proves the endpoint, the credentials and the bucket."""
        with _translated():
            self.client.put_object(
                Bucket=self.bucket, Key=HEALTH_KEY, Body=b"ok", ContentType="text/plain"
            )


class _Body(io.RawIOBase):
    """A boto3 response body as a raw stream whose failures are `StorageUnavailable`."""

    def __init__(self, body: Any):
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        with _translated():
            chunk = self._body.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


@contextmanager
def _translated(key: str | None = None) -> Iterator[None]:
    """Turn boto errors into `ObjectNotFound` (for `key`) or `StorageUnavailable`."""
    try:
        yield
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code"))
        if key is not None and code in _MISSING_CODES:
            raise ObjectNotFound(key) from error
        raise StorageUnavailable() from error
    except (BotoCoreError, S3UploadFailedError) as error:
        raise StorageUnavailable() from error


@contextmanager
def _spooled(data: BinaryIO, sha256: str) -> Iterator[tuple[BinaryIO, int]]:
    """Check a stream's hash and give it back rewound, with its length.

    A seekable stream is hashed in place; any other is copied to a spool (memory, then disk)
    on the way, since boto3 may need to re-read the body when it retries.
    """
    if _seekable(data):
        start = data.tell()
        digest, length = _hash_stream(data)
        verify_sha256(digest, sha256)
        data.seek(start)
        yield data, length
        return
    with tempfile.SpooledTemporaryFile(max_size=MULTIPART_THRESHOLD) as spool:
        digest, length = _hash_stream(data, copy_to=spool)
        verify_sha256(digest, sha256)
        spool.seek(0)
        yield spool, length


def _hash_stream(data: BinaryIO, copy_to: Any = None) -> tuple[str, int]:
    digest, length = hashlib.sha256(), 0
    for chunk in iter_chunks(data):
        digest.update(chunk)
        length += len(chunk)
        if copy_to is not None:
            copy_to.write(chunk)
    return digest.hexdigest(), length


def _seekable(data: BinaryIO) -> bool:
    try:
        return bool(data.seekable())
    except (AttributeError, ValueError):
        return False


def _check_expiry(seconds: int) -> int:
    seconds = int(seconds)
    if not 1 <= seconds <= MAX_PRESIGN_SECONDS:
        raise ValueError(f"presigned URL expiry must be 1..{MAX_PRESIGN_SECONDS} seconds")
    return seconds


def content_disposition(filename: str, disposition: str = "inline") -> str:
    """Return a Content-Disposition value that survives non-ASCII (e.g. Chinese) names."""
    fallback = "".join(
        c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename
    )
    value = f'{disposition}; filename="{fallback}"'
    if fallback != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return value
