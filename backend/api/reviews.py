"""What reviewers work through: the queue of submitted visits (待审核) and the suspected
dangerous houses (疑似危房) with their 5-day and 7-day clocks."""

from flask.views import MethodView
from marshmallow import fields, validate

from backend.api.base import BaseSchema, api_blueprint, current_actor, today
from backend.api.photos import PhotoSchema
from backend.api.visits import VisitSchema
from backend.extensions import db
from backend.rules import current_rules
from backend.services.visits import reviewing

blp = api_blueprint("reviews", __name__)


class QueueArgsSchema(BaseSchema):
    kind = fields.String(load_default=None, validate=validate.OneOf(list(reviewing.QUEUE_KINDS)))
    village = fields.String(load_default=None, validate=validate.Regexp(r"^\d{12}$"))
    limit = fields.Integer(load_default=200, validate=validate.Range(1, 500))


class ReviewedSchema(BaseSchema):
    visit = fields.Nested(VisitSchema)
    household = fields.Function(lambda r: {"id": r.household.id, "name": r.household.name,
                                           "village_code": r.household.village_code,
                                           "village_name": r.village_name})
    found_house = fields.Boolean()
    danger_points = fields.Function(lambda r: [
        {"code": c, "label": label} for c, label in zip(r.visit.danger_points or [],
                                                        r.danger_labels, strict=True)])
    photos = fields.List(fields.Nested(PhotoSchema))


class ClocksSchema(BaseSchema):
    found_on = fields.Date()
    report_due = fields.Date()
    reported_on = fields.Date()
    reported_late = fields.Function(lambda c: c.reported_on > c.report_due)
    appraise_due = fields.Date()
    appraised_on = fields.Date(allow_none=True)
    appraisal_overdue = fields.Function(lambda c: (c.appraised_on or today()) > c.appraise_due)


class SuspectedSchema(ReviewedSchema):
    clocks = fields.Nested(ClocksSchema)


class QueueSchema(BaseSchema):
    items = fields.List(fields.Nested(ReviewedSchema))


class SuspectedListSchema(BaseSchema):
    items = fields.List(fields.Nested(SuspectedSchema))


@blp.route("/review-queue")
class ReviewQueue(MethodView):
    @blp.arguments(QueueArgsSchema, location="query")
    @blp.response(200, QueueSchema)
    def get(self, args):
        """Submitted visits in my area awaiting review, oldest first; by kind and village."""
        return {"items": reviewing.review_queue(db.session, current_actor(), **args)}


@blp.route("/suspected-houses")
class SuspectedHouses(MethodView):
    @blp.response(200, SuspectedListSchema)
    def get(self):
        """Suspected dangerous houses found by surveys, with the report and appraisal clocks."""
        return {"items": reviewing.suspected_houses(db.session, current_actor(),
                                                    current_rules().deadlines)}
