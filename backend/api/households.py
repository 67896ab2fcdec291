"""Households: search and list, register, read, edit, locate, appraisals, import."""

from datetime import date

from flask import current_app
from flask.views import MethodView
from marshmallow import fields, validate

from backend.api.base import (
    BaseSchema,
    IdNumberField,
    PageArgsSchema,
    PhoneField,
    Text,
    api_blueprint,
    current_actor,
    cursor_key,
    today,
)
from backend.extensions import db
from backend.rules import current_rules
from backend.services import households, imports
from backend.services.households import NUMBER_BOUNDS, HouseholdQuery
from backend.vocabulary import (
    CATEGORIES,
    GRADES,
    LOCATION_SOURCES,
    PHASES,
    STATUSES,
    STRUCTURE_TYPES,
    TARGET_CATEGORIES,
)

blp = api_blueprint("households", __name__)


class CaseSummarySchema(BaseSchema):
    id = fields.Integer()
    year = fields.Integer()
    method = fields.String()
    build_mode = fields.String()
    status = fields.String()
    status_label = fields.Function(lambda c: STATUSES[c.status])
    phase = fields.String(allow_none=True)
    phase_label = fields.Function(lambda c: PHASES.get(c.phase))


class SignatureSchema(BaseSchema):
    role = Text(required=True, validate=validate.Length(1, 30))  # 民主监督员 …
    name = Text(required=True, validate=validate.Length(1, 50))


class AppraisalSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    grade = fields.String(required=True, validate=validate.OneOf(list(GRADES)))
    grade_label = fields.Function(lambda a: GRADES[a.grade], dump_only=True)
    appraised_on = fields.Date(required=True)
    appraiser = fields.String(required=True, validate=validate.Length(1, 100))
    notes = fields.String(allow_none=True)
    signatures = fields.List(fields.Nested(SignatureSchema), load_default=list)
    filed_on = fields.Date(dump_only=True, allow_none=True)


class AppraisalPatchSchema(BaseSchema):
    """Signatures gathered on the paper report, and the county's filing (备案)."""

    signatures = fields.List(fields.Nested(SignatureSchema))
    filed_on = fields.Date(allow_none=True, validate=validate.Range(date(2000, 1, 1)))


class LocationSchema(BaseSchema):
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))


class HouseholdFieldsSchema(BaseSchema):
    """The fields a user may write; dump-only facts are added by HouseholdSchema."""

    village_code = fields.String(required=True, validate=validate.Length(equal=12))
    group_name = fields.String(allow_none=True, validate=validate.Length(max=50))
    name = fields.String(required=True, validate=validate.Length(1, 50))
    id_number = IdNumberField(required=True)
    phone = PhoneField(allow_none=True, validate=validate.Length(max=20))
    family_size = fields.Integer(allow_none=True,
                                 validate=validate.Range(*NUMBER_BOUNDS["family_size"]))
    category = fields.String(validate=validate.OneOf(list(CATEGORIES)),
                             metadata={"description": "the identity the household counts "
                                                      "under; derived from `identities`"})
    identities = fields.List(fields.String(validate=validate.OneOf(list(TARGET_CATEGORIES))),
                             validate=validate.Length(max=len(TARGET_CATEGORIES)),
                             metadata={"description": "every identity certified (民政, 乡村振兴)"})
    address = fields.String(allow_none=True, validate=validate.Length(max=200))
    year_built = fields.Integer(allow_none=True,
                                validate=validate.Range(*NUMBER_BOUNDS["year_built"]))
    floor_area_m2 = fields.Float(allow_none=True,
                                 validate=validate.Range(*NUMBER_BOUNDS["floor_area_m2"]))
    rooms = fields.Integer(allow_none=True, validate=validate.Range(*NUMBER_BOUNDS["rooms"]))
    storeys = fields.Integer(allow_none=True, validate=validate.Range(*NUMBER_BOUNDS["storeys"]))
    structure_type = fields.String(allow_none=True, validate=validate.OneOf(STRUCTURE_TYPES))
    notes = fields.String(allow_none=True)


