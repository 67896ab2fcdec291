"""The weekly ranking of a county's towns (000 武乡): 推行“一天一汇总，一周一通报”工作机制，对农村
危房改造开工率和竣工率同时排名后三位的乡镇，第一次全县通报批评，连续两次排名后三位的在媒体上公开
曝光，连续三次排名后三位的进行诫勉谈话.

For any day: each town's annual task for the day's year (tasks.py, 003 §八 五到乡镇), its cases
of that year started (开工) and completed (竣工) by the day and not out of the procedure by then,
and both rates over the task. A town without a task, or with a task of 0, is listed but not
ranked (a rate over nothing means nothing).

Weeks run Monday to Sunday. This week's snapshot may be retaken until Sunday; once the week is
over it is fixed as last taken (what was announced). A past week never taken is counted as of
its Sunday the first time it is needed, and stored. A named town's consecutive weeks run back
through the snapshots of the same year: the tasks are annual, so a new year starts the count.

A constant number of queries whatever the number of towns: the county, its towns, the tasks,
one grouped count of the cases, the snapshots (and one INSERT per week stored)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from sqlalchemy import case, func, or_, select
from sqlalchemy.exc import IntegrityError

from backend.models import AnnualTask, Case, RankingSnapshot, Region
from backend.models.base import utc_now
from backend.services import audit, policy
from backend.services.errors import Conflict, InvalidInput, WeekClosed
from backend.services.policy import Actor
from backend.services.reports.tasks import county_for, towns_of
from backend.vocabulary import EXIT_STATUSES

BOTTOM = 3  # 后三位
WEEK = timedelta(days=7)
EARLIEST = date(2000, 1, 1)
MAX_WEEKS = 26
TOWN_DIGITS = 9


def consequence_of(weeks: int) -> str | None:
    """000: the first time 全县通报批评, twice in a row 媒体曝光, three times or more 诫勉谈话."""
    if weeks < 1:
        return None
    return ("criticism", "exposure", "admonition")[min(weeks, 3) - 1]


def bottom_three(rates: dict[str, Fraction]) -> set[str]:
    """The towns ranked in the bottom three of one rate. A tie at the boundary counts (fewer
    than three towns strictly lower); but a town no other is ahead of is never 后三位: with
    three towns or fewer, or all rates equal (nobody has started yet), the words would
    otherwise name the leader."""
    values = list(rates.values())
    return {code for code, rate in rates.items()
            if sum(v < rate for v in values) < BOTTOM and any(v > rate for v in values)}


def percent(part: int, whole: int) -> str:
    return str((Decimal(part * 100) / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP))


def unranked_note(row: dict) -> str | None:
    if row["task"] is None:
        return "未下达年度任务，不参与排名"
    return "年度任务为 0，不参与排名" if row["task"] == 0 else None


def rank_towns(entries: list[tuple[str, str, int | None, int, int]]) -> list[dict]:
    """Rank (town code, name, task, started, completed): best 开工率 first, unranked last.
    Ranks are shared by ties (1, 2, 2, 4); named = bottom three of both rates at once."""
    rows, rates = [], {"start": {}, "completion": {}}
    for code, name, task, started, completed in entries:
        ranked = bool(task)
        rows.append({"town_code": code, "town_name": name, "task": task, "started": started,
                     "completed": completed, "ranked": ranked,
                     "start_rate": percent(started, task) if ranked else None,
                     "completion_rate": percent(completed, task) if ranked else None,
                     "start_rank": None, "completion_rank": None, "start_bottom": False,
                     "completion_bottom": False, "named": False, "consecutive": 0,
                     "consequence": None})
        if ranked:
            rates["start"][code] = Fraction(started, task)
            rates["completion"][code] = Fraction(completed, task)
    for key, values in rates.items():
        bottom = bottom_three(values)
        for row in rows:
            if row["ranked"]:
                rate = values[row["town_code"]]
                row[f"{key}_rank"] = 1 + sum(v > rate for v in values.values())
                row[f"{key}_bottom"] = row["town_code"] in bottom
    for row in rows:
        row["named"] = row["start_bottom"] and row["completion_bottom"]
    rows.sort(key=lambda r: (not r["ranked"], r["start_rank"] or 0, r["completion_rank"] or 0,
                             r["town_code"]))
    return rows


def week_of(day: date) -> date:
    """The Monday of the day's week."""
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class Ranking:
    """A week's ranking: a stored snapshot, or computed now for a day (not stored)."""

    county: Region
    week_start: date
    as_of: date
    rows: list[dict]
    closed: bool = False  # the week is over: a stored snapshot is fixed
    stored: bool = False
    id: int | None = None
    taken_by: int | None = None
    taken_at: datetime | None = None

    @property
    def week_end(self) -> date:
        return self.week_start + timedelta(days=6)

    @property
    def year(self) -> int:
        return self.as_of.year

    @property
    def named(self) -> list[dict]:
        return [r for r in self.rows if r["named"]]


