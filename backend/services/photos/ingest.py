"""Photo ingest: validate by content, store the object first, then the row, then the flags.

Idempotent by the phone's UUID: a replay with the same bytes returns the stored photo; the
same UUID with other bytes is a conflict. Originals are stored under a content-derived key,
so a retry after a lost response never makes a second object.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload

from backend.models import Case, Household, Photo, PhotoWindow
from backend.models.base import utc_now
from backend.services import audit, locking, policy
from backend.services.errors import (
    ChecksumMismatch,
    InvalidInput,
    PhotoConflict,
    PhotoTooLarge,
    UploadCollided,
)
from backend.services.photos import imaging
from backend.services.photos.checks import (
    PhotoRules,
    hash_bands,
)
from backend.services.photos.flagging import (
    recheck_household_photos,
    refresh_own_flags,
    refresh_photos_that_read,
)
from backend.services.photos.reuse import flag_near_duplicates, window_rows
from backend.services.photos.storage_check import swept
from backend.services.photos.variants import photo_object, store_upload, stored_variant
from backend.services.policy import Actor
from backend.storage import ObjectStore
from backend.storage.keys import original_key
from backend.vocabulary import PHASES, VARIANTS


@dataclass(frozen=True)
class PhotoMeta:
    """What the phone sends beside the bytes."""

    household_id: int
    phase: str
    case_id: int | None = None
    visit_id: str | None = None
    node: str | None = None
    item: str | None = None
    note: str | None = None
    captured_at: datetime | None = None
    lat: float | None = None
    lon: float | None = None
    accuracy_m: float | None = None
    fix_at: datetime | None = None
    sha256: str | None = None


@dataclass
class IngestResult:
    photo: Photo
    created: bool
    warnings: list[str] = field(default_factory=list)


def ingest_photo(session, store: ObjectStore, actor: Actor, photo_id: str, data: bytes,
                 meta: PhotoMeta, *, rules: PhotoRules, max_bytes: int,
                 max_pixels: int) -> IngestResult:
    """Store one photo and its facts; replay-safe by `photo_id`."""
    actor.require(policy.VISIT_RECORD)
    if len(data) > max_bytes:
        raise PhotoTooLarge(f"照片超过 {max_bytes // (1024 * 1024)} MB",
                            bytes=len(data), max_bytes=max_bytes)
    sha = hashlib.sha256(data).hexdigest()
    if meta.sha256 and meta.sha256.lower() != sha:
        raise ChecksumMismatch(fields={"sha256": "与收到的文件不一致"},
                               client_sha256=meta.sha256, server_sha256=sha)
    existing = session.get(Photo, photo_id)
    if existing is not None:
        replayed = _replayed(existing, sha, actor)
        # A retry after a failure past the commit: its bytes may never have been stored again.
        # They were accepted then, so they are stored as they are, without a decode that a
        # changed decoder could refuse now; the thumb is drawn on its first read.
        _store_if_missing(store, sha, data, existing.mime)
        return IngestResult(replayed, created=False)

    # Its cases are read only if the photo places the house (recheck_household_photos).
    household = policy.get_in_scope(session, Household, meta.household_id, actor,
                                     options=[lazyload(Household.cases)])
    case = _case_for(session, household, meta)
    facts, thumb = imaging.prepare_upload(data, max_pixels=max_pixels)

    # The objects go first: a row never points at bytes that are not there.
    store_upload(store, sha, data, facts.mime, thumb)

    photo = _new_photo(photo_id, sha, data, facts, meta, household, case, actor)
    photo.number = _next_number(session, household.id)
    if winner := locking.insert_or_winner(session, photo, Photo, photo_id):
        # A replay, or a conflict: other bytes won this UUID, and ours stay behind as orphans
        # for `sweep_orphans` (taking them back now could race an upload of the same bytes).
        replayed = _replayed(winner, sha, actor)
        _store_if_missing(store, sha, data, winner.mime)  # as a replay above
        return IngestResult(replayed, created=False)
    if case is not None:
        # Read after the insert, whose key check holds the case's row (PostgreSQL; SQLite's
        # writer holds the database): a step that records 开工 (engine.perform, which locks
        # the row) either committed before, and is read here, or waits and rechecks this photo.
        session.refresh(case, ["started_on"])

    try:
        context = refresh_own_flags(session, photo, household, case, rules)
        # These write flags on other households' photos too, which the household lock does
        # not cover: two uploads may add the same flag to one stored photo at once.
        refresh_photos_that_read(session, photo, case, rules,
                                 replayed_fix=context.same_position is not None)
        flag_near_duplicates(session, photo, rules, mirrored=facts.phash_mirrored,
                             crops=facts.crops)
        if facts.crops is not None:
            session.execute(insert(PhotoWindow), window_rows(photo, facts.crops))
        if not household.has_location and _trusted_position(photo, rules):
            _locate_household_from(session, household, photo, actor, rules)
        audit.record(session, actor, "upload", "photo", photo.id,
                     {"household_id": household.id, "sha256": sha, "phase": photo.phase})
        session.commit()
    except IntegrityError as error:
        session.rollback()  # the objects stay, content-keyed, for the retry (or the sweep)
        raise UploadCollided() from error
    if swept(session, sha):  # else the sweep has never touched these bytes: no HEAD
        _store_if_missing(store, sha, data, facts.mime, thumb)
    return IngestResult(photo, created=True)


def _store_if_missing(store: ObjectStore, sha: str, data: bytes, mime: str,
                      thumb: bytes | None = None) -> None:
    """Store a committed photo's objects again if its original is gone. The orphan sweep may
    have taken bytes an upload stored before its row was committed (`storage_check.swept`);
    it reads an original's age before its other sizes' and deletes it after them, so when it
    took both the original is gone too. A thumb missing alone is drawn on its first read."""
    if not store.exists(original_key(sha)):
        store_upload(store, sha, data, mime, thumb)


def get_photo(session, actor: Actor, photo_id: str) -> Photo:
    return policy.get_in_scope(session, Photo, photo_id, actor)


def content_location(session, store: ObjectStore, actor: Actor, photo_id: str, variant: str,
                     *, expires_in: int) -> tuple[str, str, str | None]:
    """Return (key, content type, presigned URL or None) for a photo's bytes."""
    photo = get_photo(session, actor, photo_id)
    if variant not in VARIANTS:
        raise InvalidInput(fields={"variant": "应为 thumb、large 或 original"})
    key, mime = photo_object(store, photo, variant)
    suffix = {"jpeg": "jpg", "heif": "heic"}.get(photo.format, photo.format)
    filename = f"{photo.id}.{suffix if stored_variant(photo, variant) == 'original' else 'jpg'}"
    return key, mime, store.url(key, expires_in=expires_in, filename=filename, content_type=mime)


