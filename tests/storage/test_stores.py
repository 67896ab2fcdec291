"""Both object stores against the same behaviour: a temp folder, and S3 via `rclone serve s3`."""

import hashlib
import io
import os
import time
import urllib.error
import urllib.request
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.storage import (
    ChecksumMismatch,
    InvalidKey,
    LocalStore,
    ObjectNotFound,
    ObjectStore,
    S3Store,
    StorageUnavailable,
    make_store,
)
from backend.storage.keys import (
    PHOTO_PREFIX,
    original_key,
    parse_key,
    sha_from_key,
    validate_key,
    variant_key,
)

ALL_BYTES = bytes(range(256)) * 64


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def put(store: ObjectStore, key: str, data: bytes, content_type: str = "image/jpeg") -> None:
    store.put(key, data, content_type=content_type, sha256=sha(data))


class OneWayStream:
    """A readable stream that cannot seek, like a request body."""

    def __init__(self, data: bytes):
        self._inner = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._inner.read(size)


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path) -> ObjectStore:
    if request.param == "local":
        return LocalStore(tmp_path / "photos")
    return make_store(request.getfixturevalue("s3_settings"))


@pytest.fixture
def backing_dir(request, store) -> Path:
    """The folder that holds the store's files on disk."""
    if isinstance(store, LocalStore):
        return store.root
    return request.getfixturevalue("s3_server").root / store.bucket


@pytest.fixture
def s3_store(s3_settings) -> S3Store:
    return make_store(s3_settings)


@contextmanager
def s3_calls(store: S3Store):
    """Count the S3 operations the store's client sends inside the block."""
    calls: Counter[str] = Counter()

    def count(model, **kwargs):
        calls[model.name] += 1

    events = store.client.meta.events
    events.register("before-call.s3", count, unique_id="count-s3-calls")
    try:
        yield calls
    finally:
        events.unregister("before-call.s3", unique_id="count-s3-calls")


def files_under(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


# --- the shared contract -----------------------------------------------------------------


def test_put_then_get_returns_the_exact_bytes(store):
    key = original_key(sha(ALL_BYTES))
    put(store, key, ALL_BYTES)
    assert store.get(key) == ALL_BYTES
    assert store.size(key) == len(ALL_BYTES)
    assert store.exists(key)


@pytest.mark.parametrize("wrap", [io.BytesIO, OneWayStream], ids=["seekable", "one-way"])
def test_put_reads_a_stream(store, wrap):
    key = original_key(sha(ALL_BYTES))
    store.put(key, wrap(ALL_BYTES), content_type="image/png", sha256=sha(ALL_BYTES))
    assert store.get(key) == ALL_BYTES


def test_put_reads_a_stream_from_its_current_position(store):
    stream = io.BytesIO(b"header" + ALL_BYTES)
    stream.seek(len(b"header"))
    store.put("a/b", stream, content_type="image/png", sha256=sha(ALL_BYTES))
    assert store.get("a/b") == ALL_BYTES


def test_checksum_mismatch_is_refused_and_nothing_is_stored(store, backing_dir):
    key = original_key(sha(b"what the phone meant"))
    with pytest.raises(ChecksumMismatch):
        store.put(key, b"what arrived", content_type="image/jpeg", sha256=sha(b"other"))
    with pytest.raises(ChecksumMismatch):
        store.put(key, OneWayStream(b"what arrived"), content_type="image/jpeg",
                  sha256=sha(b"other"))  # fmt: skip
    assert not store.exists(key)
    assert list(store.list("")) == []
    assert not backing_dir.exists() or files_under(backing_dir) == []


def test_checksum_is_compared_case_insensitively(store):
    put_sha = sha(b"x").upper()
    store.put("k", b"x", content_type="text/plain", sha256=put_sha)
    assert store.get("k") == b"x"


def test_putting_the_same_bytes_again_is_harmless(store):
    key = original_key(sha(ALL_BYTES))
    put(store, key, ALL_BYTES)
    put(store, key, ALL_BYTES)
    assert store.get(key) == ALL_BYTES
    assert list(store.list(PHOTO_PREFIX)) == [key]


def test_every_put_renews_the_modified_time(store):
    """The orphan sweep leaves young objects alone: an upload in flight has just put its own."""
    key = original_key(sha(ALL_BYTES))
    before = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)  # coarse clocks
    put(store, key, ALL_BYTES)
    first = store.modified(key)
    assert first.tzinfo is not None and before <= first <= datetime.now(UTC)
    time.sleep(1.1)  # S3's Last-Modified counts whole seconds
    put(store, key, ALL_BYTES)
    assert store.modified(key) > first


