"""Photo flags: a reviewer confirms or dismisses one, with a reason; it stays on the photo."""

from flask.views import MethodView
from marshmallow import fields, validate

from backend.api.base import BaseSchema, api_blueprint, current_actor
from backend.api.photos import PhotoSchema
from backend.extensions import db
from backend.services.photos import flags

blp = api_blueprint("flags", __name__)


class FlagReviewSchema(BaseSchema):
    decision = fields.String(required=True, validate=validate.OneOf(["confirm", "dismiss"]))
    reason = fields.String(allow_none=True, load_default=None,
                           validate=validate.Length(max=2000))


@blp.route("/photos/<uuid:photo_id>/flags/<code>/review")
class FlagReview(MethodView):
    @blp.arguments(FlagReviewSchema)
    @blp.response(200, PhotoSchema)
    def post(self, body, photo_id, code):
        """Confirm or dismiss a photo's flag; dismissing needs a reason."""
        return flags.decide_flag(db.session, current_actor(), str(photo_id), code,
                                  body["decision"], body["reason"])
