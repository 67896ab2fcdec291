"""The region tree inside the caller's area."""

from flask.views import MethodView
from marshmallow import fields

from backend.api.base import BaseSchema, api_blueprint, current_actor
from backend.extensions import db
from backend.services import regions

blp = api_blueprint("regions", __name__)


class RegionNodeSchema(BaseSchema):
    code = fields.String()
    name = fields.String()
    level = fields.String()
    parent_code = fields.String(allow_none=True)
    children = fields.List(fields.Nested(lambda: RegionNodeSchema()))


@blp.route("/regions")
class Regions(MethodView):
    @blp.response(200, RegionNodeSchema(many=True))
    def get(self):
        """Return my regions as trees down to the villages."""
        return regions.region_tree(db.session, current_actor())