class HouseholdSchema(HouseholdFieldsSchema):
    id = fields.Integer(dump_only=True)
    id_tail = fields.String(dump_only=True)
    category_label = fields.Function(lambda h: CATEGORIES[h.category], dump_only=True)
    identity_labels = fields.Function(lambda h: [CATEGORIES[i] for i in h.identities or []],
                                      dump_only=True)
    village_name = fields.Function(lambda h: h.village.name, dump_only=True)
    town_code = fields.Function(lambda h: h.village.parent_code, dump_only=True)
    town_name = fields.Function(lambda h: h.village.parent.name if h.village.parent else None,
                                dump_only=True)
    location = fields.Method("dump_location", dump_only=True)
    current_case = fields.Nested(CaseSummarySchema, dump_only=True, allow_none=True)

    def dump_location(self, h):
        if not h.has_location:
            return None
        return {"lat": h.lat, "lon": h.lon, "crs": "WGS-84", "source": h.location_source,
                "source_label": LOCATION_SOURCES.get(h.location_source),
                "set_at": h.location_set_at.isoformat() if h.location_set_at else None}


class HouseholdDetailSchema(HouseholdSchema):
    appraisals = fields.List(fields.Nested(AppraisalSchema), dump_only=True)
    cases = fields.List(fields.Nested(CaseSummarySchema), dump_only=True)


class HouseholdPatchSchema(HouseholdFieldsSchema):
    """Any subset of the writable fields."""

class HouseholdQueryArgsSchema(PageArgsSchema):
    q = fields.String(load_default=None, validate=validate.Length(max=50))
    region = fields.String(load_default=None, validate=validate.Length(equal=12))
    category = fields.String(load_default=None, validate=validate.OneOf(list(CATEGORIES)))


class HouseholdPageSchema(BaseSchema):
    items = fields.List(fields.Nested(HouseholdSchema))
    next_cursor = fields.String(allow_none=True)


class ImportReportSchema(BaseSchema):
    total = fields.Integer()
    created = fields.Integer()
    rejected = fields.Integer()
    errors = fields.List(fields.Dict())


class ImportFileSchema(BaseSchema):
    file = fields.Raw(metadata={"type": "string", "format": "binary"}, required=True)


@blp.route("/households")
class Households(MethodView):
    @blp.arguments(HouseholdQueryArgsSchema, location="query")
    @blp.response(200, HouseholdPageSchema)
    def get(self, args):
        """Search my households by name, ID-number tail, region and category, one page at a time."""
        rows, next_cursor = households.list_households(
            db.session, current_actor(), HouseholdQuery(**args), cursor_key=cursor_key())
        return {"items": rows, "next_cursor": next_cursor}

    @blp.arguments(HouseholdFieldsSchema)
    @blp.response(201, HouseholdDetailSchema)
    def post(self, body):
        """Register a household."""
        return households.create_household(db.session, current_actor(), body)


@blp.route("/households/<int:household_id>")
class HouseholdById(MethodView):
    @blp.response(200, HouseholdDetailSchema)
    def get(self, household_id):
        """Read one household with its appraisals and cases."""
        return households.get_household(db.session, current_actor(), household_id)

    @blp.arguments(HouseholdPatchSchema(partial=True))
    @blp.response(200, HouseholdDetailSchema)
    def patch(self, body, household_id):
        """Edit a household's facts."""
        return households.update_household(db.session, current_actor(), household_id, body)


@blp.route("/households/<int:household_id>/location")
class HouseholdLocation(MethodView):
    @blp.arguments(LocationSchema)
    @blp.response(200, HouseholdDetailSchema)
    def put(self, body, household_id):
        """Set the house location (WGS-84), e.g. from the inspector's phone at the door."""
        return households.set_location(db.session, current_actor(), household_id,
                                       body["lat"], body["lon"], rules=current_rules().photos)


@blp.route("/households/<int:household_id>/appraisals")
class HouseholdAppraisals(MethodView):
    @blp.arguments(AppraisalSchema)
    @blp.response(201, AppraisalSchema)
    def post(self, body, household_id):
        """Record a house safety appraisal (A–D)."""
        return households.add_appraisal(db.session, current_actor(), household_id, body)


@blp.route("/appraisals/<int:appraisal_id>")
class AppraisalById(MethodView):
    @blp.arguments(AppraisalPatchSchema)
    @blp.response(200, AppraisalSchema)
    def patch(self, body, appraisal_id):
        """Add the report's signatures, or record the county's filing (county only)."""
        return households.update_appraisal(db.session, current_actor(), appraisal_id, body,
                                           today=today())


@blp.route("/households/import")
class HouseholdImport(MethodView):
    @blp.arguments(ImportFileSchema, location="files")
    @blp.response(200, ImportReportSchema)
    def post(self, files):
        """Import households from CSV or XLSX; valid rows are kept, bad rows are reported."""
        upload = files["file"]
        return imports.import_households(
            db.session, current_actor(), upload.filename or "", upload.stream,
            max_rows=current_app.config.get("IMPORT_MAX_ROWS", 100_000))

