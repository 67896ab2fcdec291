"""The case procedure: where a case stands and what may be done now, taking an action, and
what waits for me."""

from datetime import date
from decimal import Decimal

from flask.views import MethodView
from marshmallow import fields, post_load, validate

from backend.api.base import BaseSchema, Text, api_blueprint, current_actor, today
from backend.api.cases import CaseSchema, CaseStepSchema
from backend.api.money import Area, Yuan
from backend.extensions import db
from backend.rules import current_rules
from backend.services.workflow import engine, todo
from backend.services.workflow.calendar import is_working_day
from backend.services.workflow.engine import ActionInput
from backend.services.workflow.spec import FILING, STAGE_ACTIONS
from backend.vocabulary import (
    DEPARTMENT_RESULTS,
    DEPARTMENTS,
    OBJECTION_STATUSES,
    STATUSES,
)

blp = api_blueprint("workflow", __name__)
PLAUSIBLE_FROM = date(2000, 1, 1)  # no record of this programme is older
# What a user may ask for: the stages' actions, the county's filing, cancelling.
ACTIONS = sorted({a for actions in STAGE_ACTIONS.values() for a in actions} | {FILING, "cancel"})


class StageSchema(BaseSchema):
    code = fields.String()
    label = fields.String()
    type = fields.String()
    source = fields.String()


class ActionOptionSchema(BaseSchema):
    action = fields.String()
    label = fields.String()


class BlockedActionSchema(ActionOptionSchema):
    code = fields.String()
    reasons = fields.List(fields.String())


class PublicitySchema(BaseSchema):
    id = fields.Integer()
    stage = fields.String()
    stage_label = fields.Function(lambda p: STATUSES.get(p.stage, p.stage))
    posted_on = fields.Date()
    earliest_end_on = fields.Date()
    report_phone = fields.String()
    notice_attachment_id = fields.String(allow_none=True)
    ended_on = fields.Date(allow_none=True)


class ObjectionSchema(BaseSchema):
    id = fields.Integer()
    publicity_id = fields.Integer()
    received_on = fields.Date()
    reporter = fields.String(allow_none=True)
    content = fields.String()
    attachment_ids = fields.List(fields.String())
    status = fields.String()
    status_label = fields.Function(lambda o: OBJECTION_STATUSES[o.status])
    outcome_note = fields.String(allow_none=True)
    resolved_on = fields.Date(allow_none=True)


class DepartmentCheckSchema(BaseSchema):
    department = fields.String()
    department_label = fields.Function(lambda c: DEPARTMENTS[c.department])
    sent_on = fields.Date()
    due_on = fields.Date()
    due_is_estimate = fields.Boolean()
    result = fields.String()
    result_label = fields.Function(lambda c: DEPARTMENT_RESULTS[c.result])
    replied_on = fields.Date(allow_none=True)
    note = fields.String(allow_none=True)
    document_attachment_id = fields.String(allow_none=True)


class WorkflowSchema(BaseSchema):
    case = fields.Nested(CaseSchema)
    workflow = fields.Function(lambda s: {"code": s.workflow.code, "version": s.workflow.version,
                                          "name": s.workflow.name, "source": s.workflow.source})
    stage = fields.Function(lambda s: {
        "code": s.case.status, "label": s.stage.label if s.stage else STATUSES[s.case.status],
        "type": s.stage.type if s.stage else None,
        "source": s.stage.source if s.stage else None,
        "checks": [{"code": c, "label": label} for c, label in s.stage.checks]
        if s.stage else []})
    due_on = fields.Function(lambda s: s.due.on.isoformat() if s.due else None)
    due_is_estimate = fields.Function(lambda s: bool(s.due and s.due.estimated))
    allowed_actions = fields.List(fields.Nested(ActionOptionSchema), attribute="allowed")
    blocked = fields.List(fields.Nested(BlockedActionSchema))
    history = fields.List(fields.Nested(CaseStepSchema))
    publicities = fields.List(fields.Nested(PublicitySchema))
    objections = fields.List(fields.Nested(ObjectionSchema))
    department_checks = fields.List(fields.Nested(DepartmentCheckSchema))


