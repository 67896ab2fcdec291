"""Towns' annual tasks and the weekly ranking of a county's towns by 开工率 and 竣工率 (000 武乡
一周一通报; 003 §八 五到乡镇): the ranking as of any day, the weekly snapshots, the XLSX.

Who reads: everyone whose area is the county or lies in it. A town's users see the other
towns' figures too: the ranking is announced to the whole county (全县通报), so a town learns
where it stands. It holds no household's data. Only the county admin sets the tasks and takes
the week's snapshot. A county outside the caller's area is not found (404)."""

from datetime import date

from flask.views import MethodView
from marshmallow import fields, validate

from backend import responses
from backend.api.base import BaseSchema, api_blueprint, current_actor, today
from backend.extensions import db
from backend.services.reports import ranking, ranking_export, tasks
from backend.vocabulary import NAMING_CONSEQUENCES

blp = api_blueprint("ranking", __name__)
DAYS = validate.Range(date(2000, 1, 1), date(2100, 12, 31))
YEARS = validate.Range(tasks.FIRST_YEAR, tasks.LAST_YEAR)
COUNTY = fields.String(load_default=None, validate=validate.Regexp(r"^[0-9]{12}$"),
                       metadata={"description": "a county's code; default: my own county"})


class TaskArgsSchema(BaseSchema):
    county = COUNTY
    year = fields.Integer(load_default=None, validate=YEARS,
                          metadata={"description": "default: this year"})


class TaskSchema(BaseSchema):
    town_code = fields.Function(lambda t: t.town.code)
    town_name = fields.Function(lambda t: t.town.name)
    households = fields.Integer(allow_none=True)
    set_by = fields.Function(lambda t: t.task.set_by if t.task else None)
    set_at = fields.Function(lambda t: t.task.set_at.isoformat() if t.task else None)


class TaskListSchema(BaseSchema):
    county_code = fields.String()
    county_name = fields.String()
    year = fields.Integer()
    total = fields.Integer(metadata={"description": "the county's task: the towns' sum"})
    items = fields.List(fields.Nested(TaskSchema))


class TaskInputSchema(BaseSchema):
    households = fields.Integer(required=True, strict=True,
                                validate=validate.Range(0, tasks.MAX_HOUSEHOLDS))


class RankingArgsSchema(BaseSchema):
    county = COUNTY
    date = fields.Date(load_default=None, validate=DAYS,
                       metadata={"description": "the day counted to; default: today"})


class SnapshotInputSchema(BaseSchema):
    county = COUNTY
    week_start = fields.Date(load_default=None, validate=DAYS,
                             metadata={"description": "a Monday; default: this week"})


class SnapshotArgsSchema(BaseSchema):
    county = COUNTY
    weeks = fields.Integer(load_default=8, validate=validate.Range(1, ranking.MAX_WEEKS))


class TownRankSchema(BaseSchema):
    town_code = fields.String()
    town_name = fields.String()
    task = fields.Integer(allow_none=True, metadata={"description": "年度任务（户）"})
    started = fields.Integer(metadata={"description": "开工（户）"})
    completed = fields.Integer(metadata={"description": "竣工（户）"})
    ranked = fields.Boolean()
    start_rate = fields.String(allow_none=True, metadata={"description": "开工率, % as text"})
    completion_rate = fields.String(allow_none=True)
    start_rank = fields.Integer(allow_none=True)
    completion_rank = fields.Integer(allow_none=True)
    start_bottom = fields.Boolean()
    completion_bottom = fields.Boolean()
    named = fields.Boolean(metadata={"description": "bottom three of both rates: 通报"})
    consecutive = fields.Integer(metadata={"description": "weeks named in a row, this one "
                                                          "included"})
    consequence = fields.String(allow_none=True)
    consequence_label = fields.Function(lambda r: NAMING_CONSEQUENCES.get(r["consequence"]))
    note = fields.Function(ranking.unranked_note)


class RankingSchema(BaseSchema):
    id = fields.Integer(allow_none=True)
    county_code = fields.Function(lambda r: r.county.code)
    county_name = fields.Function(lambda r: r.county.name)
    year = fields.Integer()
    week_start = fields.Date()
    week_end = fields.Date()
    as_of = fields.Date()
    closed = fields.Boolean(metadata={"description": "the week is over"})
    stored = fields.Boolean(metadata={"description": "a snapshot, not computed now"})
    taken_by = fields.Integer(allow_none=True)
    taken_at = fields.DateTime(allow_none=True)
    rows = fields.List(fields.Nested(TownRankSchema))


class SnapshotListSchema(BaseSchema):
    county_code = fields.String()
    county_name = fields.String()
    this_week_taken = fields.Boolean()
    items = fields.List(fields.Nested(RankingSchema))


@blp.route("/tasks")
class Tasks(MethodView):
    @blp.arguments(TaskArgsSchema, location="query")
    @blp.response(200, TaskListSchema)
    def get(self, args):
        """Every town of the county with its annual task for the year."""
        year = args["year"] or today().year
        county, rows = tasks.county_tasks(db.session, current_actor(), args["county"], year)
        return {"county_code": county.code, "county_name": county.name, "year": year,
                "total": sum(r.households or 0 for r in rows), "items": rows}


@blp.route("/tasks/<town_code>/<int:year>")
class TownTask(MethodView):
    @blp.arguments(TaskInputSchema)
    @blp.response(200, TaskSchema)
    def put(self, body, town_code, year):
        """Set a town's annual task (households) for a year: the county admin only."""
        return tasks.set_task(db.session, current_actor(), town_code, year, body["households"])


@blp.route("/ranking")
class TownRanking(MethodView):
    @blp.arguments(RankingArgsSchema, location="query")
    @blp.response(200, RankingSchema)
    def get(self, args):
        """The towns ranked as of a day (computed now, not stored); the named towns with
        their consecutive weeks and what follows."""
        return ranking.ranking(db.session, current_actor(), args["county"],
                               args["date"] or today(), today())


@blp.route("/ranking.xlsx")
class RankingWorkbook(MethodView):
    @blp.arguments(RankingArgsSchema, location="query")
    @blp.response(200, description="XLSX: one row per town as ranked, and the rule")
    def get(self, args):
        """The ranking as of a day as a spreadsheet."""
        name, data = ranking_export.ranking_workbook(db.session, current_actor(),
                                                     args["county"], args["date"] or today(),
                                                     today())
        return responses.download(data, name, responses.XLSX)


@blp.route("/ranking/snapshots")
class Snapshots(MethodView):
    @blp.arguments(SnapshotArgsSchema, location="query")
    @blp.response(200, SnapshotListSchema)
    def get(self, args):
        """The last weeks' snapshots, this week first (past weeks never taken are taken as
        of their Sunday now)."""
        county, weeks = ranking.recent_weeks(db.session, current_actor(), args["county"],
                                             args["weeks"], today())
        return {"county_code": county.code, "county_name": county.name, "items": weeks,
                "this_week_taken": bool(weeks) and not weeks[0].closed}

    @blp.arguments(SnapshotInputSchema)
    @blp.response(201, RankingSchema)
    @blp.alt_response(200, schema=RankingSchema, description="this week's snapshot, retaken")
    def post(self, body):
        """Take this week's snapshot, or retake it during the week (200); a week that is over
        is fixed (409 week_closed)."""
        snapshot, created = ranking.take_snapshot(db.session, current_actor(), body["county"],
                                                  body["week_start"], today())
        return snapshot, 201 if created else 200
