"""Visits: idempotent create-or-replay from the phone, review, lists; rectifications; case
timeline."""

from datetime import UTC

from flask import request
from flask.views import MethodView
from marshmallow import fields, post_load, validate

from backend.api.base import BaseSchema, api_blueprint, current_actor, today
from backend.api.cases import CaseSchema
from backend.api.checklists import TemplateRefSchema
from backend.api.households import HouseholdSchema
from backend.api.photos import PhotoSchema
from backend.extensions import db
from backend.rules import current_rules
from backend.services import visits
from backend.services.cases import timeline
from backend.services.visits.inputs import (
    Position,
    RectificationInput,
    ResultInput,
    Signoff,
    VisitInput,
)
from backend.vocabulary import (
    OUTCOME_LABELS,
    PHASES,
    RESULT_LABELS,
    REVIEW_STATES,
    VISIT_KIND_LABELS,
)

blp = api_blueprint("visits", __name__)


class PositionSchema(BaseSchema):
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))
    accuracy_m = fields.Float(allow_none=True, validate=validate.Range(0, 100_000))
    fix_at = fields.AwareDateTime(default_timezone=UTC, allow_none=True)

    @post_load
    def make(self, data, **_):
        return Position(**data)


class RectificationInputSchema(BaseSchema):
    """What the inspector may set on the spot for a failed item; defaults fill the rest."""

    task = fields.String(validate=validate.Length(max=1000))
    measure = fields.String(validate=validate.Length(max=1000))
    responsible = fields.String(validate=validate.Length(max=100))
    due_on = fields.Date()

    @post_load
    def make(self, data, **_):
        return RectificationInput(**data)


class ResultSchema(BaseSchema):
    item = fields.String(required=True, validate=validate.Length(1, 80))
    result = fields.String(required=True, validate=validate.OneOf(list(RESULT_LABELS)))
    value = fields.Float(allow_none=True)
    note = fields.String(allow_none=True, validate=validate.Length(max=2000))
    photos = fields.List(fields.UUID(), load_default=list)
    rectification = fields.Nested(RectificationInputSchema, allow_none=True)

    @post_load
    def make(self, data, **_):
        return ResultInput(**{**data, "photos": [str(p) for p in data["photos"]]})


class SignoffSchema(BaseSchema):
    role = fields.String(required=True, validate=validate.Length(1, 20))
    name = fields.String(required=True, validate=validate.Length(0, 50))
    signed_at = fields.AwareDateTime(default_timezone=UTC, allow_none=True)

    @post_load
    def make(self, data, **_):
        return Signoff(**data)


class VisitBodySchema(BaseSchema):
    household_id = fields.Integer(required=True)
    case_id = fields.Integer(allow_none=True)
    round_id = fields.Integer(allow_none=True)
    kind = fields.String(required=True, validate=validate.OneOf(list(VISIT_KIND_LABELS)))
    phase = fields.String(required=True, validate=validate.OneOf(list(PHASES)))
    template = fields.Nested(TemplateRefSchema, required=True)
    started_at = fields.AwareDateTime(required=True, default_timezone=UTC)
    ended_at = fields.AwareDateTime(required=True, default_timezone=UTC)
    position = fields.Nested(PositionSchema, allow_none=True)
    note = fields.String(allow_none=True, validate=validate.Length(max=4000))
    results = fields.List(fields.Nested(ResultSchema), load_default=list)
    outcome = fields.String(allow_none=True)
    danger_points = fields.List(fields.String(), load_default=list)
    photos = fields.List(fields.UUID(), load_default=list)
    signoffs = fields.List(fields.Nested(SignoffSchema), load_default=list)
    appraisal_after = fields.String(allow_none=True, validate=validate.OneOf("ABCD"))
    # A resubmission (补拍/修改): the returned visit of the same household it answers.
    answers_visit_id = fields.UUID(allow_none=True)

    @post_load
    def make(self, data, **_):
        template, photos = data.pop("template"), data.pop("photos")
        answers = data.pop("answers_visit_id", None)
        return VisitInput(**data, template_code=template["code"],
                          template_version=template.get("version"),
                          photos=[str(p) for p in photos],
                          answers_visit_id=str(answers) if answers else None)


