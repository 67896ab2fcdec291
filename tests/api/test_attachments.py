import hashlib
import io
import urllib.request
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from backend.extensions import object_store
from backend.models import Attachment, AuditEvent
from backend.storage import make_store
from backend.storage.keys import attachment_key
from tests import factories, images

PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"


def zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.txt", "申请书")
    return buf.getvalue()


def multipart(fields: dict, data: bytes, filename: str) -> dict:
    """Encode the form up front, as tests/api/test_photos.py does."""
    boundary, body = encode_multipart({**fields, "file": FileStorage(io.BytesIO(data), filename)})
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def put_attachment(client, w, data, *, attachment_id=None, role="inspector", case=None,
                   kind="application_form", upload_name="申请书.pdf", **fields):
    case = case or w.cases[w.village_a1]
    form = {"case_id": str(case.id), "kind": kind, **fields}
    return client.put(f"/api/v1/attachments/{attachment_id or uuid.uuid4()}",
                      headers=w.headers(role), **multipart(form, data, upload_name))


def error_code(response) -> str:
    return response.get_json()["error"]["code"]


@pytest.fixture
def world(db):
    w = factories.world(db.session)
    w.cases = {code: factories.case(db.session, w.households[code])
               for code in (w.village_a1, w.village_a2, w.village_b1)}
    return w


@pytest.mark.parametrize("data,mime", [
    (PDF, "application/pdf"),
    (images.make_jpeg(seed=1), "image/jpeg"),
    (images.make_png(seed=2), "image/png"),
])
def test_pdf_jpeg_png_are_stored_by_content(client, world, data, mime):
    r = put_attachment(client, world, data, kind="meeting_minutes")
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    sha = hashlib.sha256(data).hexdigest()
    assert (body["mime"], body["sha256"], body["size_bytes"]) == (mime, sha, len(data))
    assert (body["kind"], body["kind_label"]) == ("meeting_minutes", "评议会议纪要")
    assert body["case_id"] == world.cases[world.village_a1].id
    assert body["uploaded_by"] == world.users["inspector"].id
    assert object_store().get(attachment_key(sha)) == data


def test_replay_is_200_and_stores_nothing_twice(client, world, db):
    attachment_id = str(uuid.uuid4())
    first = put_attachment(client, world, PDF, attachment_id=attachment_id)
    again = put_attachment(client, world, PDF, attachment_id=attachment_id)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json() == again.get_json()
    assert db.session.query(Attachment).count() == 1
    assert len(list(object_store().list("attachments/"))) == 1
    assert db.session.query(AuditEvent).filter_by(entity="attachment").count() == 1


def test_same_uuid_other_bytes_is_409_and_keeps_the_first(client, world, db):
    attachment_id = str(uuid.uuid4())
    put_attachment(client, world, PDF, attachment_id=attachment_id)
    r = put_attachment(client, world, PDF + b"%changed\n", attachment_id=attachment_id)
    assert r.status_code == 409 and error_code(r) == "attachment_conflict"
    db.session.expire_all()
    assert db.session.get(Attachment, attachment_id).sha256 == hashlib.sha256(PDF).hexdigest()


def test_same_uuid_for_another_case_is_409(client, world):
    attachment_id = str(uuid.uuid4())
    put_attachment(client, world, PDF, attachment_id=attachment_id)
    r = put_attachment(client, world, PDF, attachment_id=attachment_id,
                       case=world.cases[world.village_a2])
    assert r.status_code == 409 and error_code(r) == "attachment_conflict"


def test_concurrent_duplicates_of_one_uuid_make_one_row(app, world, db):
    attachment_id = str(uuid.uuid4())
    form = {"case_id": str(world.cases[world.village_a1].id), "kind": "agreement"}
    token = world.tokens["inspector"]

    def upload(_):
        return app.test_client().put(f"/api/v1/attachments/{attachment_id}",
                                     headers={"Authorization": f"Bearer {token}"},
                                     buffered=True, **multipart(form, PDF, "x.pdf")).status_code

    with ThreadPoolExecutor(4) as pool:
        codes = sorted(pool.map(upload, range(4)))
    assert codes == [200, 200, 200, 201]
    assert db.session.query(Attachment).count() == 1


@pytest.mark.parametrize("data", [
    "这是一份申请书".encode(),
    b"<!DOCTYPE html><html><script>alert(1)</script></html>",
    zip_bytes(),
    b"GIF89a" + b"\0" * 100,
    b"\n%PDF-1.4 not at the start",
], ids=["text", "html", "zip", "gif", "pdf-not-first"])
def test_other_types_disguised_as_pdf_are_415(client, world, db, data):
    r = put_attachment(client, world, data, upload_name="申请书.pdf")
    assert r.status_code == 415 and error_code(r) == "unsupported_document_type"
    assert db.session.query(Attachment).count() == 0
    assert list(object_store().list("attachments/")) == []


