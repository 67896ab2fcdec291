"""Where an upload's server CPU goes: the ingest service run in this process, one request at a
time through Flask's test client against the same rclone S3 and database as the gunicorn run,
with time.thread_time() taken around each step. A step's time excludes the steps it calls (the
S3 put's own SHA-256 is counted as hashing, not as S3), and what is left of a request is Flask,
marshmallow, auth, audit and the service's own Python ("framework + app").

Used by bench/ingest.py; not a module of the app: it wraps the app's functions by assignment.
"""

import hashlib
import time
import types
import uuid
from collections import defaultdict

STEPS = ("decode (one, reduced)", "thumb (resize + encode)", "perceptual hashes",
         "crop window hashes", "sha256", "EXIF read", "S3 put/head", "DB (SQLAlchemy + driver)",
         "evidence checks", "crop lookup (windows)")


class StepClock:
    """Exclusive thread CPU per labelled step, for wrapped callables."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = defaultdict(float)
        self._stack: list[list] = []

    def wrap(self, label: str, fn):
        clock = self

        def timed(*args, **kwargs):
            now = time.thread_time()
            if clock._stack:
                clock.totals[clock._stack[-1][0]] += now - clock._stack[-1][1]
            clock._stack.append([label, now])
            try:
                return fn(*args, **kwargs)
            finally:
                end = time.thread_time()
                done, start = clock._stack.pop()
                clock.totals[done] += end - start
                if clock._stack:
                    clock._stack[-1][1] = end

        timed.__wrapped__ = fn
        return timed


def instrument(clock: StepClock) -> list:
    """Wrap the ingest path's steps; return what to undo."""
    from sqlalchemy.orm import Session

    from backend.services.photos import imaging, ingest, reuse, variants
    from backend.storage.s3 import S3Store

    hashing = types.SimpleNamespace(sha256=clock.wrap("sha256", hashlib.sha256))
    targets = [
        (imaging, "_decode", "decode (one, reduced)"),
        (imaging, "_fit", "thumb (resize + encode)"),
        (imaging, "_jpeg", "thumb (resize + encode)"),
        (imaging, "hashes", "perceptual hashes"),
        (imaging, "crop_hashes", "crop window hashes"),
        (imaging, "read_exif", "EXIF read"),
        (S3Store, "put", "S3 put/head"),
        (S3Store, "exists", "S3 put/head"),
        (ingest, "refresh_own_flags", "evidence checks"),
        (ingest, "flag_near_duplicates", "evidence checks"),
        (reuse, "near_duplicates", "evidence checks"),
        (reuse, "cropped_copies", "crop lookup (windows)"),
    ] + [(Session, name, "DB (SQLAlchemy + driver)")
         for name in ("execute", "scalar", "scalars", "get", "flush", "commit", "rollback")]
    undo = [(ingest, "hashlib", ingest.hashlib), (variants, "hashlib", variants.hashlib)]
    ingest.hashlib = variants.hashlib = hashing
    for owner, name, label in targets:
        original = owner.__dict__[name]
        undo.append((owner, name, original))
        setattr(owner, name, clock.wrap(label, original))
    return undo


def restore(undo: list) -> None:
    for owner, name, original in reversed(undo):
        setattr(owner, name, original)


def breakdown(config: dict, username: str, password: str, houses: list[int],
              images: list[bytes], form) -> tuple[float, dict[str, float]]:
    """Upload `images` in process; return (CPU ms per photo, {step: ms per photo})."""
    from backend import create_app

    app = create_app(config)
    client = app.test_client()
    token = client.post("/api/v1/auth/login",
                        json={"username": username, "password": password}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}

    def send(index: int, data: bytes) -> None:
        response = client.put(f"/api/v1/photos/{uuid.uuid4()}", headers=headers,
                              data=form(data, houses[index % len(houses)], index),
                              content_type="multipart/form-data")
        if response.status_code != 201:
            raise RuntimeError(f"in-process upload: HTTP {response.status_code}: "
                               f"{response.data[:200]!r}")

    for index, data in enumerate(images[:4]):  # imports, clients, caches
        send(index, data)
    clock = StepClock()
    undo = instrument(clock)
    try:
        started = time.thread_time()
        for index, data in enumerate(images):
            send(index, data)
        total = (time.thread_time() - started) * 1000 / len(images)
    finally:
        restore(undo)
    steps = {step: clock.totals.get(step, 0.0) * 1000 / len(images) for step in STEPS}
    steps["framework + app (Flask, schemas, auth, audit)"] = total - sum(steps.values())
    return total, steps