class ResultOutSchema(BaseSchema):
    node = fields.String(attribute="node_code")
    item = fields.String(attribute="item_code")
    result = fields.String()
    result_label = fields.Function(lambda r: RESULT_LABELS[r.result])
    value = fields.Float(allow_none=True)
    note = fields.String(allow_none=True)
    photos = fields.List(fields.String(), attribute="photo_ids")


class MissingPhotoSchema(BaseSchema):
    node = fields.String()
    item = fields.String()


class CaseGapSchema(MissingPhotoSchema):
    """A required photo the case lacks over all its visits."""

    phase = fields.String()
    label = fields.String()
    visit_id = fields.String()


class VisitSchema(BaseSchema):
    id = fields.String()
    household_id = fields.Integer()
    case_id = fields.Integer(allow_none=True)
    round_id = fields.Integer(allow_none=True)
    kind = fields.String()
    kind_label = fields.Function(lambda v: VISIT_KIND_LABELS[v.kind])
    phase = fields.String()
    phase_label = fields.Function(lambda v: PHASES[v.phase])
    template = fields.Function(lambda v: {"code": v.template.code, "version": v.template.version,
                                          "name": v.template.name})
    started_at = fields.DateTime()
    ended_at = fields.DateTime()
    position = fields.Function(lambda v: None if v.device_lat is None else {
        "lat": v.device_lat, "lon": v.device_lon, "accuracy_m": v.device_accuracy_m,
        "fix_at": v.device_fix_at.isoformat() if v.device_fix_at else None, "crs": "WGS-84"})
    inspector_id = fields.Integer()
    note = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)
    outcome_label = fields.Function(lambda v: OUTCOME_LABELS.get(v.outcome))
    danger_points = fields.List(fields.String())
    signoffs = fields.List(fields.Dict())
    appraisal_after = fields.String(allow_none=True)
    results = fields.List(fields.Nested(ResultOutSchema))
    received_at = fields.DateTime()
    review_state = fields.String()
    review_state_label = fields.Function(lambda v: REVIEW_STATES[v.review_state])
    review_comment = fields.String(allow_none=True)
    reviewed_by = fields.Integer(allow_none=True)
    reviewed_at = fields.DateTime(allow_none=True)
    answers_visit_id = fields.String(allow_none=True)
    resolved_by_visit_id = fields.String(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)
    # Returned and not yet resolved by an approved answer: what the phone's notice counts.
    return_open = fields.Boolean()
    missing_photos = fields.List(fields.Nested(MissingPhotoSchema))


class ReviewSchema(BaseSchema):
    decision = fields.String(required=True, validate=validate.OneOf(["approve", "return"]))
    comment = fields.String(allow_none=True, validate=validate.Length(max=2000))


class VisitQueryArgsSchema(BaseSchema):
    mine = fields.Boolean(load_default=False)
    household_id = fields.Integer(load_default=None)
    case_id = fields.Integer(load_default=None)
    review_state = fields.String(load_default=None, validate=validate.OneOf(list(REVIEW_STATES)))
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 500))


class VisitListSchema(BaseSchema):
    items = fields.List(fields.Nested(VisitSchema))


@blp.route("/visits/<uuid:visit_id>")
class VisitById(MethodView):
    @blp.arguments(VisitBodySchema)
    @blp.response(201, VisitSchema)
    @blp.alt_response(200, schema=VisitSchema, description="an identical replay")
    def put(self, body, visit_id):
        """Record a visit under the phone's UUID: 201 new, 200 identical replay, 409 other body."""
        visit, created = visits.record_visit(
            db.session, current_actor(), str(visit_id), body, rules=current_rules().visits,
            digest=visits.body_hash(request.get_json()))
        return visits.with_gaps(db.session, [visit])[0], 201 if created else 200

    @blp.response(200, VisitSchema)
    def get(self, visit_id):
        """Read a visit with its results and review."""
        visit = visits.get_visit(db.session, current_actor(), str(visit_id))
        return visits.with_gaps(db.session, [visit])[0]