def _next_number(session, household_id: int) -> int:
    """The household's next photo number (max + 1), taken under the household's row lock so
    two uploads at once never share one; the unique constraint backs the lock."""
    locking.lock_household(session, household_id)
    last = session.scalar(select(func.max(Photo.number)).where(
        Photo.household_id == household_id))
    return (last or 0) + 1


def _replayed(existing: Photo, sha: str, actor: Actor) -> Photo:
    if not actor.covers(existing.village_code):
        raise policy.OutsideScope()
    if existing.sha256 != sha:
        raise PhotoConflict(stored_sha256=existing.sha256, sha256=sha)
    return existing


def _case_for(session, household: Household, meta: PhotoMeta) -> Case | None:
    if meta.phase not in PHASES:
        raise InvalidInput(
            fields={"phase": "应为 before（改造前）、during（改造中）或 after（改造后）"})
    if meta.case_id is None:
        return None
    case = session.get(Case, meta.case_id)
    if case is None or case.household_id != household.id:
        raise InvalidInput(fields={"case_id": "该项目不属于此农户"})
    return case


def _new_photo(photo_id, sha, data, facts, meta: PhotoMeta, household, case, actor) -> Photo:
    exif = facts.exif
    bands = hash_bands(facts.phash)
    return Photo(
        id=photo_id, household_id=household.id, village_code=household.village_code,
        case_id=case.id if case else None, visit_id=meta.visit_id, phase=meta.phase,
        node=meta.node, item=meta.item, note=meta.note,
        sha256=sha, bytes=len(data), width=facts.width, height=facts.height,
        format=facts.format, mime=facts.mime, phash=facts.phash, detail=facts.detail,
        large_is_original=facts.serves_as_large,
        phash_b0=bands[0], phash_b1=bands[1], phash_b2=bands[2], phash_b3=bands[3],
        exif_taken_at=exif.taken_at.isoformat() if exif.taken_at else None,
        exif_lat=exif.gps_lat, exif_lon=exif.gps_lon, exif_alt=exif.gps_alt,
        exif_make=exif.make, exif_model=exif.model, exif_software=exif.software,
        exif_orientation=exif.orientation, exif_error=facts.exif_error,
        captured_at=meta.captured_at, device_lat=meta.lat, device_lon=meta.lon,
        device_accuracy_m=meta.accuracy_m, device_fix_at=meta.fix_at,
        received_at=utc_now(), uploaded_by=actor.user_id,
        flags=[],  # known empty: no SELECT when the first flag is added
    )


def _trusted_position(photo: Photo, rules: PhotoRules) -> bool:
    """A phone fix good enough to place a house that has no location yet."""
    if not photo.has_device_position or photo.device_accuracy_m is None:
        return False
    doubtful = {"low_accuracy", "exif_phone_mismatch", "time_skew"}
    return photo.device_accuracy_m <= rules.low_accuracy_m and not any(
        f.code in doubtful for f in photo.flags)


def _locate_household_from(session, household: Household, photo: Photo, actor: Actor,
                           rules: PhotoRules) -> None:
    household.lat, household.lon = photo.device_lat, photo.device_lon
    household.location_source = "photo"
    household.location_set_at = utc_now()
    household.location_set_by = actor.user_id
    audit.record(session, actor, "set_location", "household", household.id,
                 {"lat": photo.device_lat, "lon": photo.device_lon, "source": "photo",
                  "photo_id": photo.id})
    session.flush()
    recheck_household_photos(session, household, rules)
