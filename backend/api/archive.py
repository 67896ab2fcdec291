"""Households' archives (一户一档): one household's as a PDF, and an area's for a year as one
ZIP streamed as it is built (a folder per household: its PDF and its documents; a manifest of
each archive's completeness).

Who reads: everyone who may read the household; ID numbers, phones and accounts are masked
for roles without the PII right. A household or an area outside mine is not found (404)."""

from flask.views import MethodView
from marshmallow import fields, validate

from backend import responses
from backend.api.base import BaseSchema, api_blueprint, current_actor, today
from backend.extensions import db, object_store
from backend.models.base import utc_now
from backend.services.archive import bundle, pdf

blp = api_blueprint("archive", __name__)
YEARS = validate.Range(2000, 2100)


class ArchiveArgsSchema(BaseSchema):
    year = fields.Integer(load_default=None, validate=YEARS,
                          metadata={"description": "the case's year; default: the latest case"})


class BundleArgsSchema(BaseSchema):
    region = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{12}$"),
                           metadata={"description": "a town's (or any area's) code, in mine"})
    year = fields.Integer(required=True, validate=YEARS)


@blp.route("/households/<int:household_id>/archive.pdf")
class HouseholdArchive(MethodView):
    @blp.arguments(ArchiveArgsSchema, location="query")
    @blp.response(200, description="PDF: the record form (003 附件2), the procedure, the "
                                    "money, the completeness list and the photos")
    def get(self, args, household_id):
        """The household's archive as a PDF."""
        name, data = pdf.household_pdf(db.session, object_store(), current_actor(),
                                       household_id, year=args["year"], today=today(),
                                       now=utc_now())
        return responses.download(data, name, responses.PDF)


@blp.route("/archives.zip")
class ArchiveBundle(MethodView):
    @blp.arguments(BundleArgsSchema, location="query")
    @blp.response(200, description="ZIP, streamed: a folder per household with its archive "
                                    "PDF and documents, and 清单.csv")
    def get(self, args):
        """The archives of every household with a case of the year in the area."""
        actor = current_actor()
        plan = bundle.plan_bundle(db.session, actor, args["region"], args["year"])
        chunks = bundle.stream_bundle(db.session, object_store(), actor, plan, today=today(),
                                      now=utc_now())
        return responses.stream(chunks, plan.filename, responses.ZIP)