class ActionSchema(BaseSchema):
    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    note = Text(allow_none=True, validate=validate.Length(max=2000))
    effective_on = fields.Date(allow_none=True, validate=validate.Range(PLAUSIBLE_FROM))
    attachment_ids = fields.List(fields.UUID(), load_default=list)
    report_phone = Text(allow_none=True, validate=validate.Length(max=30))
    notice_attachment_id = fields.UUID(allow_none=True)
    objection_id = fields.Integer(allow_none=True, validate=validate.Range(1, 2**31 - 1))
    reporter = Text(allow_none=True, validate=validate.Length(max=100))
    content = Text(allow_none=True, validate=validate.Length(max=4000))
    outcome = fields.String(allow_none=True, validate=validate.OneOf(["upheld", "dismissed"]))
    department = fields.String(allow_none=True, validate=validate.OneOf(list(DEPARTMENTS)))
    result = fields.String(allow_none=True, validate=validate.OneOf(["passed", "problem"]))
    rectify_by = fields.Date(allow_none=True,
                             validate=validate.Range(PLAUSIBLE_FROM, date(2100, 1, 1)))
    checks = fields.List(fields.String(validate=validate.Length(1, 40)), load_default=list,
                         validate=validate.Length(max=50),
                         metadata={"description": "pass: the codes of the review's checks "
                                                  "confirmed"})

    justifications = fields.Dict(
        keys=fields.String(validate=validate.Length(1, 40)),
        values=Text(validate=validate.Length(1, 2000)), load_default=dict,
        validate=validate.Length(max=50),
        metadata={"description": "approve, accept: rule code → why a soft policy rule is "
                                 "exceeded (see GET /cases/{id}/policy-check)"})
    area_m2 = Area(allow_none=True, metadata={"description": "accept: the built area (m²)"})
    cost_yuan = Yuan(allow_none=True, minimum=Decimal(0),
                     metadata={"description": "accept: the actual cost (yuan)"})

    @post_load
    def make(self, data, **_):
        data["attachment_ids"] = [str(a) for a in data["attachment_ids"]]
        if data.get("notice_attachment_id"):
            data["notice_attachment_id"] = str(data["notice_attachment_id"])
        return ActionInput(**data)


class TodoSchema(BaseSchema):
    kind = fields.String(metadata={"description": "case, payment, recovery, appraisal, report"})
    household_id = fields.Function(lambda i: i.household.id if i.household else None)
    household_name = fields.Function(lambda i: i.household.name if i.household else None)
    village_code = fields.Function(lambda i: i.household.village_code if i.household else None)
    period = fields.Function(lambda i: f"{i.report.period:%Y-%m}" if i.report else None,
                             metadata={"description": "report: the month it covers"})
    report = fields.Function(lambda i: i.report.report.code if i.report else None)
    region_code = fields.Function(lambda i: i.report.region.code if i.report else None)
    case_id = fields.Integer(allow_none=True)
    stage = fields.String(allow_none=True)
    stage_label = fields.String()
    actions = fields.List(fields.String())
    action_labels = fields.List(fields.String())
    due_on = fields.Date(allow_none=True)
    due_counts_working_days = fields.Boolean(attribute="working_days")
    due_is_estimate = fields.Function(
        lambda i: bool(i.due_on and i.working_days and is_working_day(i.due_on)[1]))
    days_left = fields.Function(lambda i: i.days_left(today()))


class TodoListSchema(BaseSchema):
    items = fields.List(fields.Nested(TodoSchema))


@blp.route("/cases/<int:case_id>/workflow")
class CaseWorkflow(MethodView):
    @blp.response(200, WorkflowSchema)
    def get(self, case_id):
        """The case's stage, its due date, what I may do now and what blocks the rest."""
        return engine.workflow_state(db.session, current_actor(), case_id, today())


@blp.route("/cases/<int:case_id>/actions")
class CaseActions(MethodView):
    @blp.arguments(ActionSchema)
    @blp.response(200, WorkflowSchema)
    def post(self, body, case_id):
        """Take one action; 409 invalid_transition, 422 with the rule that blocks it."""
        return engine.perform(db.session, current_actor(), case_id, body, today(),
                              photo_rules=current_rules().photos)


@blp.route("/me/todo")
class MyTodo(MethodView):
    @blp.response(200, TodoListSchema)
    def get(self):
        """What waits for me: steps my role acts on in my area, the soonest due first."""
        return {"items": todo.todo(db.session, current_actor(), today())}