def test_open_streams_the_object(store):
    put(store, "photos/large/ab/x.jpg", ALL_BYTES)
    with store.open("photos/large/ab/x.jpg") as stream:
        chunks = iter(lambda: stream.read(1000), b"")
        assert b"".join(chunks) == ALL_BYTES
    assert stream.closed


def test_missing_key_raises_object_not_found(store):
    key = original_key("0" * 64)
    for read in (store.get, store.open, store.size, store.modified):
        with pytest.raises(ObjectNotFound) as info:
            read(key)
        assert isinstance(info.value, KeyError)
        assert info.value.key == key
    assert store.exists(key) is False


def test_delete_removes_and_tolerates_missing_keys(store):
    put(store, "photos/thumb/aa/one.jpg", b"1")
    put(store, "photos/thumb/aa/two.jpg", b"2")
    store.delete("photos/thumb/aa/one.jpg")
    store.delete("photos/thumb/aa/one.jpg")
    store.delete("never/stored")
    assert not store.exists("photos/thumb/aa/one.jpg")
    assert list(store.list("photos/")) == ["photos/thumb/aa/two.jpg"]


def test_list_returns_every_key_under_a_prefix(store):
    originals = [original_key(sha(bytes([n]))) for n in range(5)]
    thumbs = [variant_key(sha(bytes([n])), "thumb") for n in range(3)]
    for key in [*originals, *thumbs, "health/check", "photosx/other"]:
        put(store, key, key.encode())
    assert sorted(store.list("photos/original/")) == sorted(originals)
    assert sorted(store.list(PHOTO_PREFIX)) == sorted(originals + thumbs)
    # A prefix need not end at a folder boundary, as on S3.
    assert sorted(store.list("photos")) == sorted([*originals, *thumbs, "photosx/other"])
    fan = originals[0][: len("photos/original/") + 1]
    assert sorted(store.list(fan)) == sorted(k for k in originals if k.startswith(fan))
    assert list(store.list("nothing/here/")) == []


def test_list_walks_every_page(store):
    keys = {f"photos/thumb/{n % 3:02x}/{n:04d}.jpg" for n in range(30)}
    for key in keys:
        put(store, key, b"")
    if not isinstance(store, S3Store):
        assert sorted(store.list(PHOTO_PREFIX)) == sorted(keys)
        return
    store.list_page_size = 7
    with s3_calls(store) as calls:
        assert sorted(store.list(PHOTO_PREFIX)) == sorted(keys)
    assert calls["ListObjectsV2"] == 5  # 7 + 7 + 7 + 7 + 2


def test_empty_object_round_trips(store):
    put(store, "empty", b"")
    assert store.get("empty") == b""
    assert store.size("empty") == 0


@pytest.mark.parametrize(
    "key",
    ["../x", "a/../../x", "/etc/passwd", "a//b", "a/", "./a", ".hidden", "a/.tmp-1", "",
     "a b", "a\\b", "照片.jpg", "a\x00b", "x" * 1025],
)  # fmt: skip
def test_keys_that_could_escape_or_alias_are_refused(store, key):
    with pytest.raises(InvalidKey):
        store.put(key, b"x", content_type="text/plain", sha256=sha(b"x"))
    for call in (store.get, store.open, store.exists, store.delete, store.size):
        with pytest.raises(InvalidKey):
            call(key)
    with pytest.raises(InvalidKey):
        store.url(key, expires_in=60)


@pytest.mark.parametrize("prefix", ["../", "/", "a//", "a/../"])
def test_prefixes_that_could_escape_are_refused(store, prefix):
    with pytest.raises(InvalidKey):
        list(store.list(prefix))


def test_writes_leave_no_temp_files(store, backing_dir):
    for n in range(5):
        put(store, original_key(sha(bytes([n]))), bytes([n]) * 1000)
    with pytest.raises(ChecksumMismatch):
        store.put("photos/original/zz/bad", b"x", content_type="x/y", sha256="0" * 64)
    names = files_under(backing_dir)
    assert len(names) == 5
    assert not [n for n in names if Path(n).name.startswith(".")]


def test_check_passes_on_a_working_store(store):
    store.check()


def test_stores_reject_a_bad_expiry(store):
    put(store, "k", b"x")
    if isinstance(store, S3Store):
        with pytest.raises(ValueError):
            store.url("k", expires_in=0)


# --- local store ---------------------------------------------------------------------------


