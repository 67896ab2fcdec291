"""Photos: idempotent upload by the phone's UUID, metadata with flags, and the bytes."""

from datetime import UTC

from flask import current_app
from flask.views import MethodView
from marshmallow import fields, validate

from backend import responses
from backend.api.base import BaseSchema, api_blueprint, current_actor, refuse_large_uploads
from backend.extensions import db, object_store
from backend.rules import current_rules
from backend.services import photos
from backend.services.checklists.names import UNFILED_LABEL
from backend.services.checklists.names import names as checklist_names
from backend.services.errors import PhotoTooLarge
from backend.services.photos.checks import exif_time
from backend.services.photos.ingest import PhotoMeta
from backend.vocabulary import FLAG_LABELS, PHASES, VARIANTS

blp = api_blueprint("photos", __name__)


class PhotoFormSchema(BaseSchema):
    household_id = fields.Integer(required=True)
    phase = fields.String(required=True, validate=validate.OneOf(list(PHASES)))
    case_id = fields.Integer(allow_none=True)
    visit_id = fields.UUID(allow_none=True)
    node = fields.String(allow_none=True, validate=validate.Length(max=50))
    item = fields.String(allow_none=True, validate=validate.Length(max=80))
    note = fields.String(allow_none=True, validate=validate.Length(max=500))
    captured_at = fields.AwareDateTime(default_timezone=UTC, allow_none=True)
    lat = fields.Float(allow_none=True, validate=validate.Range(-90, 90))
    lon = fields.Float(allow_none=True, validate=validate.Range(-180, 180))
    accuracy_m = fields.Float(allow_none=True, validate=validate.Range(0, 100_000))
    fix_at = fields.AwareDateTime(default_timezone=UTC, allow_none=True)
    sha256 = fields.String(allow_none=True, validate=validate.Regexp(r"^[0-9a-fA-F]{64}$"))


class PhotoFileSchema(BaseSchema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class VariantArgsSchema(BaseSchema):
    variant = fields.String(load_default="large", validate=validate.OneOf(VARIANTS))


class FlagSchema(BaseSchema):
    code = fields.String()
    label = fields.Function(lambda f: FLAG_LABELS[f.code])
    details = fields.Dict()
    status = fields.String()
    reviewed_by = fields.Integer(allow_none=True)
    reviewed_at = fields.DateTime(allow_none=True)
    review_reason = fields.String(allow_none=True)


class PhotoSchema(BaseSchema):
    id = fields.String()
    household_id = fields.Integer()
    case_id = fields.Integer(allow_none=True)
    visit_id = fields.String(allow_none=True)
    phase = fields.String()
    phase_label = fields.Function(lambda p: PHASES[p.phase])
    node = fields.String(allow_none=True)
    node_label = fields.Function(lambda p: checklist_names().node(p.node))
    item = fields.String(allow_none=True)
    item_label = fields.Function(lambda p: checklist_names().item(p.item))
    # Stable within the household (so within each of its cases): reviewers cite "3号照片".
    number = fields.Integer()
    filed = fields.Boolean()
    filed_label = fields.Function(lambda p: None if p.filed else UNFILED_LABEL)
    note = fields.String(allow_none=True)
    sha256 = fields.String()
    bytes = fields.Integer()
    width = fields.Integer()
    height = fields.Integer()
    format = fields.String()
    phash = fields.Function(lambda p: f"{p.phash & 0xFFFFFFFFFFFFFFFF:016x}")
    exif = fields.Function(lambda p: {
        "taken_at": exif_time(p).isoformat() if exif_time(p) else p.exif_taken_at,
        "lat": p.exif_lat, "lon": p.exif_lon, "alt": p.exif_alt, "make": p.exif_make,
        "model": p.exif_model, "software": p.exif_software, "orientation": p.exif_orientation,
        "error": p.exif_error})
    device = fields.Function(lambda p: {
        "captured_at": p.captured_at.isoformat() if p.captured_at else None,
        "lat": p.device_lat, "lon": p.device_lon, "accuracy_m": p.device_accuracy_m,
        "fix_at": p.device_fix_at.isoformat() if p.device_fix_at else None, "crs": "WGS-84"})
    received_at = fields.DateTime()
    uploaded_by = fields.Integer()
    flags = fields.List(fields.Nested(FlagSchema))
    urls = fields.Function(lambda p: {v: f"/api/v1/photos/{p.id}/content?variant={v}"
                                      for v in VARIANTS})


refuse_large_uploads(blp, "PHOTO_MAX_BYTES", PhotoTooLarge, "照片")


@blp.route("/photos/<uuid:photo_id>")
class PhotoById(MethodView):
    @blp.arguments(PhotoFormSchema, location="form")
    @blp.arguments(PhotoFileSchema, location="files")
    @blp.response(201, PhotoSchema)
    @blp.alt_response(200, schema=PhotoSchema, description="an identical replay")
    def put(self, form, files, photo_id):
        """Upload a photo under the phone's UUID: 201 new, 200 identical replay, 409 other bytes."""
        config = current_app.config
        meta = PhotoMeta(**{**form, "visit_id": str(form["visit_id"])
                            if form.get("visit_id") else None})
        result = photos.ingest_photo(
            db.session, object_store(), current_actor(), str(photo_id), files["file"].read(),
            meta, rules=current_rules().photos, max_bytes=config["PHOTO_MAX_BYTES"],
            max_pixels=config["PHOTO_MAX_PIXELS"])
        return result.photo, 201 if result.created else 200

    @blp.response(200, PhotoSchema)
    def get(self, photo_id):
        """Read a photo's facts and flags."""
        return photos.get_photo(db.session, current_actor(), str(photo_id))


@blp.route("/photos/<uuid:photo_id>/content")
class PhotoContent(MethodView):
    @blp.arguments(VariantArgsSchema, location="query")
    @blp.response(200, description="the image, or a redirect to a short-lived signed URL")
    def get(self, args, photo_id):
        """Serve a photo's bytes: thumb, large or the original as uploaded."""
        return responses.photo_content(current_actor(), str(photo_id), args["variant"])
