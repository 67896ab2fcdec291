"""Random spot checks (随机抽查, 003 §七(三)): draw a sample of an area's renovated households of a
year, read a draw with its seed, verify it against today's archive, download its sample.

Only the county admin draws; the county admin and auditors read draws of areas they cover.
A second draw for the same area, year and purpose is refused (409 `spot_check_drawn`)."""

from datetime import date
from decimal import Decimal

from flask.views import MethodView
from marshmallow import ValidationError, fields, validate, validates_schema

from backend import responses
from backend.api.base import BaseSchema, Text, api_blueprint, current_actor, today
from backend.api.money import Cents
from backend.extensions import db
from backend.services import spot_checks
from backend.services.reports.tasks import FIRST_YEAR, LAST_YEAR
from backend.services.spot_checks import export
from backend.services.spot_checks.draws import MAX_COUNT
from backend.vocabulary import CATEGORIES, STATUSES

blp = api_blueprint("spot_checks", __name__)
CODE = validate.Regexp(r"^[0-9]{12}$")
YEARS = validate.Range(FIRST_YEAR, LAST_YEAR)


class DrawInputSchema(BaseSchema):
    area_code = fields.String(required=True, validate=CODE,
                              metadata={"description": "a county or a town I cover"})
    year = fields.Integer(required=True, strict=True, validate=YEARS,
                          metadata={"description": "the cases' year (改造年度)"})
    count = fields.Integer(load_default=None, strict=True, validate=validate.Range(1, MAX_COUNT),
                           metadata={"description": "households to draw; or `percent`"})
    percent = Cents(Decimal("0.01"), Decimal("100"), load_default=None,
                    metadata={"description": "share of the population, rounded up"})
    purpose = Text(required=True, validate=validate.Length(1, 100),
                   metadata={"description": "e.g. 2026年国家第一次抽查复核; one draw each"})
    due_on = fields.Date(load_default=None,
                         validate=validate.Range(date(2000, 1, 1), date(2100, 12, 31)),
                         metadata={"description": "the round's due day; default 30 days on"})

    @validates_schema
    def one_size(self, data, **_kwargs):
        if (data.get("count") is None) == (data.get("percent") is None):
            raise ValidationError("请填写抽取户数或抽取比例（二选一）", "count")


class DrawArgsSchema(BaseSchema):
    area = fields.String(load_default=None, validate=CODE,
                         metadata={"description": "draws inside this area; default: mine"})
    year = fields.Integer(load_default=None, validate=YEARS)


class SpotCheckSchema(BaseSchema):
    """A draw without its sample, as listed."""

    id = fields.Integer()
    area_code = fields.String()
    year = fields.Integer()
    purpose = fields.String()
    requested_count = fields.Integer(allow_none=True)
    requested_percent = fields.Decimal(as_string=True, allow_none=True)
    size = fields.Integer(metadata={"description": "households drawn"})
    seed = fields.String(metadata={"description": "64 bits in hex: random.Random(int(seed, 16))"})
    population_size = fields.Integer()
    population_sha256 = fields.String()
    round_id = fields.Integer()
    drawn_by = fields.Integer()
    drawn_at = fields.DateTime()


class TownShareSchema(BaseSchema):
    town_code = fields.String()
    town_name = fields.String()
    population = fields.Integer()
    drawn = fields.Integer()


class SampleRowSchema(BaseSchema):
    number = fields.Integer()
    household_id = fields.Integer(attribute="household.id")
    name = fields.String(attribute="household.name")
    village_code = fields.String(attribute="household.village_code")
    village_name = fields.String()
    town_name = fields.String()
    category = fields.Function(lambda r: CATEGORIES.get(r.household.category))
    case_id = fields.Function(lambda r: r.case.id if r.case else None)
    case_status = fields.Function(lambda r: STATUSES.get(r.case.status) if r.case else None)


class DrawSchema(SpotCheckSchema):
    """A draw with its allocation per town, its population and its sample."""

    towns = fields.List(fields.Nested(TownShareSchema))
    population = fields.Dict(keys=fields.String(), values=fields.List(fields.Integer()),
                             metadata={"description": "town code → household ids, as drawn from"})
    sample = fields.List(fields.Nested(SampleRowSchema))


class VerificationSchema(BaseSchema):
    spot_check_id = fields.Integer(attribute="check.id")
    reproduced = fields.Boolean(metadata={"description": "stored population + seed → sample"})
    matches = fields.Boolean(metadata={"description": "today's population + seed → sample"})
    population_unchanged = fields.Boolean()
    population_size = fields.Integer()
    population_sha256 = fields.String()
    sample = fields.List(fields.Integer(), metadata={"description": "drawn again today"})
    added = fields.List(fields.Integer())
    removed = fields.List(fields.Integer())


def _detail(check) -> dict:
    """The draw's own fields with its towns' shares and its sample's households."""
    return {**{name: getattr(check, name) for name in SpotCheckSchema().fields},
            "population": check.population,
            "towns": spot_checks.town_shares(db.session, check),
            "sample": spot_checks.sample_rows(db.session, check)}


@blp.route("/spot-checks")
class SpotChecks(MethodView):
    @blp.arguments(DrawArgsSchema, location="query")
    @blp.response(200, SpotCheckSchema(many=True))
    def get(self, args):
        """List the draws inside my area (or `area`), newest first."""
        return spot_checks.list_draws(db.session, current_actor(), area_code=args["area"],
                                      year=args["year"])

    @blp.arguments(DrawInputSchema)
    @blp.response(201, DrawSchema)
    def post(self, body):
        """Draw households at random, stratified by town, and open their spot-check round."""
        check = spot_checks.draw(db.session, current_actor(), spot_checks.DrawSpec(**body),
                                 today())
        return _detail(check)


@blp.route("/spot-checks/<int:check_id>")
class SpotCheckById(MethodView):
    @blp.response(200, DrawSchema)
    def get(self, check_id):
        """Read a draw: its seed, population fingerprint, allocation and sample."""
        return _detail(spot_checks.get_draw(db.session, current_actor(), check_id))


@blp.route("/spot-checks/<int:check_id>/verify")
class SpotCheckVerify(MethodView):
    @blp.response(200, VerificationSchema)
    def get(self, check_id):
        """Draw again from the stored seed over today's archive: does the sample match?"""
        return spot_checks.verify(db.session, current_actor(), check_id)


@blp.route("/spot-checks/<int:check_id>/sample.xlsx")
class SpotCheckSample(MethodView):
    @blp.response(200, description="XLSX: the sample, and the allocation per town")
    def get(self, check_id):
        """Download the sample for the checkers."""
        name, data = export.workbook(db.session, current_actor(), check_id)
        return responses.download(data, name, responses.XLSX)
