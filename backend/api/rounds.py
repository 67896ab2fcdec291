"""Survey rounds: open, list, progress per village, reassign, discoveries, close, export."""


from flask import request
from flask.views import MethodView
from marshmallow import fields, validate

from backend import responses
from backend.api.base import BaseSchema, api_blueprint, current_actor
from backend.api.households import HouseholdFieldsSchema, HouseholdSchema
from backend.extensions import db
from backend.services import rounds
from backend.services.rounds import export as round_export
from backend.services.rounds.lifecycle import RoundSpec
from backend.vocabulary import AREA_ROUND_KINDS, CATEGORIES, OUTCOME_LABELS, ROUND_KINDS

blp = api_blueprint("rounds", __name__)


class RoundSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    kind = fields.String(required=True, validate=validate.OneOf(AREA_ROUND_KINDS))
    kind_label = fields.Function(lambda r: ROUND_KINDS[r.kind], dump_only=True)
    name = fields.String(required=True, validate=validate.Length(1, 100))
    period = fields.String(allow_none=True, validate=validate.Length(max=20))
    cause = fields.String(allow_none=True, validate=validate.Length(max=500))
    starts_on = fields.Date(required=True)
    due_on = fields.Date(required=True)
    area_codes = fields.List(fields.String(validate=validate.Length(equal=12)), required=True,
                             validate=validate.Length(min=1))
    categories = fields.List(fields.String(validate=validate.OneOf(list(CATEGORIES))),
                             load_default=list)
    region_code = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    opened_at = fields.DateTime(dump_only=True)
    closed_at = fields.DateTime(dump_only=True, allow_none=True)


class CoverageSchema(BaseSchema):
    total = fields.Integer()
    visited = fields.Integer()
    unvisited = fields.Integer()
    revisit_needed = fields.Integer()
    found = fields.Integer()


class VillageCoverageSchema(CoverageSchema):
    village_code = fields.String()
    village_name = fields.String(allow_none=True)
    outcomes = fields.Dict(keys=fields.String(), values=fields.Integer())


class UnvisitedSchema(BaseSchema):
    household_id = fields.Integer()
    name = fields.String()
    village_code = fields.String()
    inspector_id = fields.Integer(allow_none=True)
    inspector_name = fields.String(allow_none=True)
    skip_reason = fields.String(allow_none=True)
    case_id = fields.Integer(allow_none=True)


class ProgressSchema(BaseSchema):
    round = fields.Nested(RoundSchema)
    totals = fields.Nested(CoverageSchema)
    villages = fields.List(fields.Nested(VillageCoverageSchema))
    unvisited = fields.List(fields.Nested(UnvisitedSchema))
    outcome_labels = fields.Function(lambda _: OUTCOME_LABELS)


class ReassignSchema(BaseSchema):
    household_ids = fields.List(fields.Integer(), required=True, validate=validate.Length(min=1))
    inspector_id = fields.Integer(required=True)


class CloseSchema(BaseSchema):
    reasons = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    default_reason = fields.String(load_default=None, validate=validate.Length(max=500),
                                   metadata={"description": "给其余未说明原因的未排查农户"})


class DiscoverySchema(HouseholdFieldsSchema):
    lat = fields.Float(validate=validate.Range(-90, 90))
    lon = fields.Float(validate=validate.Range(-180, 180))


class AssignedHouseholdSchema(BaseSchema):
    household = fields.Nested(HouseholdSchema)
    visited_at = fields.DateTime(allow_none=True)
    outcome = fields.String(allow_none=True)
    outcome_label = fields.Function(lambda r: OUTCOME_LABELS.get(r.outcome))
    revisit_needed = fields.Boolean()
    found_in_round = fields.Boolean()
    visit_id = fields.String(allow_none=True)


class AssignmentSchema(BaseSchema):
    round = fields.Nested(RoundSchema)
    households = fields.List(fields.Nested(AssignedHouseholdSchema))


@blp.route("/rounds")
class Rounds(MethodView):
    @blp.response(200, RoundSchema(many=True))
    def get(self):
        """List the rounds that touch my area, newest first."""
        return rounds.list_rounds(db.session, current_actor())

    @blp.arguments(RoundSchema)
    @blp.response(201, RoundSchema)
    def post(self, body):
        """Open a routine or emergency round over towns or villages; assigns every household."""
        return rounds.open_round(db.session, current_actor(), RoundSpec(**body))


@blp.route("/rounds/<int:round_id>")
class RoundById(MethodView):
    @blp.response(200, RoundSchema)
    def get(self, round_id):
        """Read one round."""
        return rounds.get_round(db.session, current_actor(), round_id)


@blp.route("/rounds/<int:round_id>/progress")
class RoundProgress(MethodView):
    @blp.response(200, ProgressSchema)
    def get(self, round_id):
        """Coverage per village, outcomes, revisits and the households not yet visited."""
        return rounds.progress(db.session, current_actor(), round_id)


@blp.route("/rounds/<int:round_id>/assignments")
class RoundAssignments(MethodView):
    @blp.arguments(ReassignSchema)
    @blp.response(200)
    def patch(self, body, round_id):
        """Move households of this round to another inspector."""
        moved = rounds.reassign(db.session, current_actor(), round_id, body["household_ids"],
                                body["inspector_id"])
        return {"moved": moved}


@blp.route("/rounds/<int:round_id>/discoveries")
class RoundDiscoveries(MethodView):
    @blp.arguments(DiscoverySchema)
    @blp.response(201, AssignedHouseholdSchema)
    def post(self, body, round_id):
        """以房找人: register a house found on the spot and add it to the round."""
        return rounds.add_discovery(db.session, current_actor(), round_id, body)


@blp.route("/rounds/<int:round_id>/close")
class RoundClose(MethodView):
    @blp.arguments(CloseSchema)
    @blp.response(200, RoundSchema)
    def post(self, body, round_id):
        """Close the round; refused while a household is unvisited without a reason."""
        reasons = {int(key): reason for key, reason in body["reasons"].items()
                   if key.isascii() and key.isdigit()}
        return rounds.close_round(db.session, current_actor(), round_id, reasons,
                                  default_reason=body["default_reason"])


@blp.route("/rounds/<int:round_id>/export.xlsx")
class RoundExport(MethodView):
    @blp.response(200, description="XLSX: one row per household and a summary per village")
    def get(self, round_id):
        """Download the round's results as an Excel workbook."""
        name, data = round_export.workbook(db.session, current_actor(), round_id,
                                           base_url=request.host_url)
        return responses.download(data, name, responses.XLSX)


@blp.route("/me/assignments")
class MyAssignments(MethodView):
    @blp.response(200, AssignmentSchema(many=True))
    def get(self):
        """My households in open rounds, in walking order, for the phone's offline cache."""
        return rounds.assignments(db.session, current_actor())
