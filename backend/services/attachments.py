"""Documents on a case (附件): validated by content, stored by content key, then the row.

Idempotent by the client's UUID, like photos: a replay with the same bytes for the same case
returns the stored document; the same UUID with other bytes or for another case is a conflict.
"""

import hashlib
import unicodedata

from sqlalchemy import select

from backend.models import Attachment, Case
from backend.services import audit, policy
from backend.services.errors import (
    AttachmentConflict,
    AttachmentTooLarge,
    InvalidInput,
    UnsupportedDocumentType,
)
from backend.services.locking import insert_or_winner
from backend.services.photos import imaging
from backend.services.policy import Actor
from backend.storage import ObjectStore
from backend.storage.keys import attachment_key
from backend.vocabulary import ATTACHMENT_KINDS

FILENAME_MAX = 200  # the column's width
EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
# Control, format (bidi overrides that disguise an extension), surrogate and line separators.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def store_attachment(session, store: ObjectStore, actor: Actor, attachment_id: str, data: bytes,
                     *, case_id: int, kind: str, filename: str | None, max_bytes: int,
                     max_pixels: int = imaging.MAX_PIXELS) -> tuple[Attachment, bool]:
    """Store one document of a case; return it and whether it is new. Replay-safe by id."""
    actor.require(policy.ATTACHMENT_WRITE)
    if len(data) > max_bytes:
        raise AttachmentTooLarge(f"附件超过 {max_bytes // (1024 * 1024)} MB",
                                 bytes=len(data), max_bytes=max_bytes)
    if not data:
        raise InvalidInput(fields={"file": "文件为空"})
    if kind not in ATTACHMENT_KINDS:
        raise InvalidInput(fields={"kind": "未知的附件类别"})
    name = clean_filename(filename)
    sha = hashlib.sha256(data).hexdigest()
    existing = session.get(Attachment, attachment_id)
    if existing is not None:
        return _replayed(existing, sha, case_id, actor), False

    case = policy.get_in_scope(session, Case, case_id, actor)
    mime = document_type(data, max_pixels=max_pixels)
    # The object goes first: a row never points at bytes that are not there.
    store.put(attachment_key(sha), data, content_type=mime, sha256=sha)

    attachment = Attachment(
        id=attachment_id, case_id=case.id, village_code=case.village_code, kind=kind,
        filename=name or f"{ATTACHMENT_KINDS[kind]}.{EXTENSIONS[mime]}", mime=mime,
        sha256=sha, size_bytes=len(data), uploaded_by=actor.user_id)
    if winner := insert_or_winner(session, attachment, Attachment, attachment_id):
        return _replayed(winner, sha, case_id, actor), False
    audit.record(session, actor, "upload", "attachment", attachment.id,
                 {"case_id": case.id, "kind": kind, "sha256": sha, "mime": mime})
    session.commit()
    return attachment, True


def of_case(session, case: Case) -> list[Attachment]:
    """A case's documents, by kind then upload time (the caller has read the case)."""
    return list(session.scalars(select(Attachment).where(Attachment.case_id == case.id)
                                .order_by(Attachment.kind, Attachment.uploaded_at)))


def get_attachment(session, actor: Actor, attachment_id: str) -> Attachment:
    return policy.get_in_scope(session, Attachment, attachment_id, actor)


def content_location(session, store: ObjectStore, actor: Actor, attachment_id: str,
                     *, expires_in: int) -> tuple[Attachment, str, str | None]:
    """Return (attachment, key, presigned URL or None) for a document's bytes."""
    attachment = get_attachment(session, actor, attachment_id)
    key = attachment_key(attachment.sha256)
    url = store.url(key, expires_in=expires_in, filename=attachment.filename,
                    content_type=attachment.mime)
    return attachment, key, url


def document_type(data: bytes, *, max_pixels: int = imaging.MAX_PIXELS) -> str:
    """Return the MIME type of a PDF, JPEG or PNG named by its content; refuse anything else.

    An image must decode completely within the pixel limit, as a photo must.
    """
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if imaging.sniff_format(data[:64]) in ("jpeg", "png"):
        return imaging.inspect_image(data, max_pixels=max_pixels).mime
    raise UnsupportedDocumentType()


def clean_filename(filename: str | None) -> str:
    """Return the name without any folders, at most FILENAME_MAX characters, "" if none."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if any(unicodedata.category(ch) in _REFUSED_CATEGORIES for ch in name):
        raise InvalidInput(fields={"filename": "文件名含有控制字符"})
    if name in (".", ".."):
        return ""
    if len(name) > FILENAME_MAX:  # shorten the stem, keeping a short extension
        stem, _, ext = name.rpartition(".")
        suffix = f".{ext}" if stem and len(ext) <= 10 else ""
        name = (stem if suffix else name)[:FILENAME_MAX - len(suffix)] + suffix
    return name


def _replayed(existing: Attachment, sha: str, case_id: int, actor: Actor) -> Attachment:
    if not actor.covers(existing.village_code):
        raise policy.OutsideScope()
    if existing.sha256 != sha or existing.case_id != case_id:
        raise AttachmentConflict(stored_sha256=existing.sha256, sha256=sha)
    return existing
