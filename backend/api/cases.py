"""Renovation cases: register an application for a household, list with filters, read, edit
the facts. The stage moves only through POST /cases/{id}/actions (backend/api/workflow.py)."""

from datetime import date

from flask.views import MethodView
from marshmallow import ValidationError, fields, validate

from backend.api.base import (
    BaseSchema,
    PageArgsSchema,
    Text,
    api_blueprint,
    current_actor,
    cursor_key,
    today,
)
from backend.api.households import AppraisalSchema
from backend.extensions import db
from backend.services import cases, households, ids
from backend.services.cases.records import CaseQuery
from backend.vocabulary import (
    ACTION_LABELS,
    BUILD_MODES,
    CATEGORIES,
    METHODS,
    STATUSES,
    STRUCTURE_TYPES,
)

blp = api_blueprint("cases", __name__)


def valid_id_number(value: str) -> None:
    if problem := ids.id_number_problem(value):
        raise ValidationError(problem)


class FamilyMemberSchema(BaseSchema):
    name = Text(required=True, validate=validate.Length(1, 50))
    id_number = Text(required=True, validate=valid_id_number)
    relation = Text(required=True, validate=validate.Length(1, 20))  # 与户主关系
    health = Text(allow_none=True, validate=validate.Length(max=50))


class CurrentHouseSchema(BaseSchema):
    year_built = fields.Integer(allow_none=True, validate=validate.Range(1800, 2100))
    area_m2 = fields.Decimal(allow_none=True, places=2, validate=validate.Range(0, 10000))
    rooms = fields.Integer(allow_none=True, validate=validate.Range(0, 100))
    structure_type = Text(allow_none=True, validate=validate.OneOf(STRUCTURE_TYPES))
    condition = Text(allow_none=True, validate=validate.Length(max=500))


class ApplicationSchema(BaseSchema):
    """The household's written application (003 §四(一) 个人申请; 004 §二(二))."""

    applicant = Text(validate=validate.Length(1, 50))
    applied_on = fields.Date(allow_none=True, validate=validate.Range(date(2000, 1, 1)))
    on_behalf_by_village = fields.Boolean(load_default=False)  # 村委会帮其提出申请
    members = fields.List(fields.Nested(FamilyMemberSchema), load_default=list)
    hardship = Text(allow_none=True, validate=validate.Length(max=200))
    house = fields.Nested(CurrentHouseSchema, allow_none=True)
    reason = Text(allow_none=True, validate=validate.Length(max=2000))
    requested_method = Text(allow_none=True, validate=validate.OneOf(METHODS))
    requested_standard = Text(allow_none=True, validate=validate.Length(max=200))
    own_funds_yuan = fields.Decimal(allow_none=True, places=2, validate=validate.Range(0, 10**8))
    no_house = fields.Boolean(load_default=False)  # 无房户 (003 §四(五)3(2))
    disabled_family = fields.Boolean(load_default=False)  # 贫困残疾人家庭
    # 004 §二(二) 另有安全住房的不得纳入危房改造范围: declared, the hard rule refuses approval.
    other_safe_house = fields.Boolean(load_default=False)
    # 004 §二(三) 已实施过危房改造但由于小型自然灾害等原因又变成危房: an earlier renovation then
    # needs a written reason instead of being refused.
    redamaged_by_disaster = fields.Boolean(load_default=False)


class CaseFieldsSchema(BaseSchema):
    year = fields.Integer(required=True, validate=validate.Range(2000, 2100))
    method = fields.String(required=True, validate=validate.OneOf(METHODS))
    build_mode = fields.String(required=True, validate=validate.OneOf(BUILD_MODES))
    appraisal_id = fields.Integer(load_only=True, allow_none=True)
    planned_start_on = fields.Date(allow_none=True)
    planned_end_on = fields.Date(allow_none=True)
    # Money and areas are set by the approval's plan (PUT /cases/{id}/funding) and by the
    # acceptance (the `accept` action), where the county's policy rules check them.
    area_after_m2 = fields.Decimal(dump_only=True, places=2, as_string=True)
    cost_yuan = fields.Decimal(dump_only=True, places=2, as_string=True)
    subsidy_yuan = fields.Decimal(dump_only=True, places=2, as_string=True)
    notes = fields.String(allow_none=True)
    application = fields.Nested(ApplicationSchema, load_default=dict)


class CaseStepSchema(BaseSchema):
    id = fields.Integer()
    stage = fields.String()
    stage_label = fields.Function(lambda s: STATUSES.get(s.stage, s.stage))
    action = fields.String()
    action_label = fields.Function(lambda s: ACTION_LABELS.get(s.action, s.action))
    to_stage = fields.String()
    to_stage_label = fields.Function(lambda s: STATUSES.get(s.to_stage, s.to_stage))
    effective_on = fields.Date()
    acted_at = fields.DateTime()
    actor_id = fields.Integer(allow_none=True)
    note = fields.String(allow_none=True)
    data = fields.Dict()
    attachment_ids = fields.List(fields.String())
    outside_system = fields.Boolean()


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
    application = fields.Dict(dump_only=True)  # as stored: plain JSON, dates and money as text
    village_code = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    status_label = fields.Function(lambda c: STATUSES[c.status], dump_only=True)
    agreement_signed_on = fields.Date(dump_only=True)  # stamped by the action that signs it
    stage_entered_on = fields.Date(dump_only=True)
    due_on = fields.Date(dump_only=True)
    closed_reason = fields.String(dump_only=True)
    started_on = fields.Date(dump_only=True)
    completed_on = fields.Date(dump_only=True)
    town_accepted_on = fields.Date(dump_only=True)
    accepted_on = fields.Date(dump_only=True)
    paid_on = fields.Date(dump_only=True)
    archived_on = fields.Date(dump_only=True)
    appraisal = fields.Nested(AppraisalSchema, dump_only=True, allow_none=True)
    history = fields.List(fields.Nested(CaseStepSchema), dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


def not_writable(_value) -> None:
    raise ValidationError("项目环节只能通过办理事项变更（POST /api/v1/cases/{id}/actions）")


class CasePatchSchema(CaseFieldsSchema):
    # Named, so the refusal says why instead of "unknown field".
    status = fields.Raw(load_only=True, validate=not_writable)
    status_effective_on = fields.Raw(load_only=True, validate=not_writable)
    status_note = fields.Raw(load_only=True, validate=not_writable)


class CaseQueryArgsSchema(PageArgsSchema):
    region = fields.String(load_default=None, validate=validate.Length(equal=12))
    status = fields.String(load_default=None, validate=validate.OneOf(list(STATUSES)))
    method = fields.String(load_default=None, validate=validate.OneOf(METHODS))
    year = fields.Integer(load_default=None, validate=validate.Range(2000, 2100))
    household_id = fields.Integer(load_default=None, validate=validate.Range(1, 2**31 - 1))


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
        """Register a household's application: a case at its county's first stage."""
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
        """Read a case with its steps."""
        return cases.get_case(db.session, current_actor(), case_id)

    @blp.arguments(CasePatchSchema(partial=True))
    @blp.response(200, CaseSchema)
    def patch(self, body, case_id):
        """Edit a case's facts; `status` is refused (it moves only through actions)."""
        return cases.update_case(db.session, current_actor(), case_id, body, today=today())
