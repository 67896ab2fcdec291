"""Case documents (附件): idempotent upload by the client's UUID, metadata, and the bytes."""

from flask import current_app
from flask.views import MethodView
from marshmallow import fields, validate

from backend import responses
from backend.api.base import BaseSchema, api_blueprint, current_actor, refuse_large_uploads
from backend.extensions import db, object_store
from backend.services import attachments
from backend.services.errors import AttachmentTooLarge
from backend.vocabulary import ATTACHMENT_KINDS

blp = api_blueprint("attachments", __name__)
# Documents hold personal data (ID cards, incomes, signatures): never kept by a browser or proxy.


class AttachmentFormSchema(BaseSchema):
    case_id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.Length(max=30),
                         metadata={"enum": list(ATTACHMENT_KINDS)})
    filename = fields.String(allow_none=True)


class AttachmentFileSchema(BaseSchema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class AttachmentSchema(BaseSchema):
    id = fields.String()
    case_id = fields.Integer()
    kind = fields.String()
    kind_label = fields.Function(lambda a: ATTACHMENT_KINDS.get(a.kind, a.kind))
    filename = fields.String()
    mime = fields.String()
    sha256 = fields.String()
    size_bytes = fields.Integer()
    uploaded_by = fields.Integer()
    uploaded_at = fields.DateTime()
    url = fields.Function(lambda a: f"/api/v1/attachments/{a.id}/content")


refuse_large_uploads(blp, "ATTACHMENT_MAX_BYTES", AttachmentTooLarge, "附件")


@blp.route("/attachments/<uuid:attachment_id>")
class AttachmentById(MethodView):
    @blp.arguments(AttachmentFormSchema, location="form")
    @blp.arguments(AttachmentFileSchema, location="files")
    @blp.response(201, AttachmentSchema)
    @blp.alt_response(200, schema=AttachmentSchema, description="an identical replay")
    def put(self, form, files, attachment_id):
        """Upload a case document under the client's UUID: 201 new, 200 replay, 409 other bytes."""
        config = current_app.config
        upload = files["file"]
        max_bytes = config["ATTACHMENT_MAX_BYTES"]
        attachment, created = attachments.store_attachment(
            db.session, object_store(), current_actor(), str(attachment_id),
            upload.read(max_bytes + 1), case_id=form["case_id"], kind=form["kind"],
            filename=form.get("filename") or upload.filename, max_bytes=max_bytes,
            max_pixels=config["PHOTO_MAX_PIXELS"])
        return attachment, 201 if created else 200

    @blp.response(200, AttachmentSchema)
    def get(self, attachment_id):
        """Read a document's metadata."""
        return attachments.get_attachment(db.session, current_actor(), str(attachment_id))


@blp.route("/attachments/<uuid:attachment_id>/content")
class AttachmentContent(MethodView):
    @blp.response(200, description="the document, or a redirect to a short-lived signed URL")
    def get(self, attachment_id):
        """Serve a document's bytes as uploaded."""
        return responses.attachment_content(current_actor(), str(attachment_id))
