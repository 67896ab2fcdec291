"""The monthly progress forms (004 附件1/附件2) as data and as the seed's spreadsheet, and the
record of reports sent up (报送)."""

from datetime import date

from flask.views import MethodView
from marshmallow import fields, validate

from backend import responses
from backend.api.base import BaseSchema, api_blueprint, current_actor, today
from backend.extensions import db
from backend.models import User
from backend.services.reports import filings, forms, monthly
from backend.services.reports.schedule import MONTHLY_PROGRESS

blp = api_blueprint("reports", __name__)


class MonthlyArgsSchema(BaseSchema):
    month = fields.String(required=True, validate=validate.Regexp(r"^\d{4}-\d{2}$"),
                          metadata={"example": "2026-11"})
    form = fields.String(load_default="renovation", validate=validate.OneOf(list(monthly.FORMS)))
    region = fields.String(load_default=None, validate=validate.Regexp(r"^[0-9]{12}$"),
                           metadata={"description": "a county or town; default: my own"})


class MonthlyRowSchema(BaseSchema):
    code = fields.String()
    name = fields.String()
    columns = fields.Function(lambda r: [str(c) if c is not None else None for c in r.cells()],
                              metadata={"description": "the 27 columns, 户 and 万元 as text"})


class MonthlyReportSchema(BaseSchema):
    title = fields.String()
    form = fields.String()
    region_code = fields.Function(lambda r: r.region.code)
    as_of = fields.Date()
    header = fields.Function(lambda r: forms.header_rows())
    rows = fields.List(fields.Nested(MonthlyRowSchema))
    total = fields.Nested(MonthlyRowSchema, allow_none=True)


class FilingSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    region_code = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{12}$"))
    report = fields.String(required=True, validate=validate.Length(1, 40))
    period = fields.String(required=True, validate=validate.Regexp(r"^\d{4}-\d{2}$"))
    filed_on = fields.Date(load_default=None, validate=validate.Range(date(2000, 1, 1)))
    filed_by = fields.Integer(dump_only=True)


def _report(args):
    return monthly.monthly_report(db.session, current_actor(),
                                  monthly.parse_month(args["month"]), args["form"],
                                  args["region"])


@blp.route("/reports/monthly")
class MonthlyReport(MethodView):
    @blp.arguments(MonthlyArgsSchema, location="query")
    @blp.response(200, MonthlyReportSchema)
    def get(self, args):
        """The month's progress form: one row per town and the county's total."""
        return _report(args)


@blp.route("/reports/monthly.xlsx")
class MonthlyWorkbook(MethodView):
    @blp.arguments(MonthlyArgsSchema, location="query")
    @blp.response(200, description="XLSX laid out as 004 附件1/附件2")
    def get(self, args):
        """The month's progress form as the seed's spreadsheet."""
        report = _report(args)
        due = next((r for r in filings.schedule_of(db.session, report.region)
                    if r.code == MONTHLY_PROGRESS), None)
        name, data = forms.workbook(report, db.session.get(User, current_actor().user_id),
                                    due, current_actor())
        return responses.download(data, name, responses.XLSX)


@blp.route("/reports/filings")
class Filings(MethodView):
    @blp.arguments(FilingSchema)
    @blp.response(201, FilingSchema)
    def post(self, body):
        """Record that a report for a month was sent up; 409 if it already was."""
        return filings.file_report(db.session, current_actor(), body["region_code"],
                                   body["report"], monthly.parse_month(body["period"]),
                                   body["filed_on"] or today(), today())