@dataclass
class _Facts:
    towns: list[Region]
    tasks: dict[tuple[int, str], int]  # (year, town code) -> households
    cases: dict[tuple[int, str], list[tuple]]  # (year, town prefix) -> (started, completed,
    # left the procedure on, how many)

    def rows_as_of(self, day: date) -> list[dict]:
        entries = []
        for town in self.towns:
            started = completed = 0
            for on_start, on_completion, left, n in self.cases.get(
                    (day.year, town.code[:TOWN_DIGITS]), ()):
                if left is not None and left <= day:
                    continue  # a later cancellation leaves the earlier weeks as they were
                started += n if on_start is not None and on_start <= day else 0
                completed += n if on_completion is not None and on_completion <= day else 0
            entries.append((town.code, town.name, self.tasks.get((day.year, town.code)),
                            started, completed))
        return rank_towns(entries)


def _facts(session, county: Region, years: set[int]) -> _Facts:
    low, high = county.range
    tasks = {(t.year, t.town_code): t.households for t in session.scalars(
        select(AnnualTask).where(AnnualTask.year.in_(years),
                                 AnnualTask.town_code.between(low, high)))}
    town = func.substr(Case.village_code, 1, TOWN_DIGITS).label("town")
    left = case((Case.status.in_(EXIT_STATUSES), func.coalesce(Case.stage_entered_on, EARLIEST)),
                else_=None).label("left_on")
    counts = defaultdict(list)
    for year, prefix, started, completed, left_on, n in session.execute(
            select(Case.year, town, Case.started_on, Case.completed_on, left, func.count())
            .where(Case.village_code.between(low, high), Case.year.in_(years),
                   or_(Case.started_on.is_not(None), Case.completed_on.is_not(None)))
            .group_by(Case.year, town, Case.started_on, Case.completed_on, left)):
        counts[(year, prefix)].append((started, completed, left_on, n))
    return _Facts(towns_of(session, county), tasks, counts)


class _Weeks:
    """A county's weeks: the snapshots stored, and the past ones stored as they are needed."""

    def __init__(self, session, county: Region, years: set[int], today: date):
        self.session, self.county, self.today = session, county, today
        self.facts = _facts(session, county, years)
        self.stored = {s.week_start: s for s in session.scalars(
            select(RankingSnapshot).where(RankingSnapshot.county_code == county.code,
                                          RankingSnapshot.week_start >= date(min(years), 1, 1)
                                          - WEEK))}
        self.added: list[RankingSnapshot] = []

    def closed(self, week: date) -> RankingSnapshot:
        """A week that is over: its snapshot, counted as of its Sunday if never taken."""
        snapshot = self.stored.get(week)
        if snapshot is None:
            sunday = week + timedelta(days=6)
            rows = self.counted(self.facts.rows_as_of(sunday), week, sunday)
            snapshot = RankingSnapshot(county_code=self.county.code, week_start=week,
                                       as_of=sunday, rows=rows)
            self.session.add(snapshot)
            self.stored[week] = snapshot
            self.added.append(snapshot)
        return snapshot

    def counted(self, rows: list[dict], week: date, as_of: date) -> list[dict]:
        """Each named town's weeks named in a row (this one included) and what follows."""
        named = [r for r in rows if r["named"]]
        before = {}
        previous = week - WEEK
        if named and (previous + timedelta(days=6)).year == as_of.year:
            before = {r["town_code"]: r for r in self.closed(previous).rows}
        for row in named:
            last = before.get(row["town_code"])
            row["consecutive"] = 1 + (last["consecutive"] if last and last["named"] else 0)
            row["consequence"] = consequence_of(row["consecutive"])
        return rows

    def view(self, snapshot: RankingSnapshot) -> Ranking:
        return Ranking(self.county, snapshot.week_start, snapshot.as_of, snapshot.rows,
                       closed=snapshot.week_start < week_of(self.today), stored=True,
                       id=snapshot.id, taken_by=snapshot.taken_by, taken_at=snapshot.taken_at)

    def flush(self) -> None:
        try:
            self.session.flush()
        except IntegrityError as error:  # the same week stored by another request just now
            self.session.rollback()
            raise Conflict("排名正在由他人生成，请稍后刷新") from error