def test_local_url_is_none_so_the_app_streams_the_file(tmp_path):
    store = LocalStore(tmp_path)
    put(store, "photos/thumb/ab/x.jpg", b"jpeg")
    assert store.url("photos/thumb/ab/x.jpg", expires_in=60, filename="x.jpg") is None
    assert store.local_path("photos/thumb/ab/x.jpg").read_bytes() == b"jpeg"
    assert store.path("photos/thumb/ab/x.jpg") == tmp_path / "photos/thumb/ab/x.jpg"
    with pytest.raises(ObjectNotFound):
        store.local_path("photos/thumb/ab/missing.jpg")


def test_local_files_are_not_world_readable(tmp_path):
    store = LocalStore(tmp_path)
    put(store, "a/b", b"x")
    assert (tmp_path / "a/b").stat().st_mode & 0o007 == 0


def test_local_store_is_unavailable_when_its_root_cannot_be_made(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    store = LocalStore(blocker / "photos")
    with pytest.raises(StorageUnavailable):
        store.check()
    with pytest.raises(StorageUnavailable):
        put(store, "a/b", b"x")
    assert list(store.list("")) == []


def test_local_list_skips_interrupted_writes(tmp_path):
    store = LocalStore(tmp_path)
    put(store, "photos/original/ab/done", b"x")
    (tmp_path / "photos/original/ab/.tmp-crashed").write_bytes(b"half")
    assert list(store.list("")) == ["photos/original/ab/done"]


@given(st.text(alphabet="./\\ab-_~\x00", max_size=12))
def test_no_accepted_key_resolves_outside_the_root(key):
    root = Path("/srv/photos")
    try:
        path = LocalStore(root).path(key)
    except InvalidKey:
        return
    assert path.resolve().is_relative_to(root.resolve())
    assert path.resolve() != root.resolve()


# --- S3 store ------------------------------------------------------------------------------


def test_s3_keeps_content_type_and_checksum_metadata(s3_store, s3_server):
    with s3_calls(s3_store) as calls:
        put(s3_store, "photos/original/ab/x", ALL_BYTES, content_type="image/heic")
    assert calls == {"PutObject": 1}  # small objects go in one request
    client = s3_server.client()
    try:
        head = client.head_object(Bucket=s3_store.bucket, Key="photos/original/ab/x")
    finally:
        client.close()
    assert head["ContentType"] == "image/heic"
    # rclone capitalises metadata names ("Sha256"); AWS lowercases them.
    metadata = {name.lower(): value for name, value in head["Metadata"].items()}
    assert metadata["sha256"] == sha(ALL_BYTES)


def http_get(url: str) -> tuple[int, dict, bytes]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read()


def test_s3_presigned_url_serves_the_bytes_to_a_plain_get(s3_store):
    put(s3_store, "photos/large/ab/x.jpg", ALL_BYTES)
    url = s3_store.url("photos/large/ab/x.jpg", expires_in=60, filename="门口.jpg",
                       content_type="image/jpeg")  # fmt: skip
    status, headers, body = http_get(url)
    assert status == 200
    assert body == ALL_BYTES
    assert headers["Content-Type"] == "image/jpeg"
    assert headers["Content-Disposition"] == (
        "inline; filename=\"__.jpg\"; filename*=UTF-8''%E9%97%A8%E5%8F%A3.jpg"
    )


def test_s3_presigned_url_refuses_a_tampered_signature(s3_store):
    put(s3_store, "photos/large/ab/x.jpg", b"secret")
    url = s3_store.url("photos/large/ab/x.jpg")  # the store's default expiry
    head, _, signature = url.rpartition("X-Amz-Signature=")
    forged = head + "X-Amz-Signature=" + ("0" if signature[0] != "0" else "1") + signature[1:]
    status, _, body = http_get(forged)
    assert status == 403
    assert b"secret" not in body
    # The same signature does not open another key either.
    status, _, _ = http_get(url.replace("/x.jpg?", "/y.jpg?"))
    assert status == 403


def test_s3_large_stream_is_uploaded_in_parts(s3_settings):
    store = S3Store(
        s3_settings["S3_BUCKET"],
        s3_settings["S3_ENDPOINT_URL"],
        s3_settings["S3_REGION"],
        s3_settings["S3_ACCESS_KEY_ID"],
        s3_settings["S3_SECRET_ACCESS_KEY"],
        multipart_threshold=5 * 1024 * 1024,  # the smallest part S3 allows
    )
    data = os.urandom(11 * 1024 * 1024)
    with s3_calls(store) as calls:
        store.put("big", OneWayStream(data), content_type="image/jpeg", sha256=sha(data))
    assert calls["UploadPart"] == 3
    assert calls["CompleteMultipartUpload"] == 1
    assert store.size("big") == len(data)
    assert sha(store.get("big")) == sha(data)


def test_s3_stores_with_the_same_settings_share_one_client(s3_settings, s3_server):
    first = make_store(s3_settings)
    other_bucket = make_store({**s3_settings, "S3_BUCKET": "another-bucket"})
    assert first.client is other_bucket.client
    assert make_store({**s3_settings, "S3_ACCESS_KEY_ID": "x"}).client is not first.client


def test_s3_wrong_credentials_are_storage_unavailable(s3_settings):
    store = make_store({**s3_settings, "S3_SECRET_ACCESS_KEY": "wrong-secret"})
    with pytest.raises(StorageUnavailable):
        store.check()
    with pytest.raises(StorageUnavailable):
        store.exists("k")


def test_s3_missing_bucket_is_storage_unavailable(s3_settings):
    store = make_store({**s3_settings, "S3_BUCKET": "no-such-bucket"})
    with pytest.raises(StorageUnavailable):
        store.check()
    with pytest.raises(StorageUnavailable):
        put(store, "k", b"x")


def test_s3_down_is_storage_unavailable_and_recovers(s3_store, s3_server):
    put(s3_store, "before", b"kept")
    stream = s3_store.open("before")
    with s3_server.stopped():
        for attempt in (
            lambda: put(s3_store, "during", b"x"),
            lambda: s3_store.get("before"),
            lambda: s3_store.open("before"),
            lambda: s3_store.exists("before"),  # must not answer "missing"
            lambda: s3_store.size("before"),
            lambda: s3_store.modified("before"),
            lambda: s3_store.delete("before"),
            lambda: list(s3_store.list("")),
            s3_store.check,
        ):
            with pytest.raises(StorageUnavailable):
                attempt()
        # Signing needs no network: a URL can still be made, it just will not work yet.
        assert s3_store.url("before", expires_in=60)
    stream.close()
    s3_store.check()
    assert s3_store.get("before") == b"kept"
    put(s3_store, "after", b"y")
    assert s3_store.get("after") == b"y"


# --- settings ------------------------------------------------------------------------------


def test_make_store_follows_the_settings(tmp_path, s3_settings):
    local = make_store({"STORAGE_BACKEND": "local", "STORAGE_LOCAL_ROOT": str(tmp_path)})
    assert isinstance(local, LocalStore) and local.root == tmp_path
    s3 = make_store(s3_settings)
    assert isinstance(s3, S3Store)
    assert (s3.bucket, s3.presign_expires) == (s3_settings["S3_BUCKET"], 300)
    assert make_store({**s3_settings, "S3_PRESIGN_EXPIRES": "60"}).presign_expires == 60
    with pytest.raises(ValueError):
        make_store({"STORAGE_BACKEND": "ftp"})
    with pytest.raises(ValueError):
        make_store({**s3_settings, "S3_ADDRESSING_STYLE": "sideways"})
    with pytest.raises(ValueError):
        make_store({**s3_settings, "S3_BUCKET": None})


# --- key layout ----------------------------------------------------------------------------


def test_photo_keys_are_content_addressed():
    digest = sha(b"photo")
    assert original_key(digest) == f"photos/original/{digest[:2]}/{digest}"
    assert variant_key(digest, "thumb") == f"photos/thumb/{digest[:2]}/{digest}.jpg"
    assert variant_key(digest, "large") == f"photos/large/{digest[:2]}/{digest}.jpg"
    assert original_key(digest.upper()) == original_key(digest)
    for key in (original_key(digest), variant_key(digest, "thumb"), variant_key(digest, "large")):
        assert validate_key(key) == key
        assert key.startswith(PHOTO_PREFIX)
        assert sha_from_key(key) == digest
    assert parse_key(variant_key(digest, "large")) == ("large", digest)


@pytest.mark.parametrize("bad", ["", "abc", "g" * 64, "0" * 63, "../" + "0" * 61])
def test_photo_keys_need_a_sha256(bad):
    with pytest.raises(ValueError):
        original_key(bad)
    with pytest.raises(ValueError):
        variant_key(sha(b"x"), "huge")


def test_sha_from_key_ignores_keys_outside_the_layout():
    digest = sha(b"photo")
    for key in [
        "health/check",
        f"photos/original/{digest[:2]}/{digest}.jpg",  # originals have no extension
        f"photos/thumb/{digest[:2]}/{digest}",  # derived sizes do
        f"photos/original/00/{digest}",  # wrong fan-out folder
        f"photos/small/{digest[:2]}/{digest}.jpg",
        f"photos/original/{digest[:2]}/{digest.upper()}",
    ]:
        assert sha_from_key(key) is None, key
