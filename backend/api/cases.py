"""Renovation cases: open one for a household, list with filters, read, edit and move status."""

from flask.views import MethodView
from marshmallow import fields, validate

from backend.api.base import (
    BaseSchema,
    PageArgsSchema,
    api_blueprint,
    current_actor,
    cursor_key,
    today,
)
from backend.api.households import AppraisalSchema
from backend.extensions import db
from backend.services import cases, households
from backend.services.cases.records import CaseQuery
from backend.vocabulary import BUILD_MODES, CATEGORIES, METHODS, STATUSES

blp = api_blueprint("cases", __name__)


class CaseFieldsSchema(BaseSchema):
    year = fields.Integer(required=True, validate=validate.Range(2000, 2100))
    method = fields.String(required=True, validate=validate.OneOf(METHODS))
    build_mode = fields.String(required=True, validate=validate.OneOf(BUILD_MODES))
    appraisal_id = fields.Integer(load_only=True, allow_none=True)
    agreement_signed_on = fields.Date(allow_none=True)
    planned_start_on = fields.Date(allow_none=True)
    planned_end_on = fields.Date(allow_none=True)
    area_after_m2 = fields.Decimal(allow_none=True, places=2, as_string=False,
                                   validate=validate.Range(0, 10000))
    cost_yuan = fields.Decimal(allow_none=True, places=2, validate=validate.Range(0, 10**8))
    subsidy_yuan = fields.Decimal(allow_none=True, places=2, validate=validate.Range(0, 10**7))
    notes = fields.String(allow_none=True)


class StatusChangeSchema(BaseSchema):
    status = fields.String()
    status_label = fields.Function(lambda s: STATUSES[s.status])
    effective_on = fields.Date()
    changed_at = fields.DateTime()
    changed_by = fields.Integer(allow_none=True)
    note = fields.String(allow_none=True)


class HouseholdBriefSchema(BaseSchema):
    id = fields.Integer()
    name = fields.String()
    village_code = fields.String()
    village_name = fields.Function(lambda h: h.village.name)
    category = fields.String()
    category_label = fields.Function(lambda h: CATEGORIES[h.category])


class CaseSchema(CaseFieldsSchema):
    id = fields.Integer(dump_only=True)
    household_id = fields.Integer(dump_only=True)
    household = fields.Nested(HouseholdBriefSchema, dump_only=True)
    village_code = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    status_label = fields.Function(lambda c: STATUSES[c.status], dump_only=True)
    started_on = fields.Date(dump_only=True)
    completed_on = fields.Date(dump_only=True)
    accepted_on = fields.Date(dump_only=True)
    paid_on = fields.Date(dump_only=True)
    appraisal = fields.Nested(AppraisalSchema, dump_only=True, allow_none=True)
    history = fields.List(fields.Nested(StatusChangeSchema), dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class CasePatchSchema(CaseFieldsSchema):
    status = fields.String(validate=validate.OneOf(list(STATUSES)))
    status_effective_on = fields.Date()
    status_note = fields.String(validate=validate.Length(max=500))


class CaseQueryArgsSchema(PageArgsSchema):
    region = fields.String(load_default=None, validate=validate.Length(equal=12))
    status = fields.String(load_default=None, validate=validate.OneOf(list(STATUSES)))
    method = fields.String(load_default=None, validate=validate.OneOf(METHODS))
    year = fields.Integer(load_default=None)
    household_id = fields.Integer(load_default=None)


class CasePageSchema(BaseSchema):
    items = fields.List(fields.Nested(CaseSchema))
    next_cursor = fields.String(allow_none=True)


@blp.route("/households/<int:household_id>/cases")
class HouseholdCases(MethodView):
    @blp.response(200, CaseSchema(many=True))
    def get(self, household_id):
        """List a household's cases, oldest first."""
        household = households.get_household(db.session, current_actor(), household_id)
        return household.cases

    @blp.arguments(CaseFieldsSchema)
    @blp.response(201, CaseSchema)
    def post(self, body, household_id):
        """Open a renovation case for a household rated C or D."""
        return cases.open_case(db.session, current_actor(), household_id, body, today=today())


@blp.route("/cases")
class Cases(MethodView):
    @blp.arguments(CaseQueryArgsSchema, location="query")
    @blp.response(200, CasePageSchema)
    def get(self, args):
        """List cases in my area, filtered by region, status, method and year."""
        rows, next_cursor = cases.list_cases(db.session, current_actor(), CaseQuery(**args),
                                             cursor_key=cursor_key())
        return {"items": rows, "next_cursor": next_cursor}


@blp.route("/cases/<int:case_id>")
class CaseById(MethodView):
    @blp.response(200, CaseSchema)
    def get(self, case_id):
        """Read a case with its status history."""
        return cases.get_case(db.session, current_actor(), case_id)

    @blp.arguments(CasePatchSchema(partial=True))
    @blp.response(200, CaseSchema)
    def patch(self, body, case_id):
        """Edit a case; a new status must follow the workflow and is dated."""
        return cases.update_case(db.session, current_actor(), case_id, body, today=today())