@blp.route("/visits/<uuid:visit_id>/review")
class VisitReview(MethodView):
    @blp.arguments(ReviewSchema)
    @blp.response(200, VisitSchema)
    def post(self, body, visit_id):
        """Approve a visit, or return it to the inspector with a comment."""
        visit = visits.review_visit(db.session, current_actor(), str(visit_id), body["decision"],
                                    body.get("comment"), today=today())
        return visits.with_gaps(db.session, [visit])[0]


@blp.route("/visits")
class Visits(MethodView):
    @blp.arguments(VisitQueryArgsSchema, location="query")
    @blp.response(200, VisitListSchema)
    def get(self, args):
        """List visits in my area; `mine=true` for my own, returned ones first."""
        rows = visits.list_visits(db.session, current_actor(), **args)
        return {"items": visits.with_gaps(db.session, rows)}


class RectificationSchema(BaseSchema):
    id = fields.Integer()
    household_id = fields.Integer()
    case_id = fields.Integer(allow_none=True)
    node = fields.String(attribute="node_code")
    item = fields.String(attribute="item_code")
    problem = fields.String()
    task = fields.String()
    measure = fields.String(allow_none=True)
    responsible = fields.String(allow_none=True)
    due_on = fields.Date()

    @post_load
    def make(self, data, **_):
        return RectificationInput(**data)
    overdue = fields.Function(lambda r: r.status == "open" and r.due_on < today())
    status = fields.String()
    status_label = fields.Function(lambda r: "已销号" if r.status == "closed" else "整改中")
    opened_by_visit_id = fields.String()
    opened_at = fields.DateTime()
    closed_by_visit_id = fields.String(allow_none=True)
    closed_by = fields.Integer(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)


class RectificationQueryArgsSchema(BaseSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(["open", "closed"]))
    overdue = fields.Boolean(load_default=False)
    household_id = fields.Integer(load_default=None)
    case_id = fields.Integer(load_default=None)
    limit = fields.Integer(load_default=200, validate=validate.Range(1, 1000))


class RectificationListSchema(BaseSchema):
    items = fields.List(fields.Nested(RectificationSchema))


@blp.route("/rectifications")
class Rectifications(MethodView):
    @blp.arguments(RectificationQueryArgsSchema, location="query")
    @blp.response(200, RectificationListSchema)
    def get(self, args):
        """List rectifications in my area; `overdue=true` for open ones past their 时限."""
        overdue = args.pop("overdue")
        rows = visits.list_rectifications(db.session, current_actor(),
                                          overdue_on=today() if overdue else None, **args)
        return {"items": rows}


class NodeGroupSchema(BaseSchema):
    node = fields.String(attribute="code")
    name = fields.String()
    photos = fields.List(fields.Nested(PhotoSchema))


class PhaseGroupSchema(BaseSchema):
    phase = fields.String()
    label = fields.String()
    nodes = fields.List(fields.Nested(NodeGroupSchema))


class TimelineSchema(BaseSchema):
    household = fields.Nested(HouseholdSchema)
    case = fields.Nested(CaseSchema)
    visits = fields.List(fields.Nested(VisitSchema))
    phases = fields.List(fields.Nested(PhaseGroupSchema))
    rectifications = fields.List(fields.Nested(RectificationSchema))
    missing_photos = fields.List(fields.Nested(CaseGapSchema))
    flag_counts = fields.Dict()


@blp.route("/cases/<int:case_id>/timeline")
class CaseTimeline(MethodView):
    @blp.response(200, TimelineSchema)
    def get(self, case_id):
        """The case's evidence: visits, photos by phase and node, flags, rectifications."""
        return timeline.case_timeline(db.session, current_actor(), case_id)
