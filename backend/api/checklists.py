"""Checklist templates: the newest version of each, or one version with its nodes and items."""

from flask.views import MethodView
from marshmallow import fields, validate

from backend.api.base import BaseSchema, api_blueprint
from backend.extensions import db
from backend.services import checklists

blp = api_blueprint("checklists", __name__)


class TemplateRefSchema(BaseSchema):
    code = fields.String(required=True, validate=validate.Length(1, 40))
    version = fields.Integer(load_default=None, allow_none=True)


class TemplateSummarySchema(BaseSchema):
    code = fields.String()
    version = fields.Integer()
    name = fields.String()
    kinds = fields.Function(lambda t: t.spec.get("kind", []))
    methods = fields.Function(lambda t: t.spec.get("methods", []))


@blp.route("/checklists")
class Checklists(MethodView):
    @blp.response(200, TemplateSummarySchema(many=True))
    def get(self):
        """List the newest version of every checklist template."""
        return checklists.latest_templates(db.session)


@blp.route("/checklists/<string:code>")
class ChecklistByCode(MethodView):
    @blp.arguments(TemplateRefSchema(only=("version",)), location="query")
    @blp.response(200)
    def get(self, args, code):
        """Return a template (the newest version, or `?version=N`) with nodes and items."""
        template = checklists.find_template(db.session, code, args.get("version"))
        return {**template.spec, "version": template.version}