@pytest.mark.parametrize("data,code", [
    (images.make_jpeg(800, 600, seed=3)[:4000], "corrupt_image"),
    (images.png_header(50_000, 50_000), "image_too_many_pixels"),
], ids=["truncated-jpeg", "png-bomb"])
def test_broken_images_are_422(client, world, db, data, code):
    r = put_attachment(client, world, data, upload_name="scan.jpg")
    assert r.status_code == 422 and error_code(r) == code
    assert list(object_store().list("attachments/")) == []


def test_empty_file_is_422(client, world):
    r = put_attachment(client, world, b"")
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"file"}


def test_too_large_is_413(app, client, world):
    app.config["ATTACHMENT_MAX_BYTES"] = 50
    try:
        r = put_attachment(client, world, PDF)
    finally:
        app.config["ATTACHMENT_MAX_BYTES"] = 20 * 1024 * 1024
    assert r.status_code == 413 and error_code(r) == "attachment_too_large"


def test_too_large_body_is_413_before_reading(app, client, world):
    app.config["ATTACHMENT_MAX_BYTES"] = 1000
    try:
        r = put_attachment(client, world, PDF + b"0" * 100_000)
    finally:
        app.config["ATTACHMENT_MAX_BYTES"] = 20 * 1024 * 1024
    assert r.status_code == 413 and error_code(r) == "attachment_too_large"


def test_unknown_kind_is_422(client, world, db):
    r = put_attachment(client, world, PDF, kind="selfie")
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"kind"}
    assert db.session.query(Attachment).count() == 0


@pytest.mark.parametrize("given,stored", [
    (None, "申请书.pdf"),  # the upload's own name
    ("C:\\Users\\王\\Desktop\\会议纪要.pdf", "会议纪要.pdf"),
    ("../../etc/passwd", "passwd"),
    ("", "申请书.pdf"),
    ("纪" * 300 + ".pdf", "纪" * 196 + ".pdf"),
])
def test_filename_loses_folders_and_length(client, world, given, stored):
    extra = {} if given is None else {"filename": given}
    r = put_attachment(client, world, PDF, **extra)
    assert r.status_code == 201 and r.get_json()["filename"] == stored


def test_filename_with_control_characters_is_422(client, world):
    r = put_attachment(client, world, PDF, filename="报告\u202efdp.exe")
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"filename"}


def test_case_outside_area_is_404(client, world, db):
    r = put_attachment(client, world, PDF, case=world.cases[world.village_b1])
    assert r.status_code == 404
    assert db.session.query(Attachment).count() == 0


def test_auditor_cannot_upload(client, world):
    assert put_attachment(client, world, PDF, role="auditor").status_code == 403


def test_metadata_and_content_are_the_upload(client, world):
    body = put_attachment(client, world, PDF, kind="acceptance_form").get_json()
    headers = world.headers("auditor")
    meta = client.get(f"/api/v1/attachments/{body['id']}", headers=headers)
    assert meta.status_code == 200 and meta.get_json() == body
    got = client.get(body["url"], headers=headers)
    assert got.status_code == 200 and got.data == PDF
    assert got.mimetype == "application/pdf"
    assert got.headers["Cache-Control"] == "private, no-store"
    assert got.headers["X-Content-Type-Options"] == "nosniff"


def test_metadata_and_content_are_only_for_the_area(client, world, db):
    body = put_attachment(client, world, PDF).get_json()
    outsider = factories.user(db.session, "town_reviewer", [world.town_b])
    token = factories.token_for(db.session, outsider)
    for url in (f"/api/v1/attachments/{body['id']}", body["url"]):
        assert client.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 404
        assert client.get(url).status_code == 401


def test_content_on_s3_redirects_to_a_signed_url(app, client, world, s3_settings):
    previous = app.extensions["object_store"]
    app.extensions["object_store"] = make_store({**s3_settings, "STORAGE_BACKEND": "s3"})
    try:
        body = put_attachment(client, world, PDF, upload_name="验收表.pdf").get_json()
        r = client.get(body["url"], headers=world.headers("inspector"))
    finally:
        app.extensions["object_store"] = previous
    assert r.status_code == 302 and r.headers["Cache-Control"] == "private, no-store"
    with urllib.request.urlopen(r.headers["Location"], timeout=10) as fetched:
        assert fetched.read() == PDF
        assert fetched.headers["Content-Type"] == "application/pdf"
        assert "filename*=UTF-8''%E9%AA%8C" in fetched.headers["Content-Disposition"]