def _check_day(day: date, today: date) -> None:
    if not EARLIEST <= day <= today:
        raise InvalidInput(fields={"date": f"日期应在 {EARLIEST} 至今天（{today}）之间"})


def ranking(session, actor: Actor, county_code: str | None, on: date, today: date) -> Ranking:
    """The county's ranking as of a day, computed now (not stored), with each named town's
    consecutive weeks counted back through the stored weeks."""
    county = county_for(session, actor, county_code)
    _check_day(on, today)
    weeks = _Weeks(session, county, {on.year}, today)
    week = week_of(on)
    rows = weeks.counted(weeks.facts.rows_as_of(on), week, on)
    if weeks.added:
        weeks.flush()
        session.commit()
    return Ranking(county, week, on, rows, closed=week < week_of(today))


def take_snapshot(session, actor: Actor, county_code: str | None, week_start: date | None,
                  today: date) -> tuple[Ranking, bool]:
    """Take (or retake) this week's snapshot as of today; a past week never taken is taken
    as of its Sunday; a past week taken is fixed (409). Return it and whether it is new."""
    actor.require(policy.RANKING_SNAPSHOT)
    county = county_for(session, actor, county_code)
    this_week = week_of(today)
    week = week_start or this_week
    if week.weekday() != 0:
        raise InvalidInput(fields={"week_start": "每周从星期一开始，请填写星期一的日期"})
    if week > this_week:
        raise InvalidInput(fields={"week_start": "不能生成尚未开始的周"})
    if week < EARLIEST:
        raise InvalidInput(fields={"week_start": f"不能早于 {EARLIEST}"})
    as_of = today if week == this_week else week + timedelta(days=6)
    weeks = _Weeks(session, county, {as_of.year}, today)
    snapshot = weeks.stored.get(week)
    created = snapshot is None
    if week < this_week:
        if snapshot is not None:
            raise WeekClosed(f"{week}—{as_of} 这一周已结束，排名已按当时生成的结果固定，"
                             "不能重新生成", week_start=str(week))
        snapshot = weeks.closed(week)
        snapshot.taken_by = actor.user_id
    else:
        rows = weeks.counted(weeks.facts.rows_as_of(today), week, today)
        if created:
            snapshot = RankingSnapshot(county_code=county.code, week_start=week)
            session.add(snapshot)
        snapshot.as_of, snapshot.rows = today, rows
        snapshot.taken_by, snapshot.taken_at = actor.user_id, utc_now()
    weeks.flush()
    audit.record(session, actor, "ranking_snapshot_taken" if created else
                 "ranking_snapshot_retaken", "ranking_snapshot", snapshot.id,
                 {"county_code": county.code, "week_start": str(week), "as_of": str(as_of),
                  "named": [r["town_code"] for r in snapshot.rows if r["named"]]})
    view = weeks.view(snapshot)
    session.commit()
    return view, created


def recent_weeks(session, actor: Actor, county_code: str | None, count: int, today: date
                 ) -> tuple[Region, list[Ranking]]:
    """The last `count` weeks, this one first: this week's snapshot if taken yet, and every
    week before it (taken as of its Sunday if it never was)."""
    if not 1 <= count <= MAX_WEEKS:
        raise InvalidInput(fields={"weeks": f"周数应在 1—{MAX_WEEKS} 之间"})
    county = county_for(session, actor, county_code)
    this_week = week_of(today)
    past = [this_week - i * WEEK for i in range(1, count)]
    past = [w for w in past if w >= EARLIEST]
    weeks = _Weeks(session, county, {today.year} | {(w + timedelta(days=6)).year for w in past},
                   today)
    snapshots = [weeks.stored[this_week]] if this_week in weeks.stored else []
    snapshots += [weeks.closed(w) for w in past]
    if weeks.added:
        weeks.flush()
    views = [weeks.view(s) for s in snapshots]
    if weeks.added:
        session.commit()
    return county, views
