"""HTTP responses that the API and the desk pages send alike: a photo's bytes, a download and
a download streamed as it is made."""

import io
import math
import unicodedata
from collections.abc import Iterator
from typing import BinaryIO
from urllib.parse import quote

from flask import Response, current_app, redirect, send_file, stream_with_context
from flask.json.provider import DefaultJSONProvider

from backend.extensions import db, object_store
from backend.services import attachments, photos
from backend.services.policy import Actor

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"
ZIP = "application/zip"


class StrictJSONProvider(DefaultJSONProvider):
    """JSON as RFC 8259 allows it: a number that is not finite (an `inf` stored before the
    input was checked) is written as null, never as `Infinity` or `NaN`, which strict parsers
    refuse, so one bad row cannot break every list that holds it."""

    def dumps(self, obj, **kwargs) -> str:
        try:
            return super().dumps(obj, allow_nan=False, **kwargs)
        except ValueError:  # rare: pay for the walk only when a non-finite number is there
            return super().dumps(_finite(obj), allow_nan=False, **kwargs)


def _finite(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def photo_content(actor: Actor, photo_id: str, variant: str):
    """A photo's bytes after the same scope check everywhere: a short-lived presigned redirect
    on S3, else the file itself, cached privately (the key is the content's hash)."""
    store = object_store()
    key, mime, url = photos.content_location(
        db.session, store, actor, photo_id, variant,
        expires_in=current_app.config["S3_PRESIGN_EXPIRES"])
    if url:
        return redirect(url, 302)
    response = send_file(store.local_path(key) or store.open(key), mimetype=mime,
                         conditional=True, etag=key.rsplit("/", 1)[-1], max_age=86400)
    response.headers["Cache-Control"] = "private, max-age=86400, immutable"
    return response


def attachment_content(actor: Actor, attachment_id: str):
    """A document's bytes after the scope check; never cached (documents hold personal data)."""
    store = object_store()
    attachment, key, url = attachments.content_location(
        db.session, store, actor, attachment_id,
        expires_in=current_app.config["S3_PRESIGN_EXPIRES"])
    if url:
        response = redirect(url, 302)
    else:
        response = send_file(store.local_path(key) or store.open(key), mimetype=attachment.mime,
                             download_name=attachment.filename)
        response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def download(data: bytes | BinaryIO, name: str, mimetype: str, *, personal: bool = True):
    """A file to save (bytes, or an open file that is sent and closed); one holding personal
    data is never kept by a browser or a proxy."""
    source = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
    response = send_file(source, as_attachment=True, download_name=name, mimetype=mimetype)
    if personal:
        response.headers["Cache-Control"] = "private, no-store"
    return response


def stream(chunks: Iterator[bytes], name: str, mimetype: str):
    """A file to save, sent as its bytes are made (no length known beforehand), with the
    request's context kept for the generator; never kept by a browser or a proxy."""
    response = Response(stream_with_context(chunks), mimetype=mimetype)
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    response.headers.set("Content-Disposition", "attachment", filename=ascii_name or "download",
                         **{"filename*": f"UTF-8''{quote(name, safe='!#$&+-.^_`|~')}"})
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass the bytes on as they come
    return response
