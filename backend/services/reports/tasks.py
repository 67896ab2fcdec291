"""Towns' annual tasks (年度任务): how many households each town is to renovate in a year, set
by the county. 003 §八: 计划、任务、资金、目标、责任“五到乡镇”, 任务落实到乡镇; §三: the county's
年度任务 (691 户) is the sum the towns carry. The ranking's rates are counted over these."""

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from backend.models import AnnualTask, Region
from backend.models.region import is_region_code
from backend.services import audit, policy
from backend.services.errors import Conflict, InvalidInput, OutsideScope
from backend.services.policy import Actor

MAX_HOUSEHOLDS = 100_000  # far above any town's year; a typo of one more digit is refused
FIRST_YEAR, LAST_YEAR = 2000, 2100


@dataclass(frozen=True)
class TownTask:
    town: Region
    task: AnnualTask | None

    @property
    def households(self) -> int | None:
        return self.task.households if self.task else None


def check_year(year: int, field: str = "year") -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidInput(fields={field: f"年度应在 {FIRST_YEAR}—{LAST_YEAR} 之间"})


def county_for(session, actor: Actor, code: str | None) -> Region:
    """The county a task list or a ranking is about: the given one, else the caller's own.

    A caller reads a county they cover, and also the county their own town or village lies
    in: the ranking is announced to the whole county (000 全县通报), so a town sees where it
    stands among the others. Any other county is not found (404)."""
    actor.require(policy.READ)
    if code is None:
        counties = {low[:6] for low, _ in actor.ranges}
        if len(counties) != 1 or any(low[:6] != high[:6] for low, high in actor.ranges):
            raise InvalidInput(fields={"county": "请指定县"})  # an area wider than one county
        code = counties.pop().ljust(12, "0")
    county = session.get(Region, code) if is_region_code(code) else None
    if county is None or county.level != "county":
        raise OutsideScope()
    low, high = county.range
    if not actor.covers(county.code) and not any(low <= lo and hi <= high
                                                 for lo, hi in actor.ranges):
        raise OutsideScope()
    return county


def counties_of(session, actor: Actor) -> list[Region]:
    """The counties whose tasks and ranking the caller reads, by code."""
    own = {low[:6].ljust(12, "0") for low, high in actor.ranges if low[:6] == high[:6]}
    return list(session.scalars(select(Region).where(
        Region.level == "county", or_(Region.code.in_(own), policy.in_scope(actor, Region.code)))
        .order_by(Region.code)))


def towns_of(session, county: Region) -> list[Region]:
    low, high = county.range
    return list(session.scalars(select(Region).where(Region.level == "town",
                                                     Region.code.between(low, high))
                                .order_by(Region.code)))


def county_tasks(session, actor: Actor, county_code: str | None, year: int
                 ) -> tuple[Region, list[TownTask]]:
    """Every town of the county with its task for the year (None where none is set)."""
    check_year(year)
    county = county_for(session, actor, county_code)
    low, high = county.range
    tasks = {t.town_code: t for t in session.scalars(
        select(AnnualTask).where(AnnualTask.year == year,
                                 AnnualTask.town_code.between(low, high)))}
    return county, [TownTask(town, tasks.get(town.code)) for town in towns_of(session, county)]


def set_task(session, actor: Actor, town_code: str, year: int, households: int) -> TownTask:
    """Set (or change) one town's task for a year."""
    return set_tasks(session, actor, year, {town_code: households})[0]


def set_tasks(session, actor: Actor, year: int, households: dict[str, int]) -> list[TownTask]:
    """Set the tasks of several towns for a year at once (all or none); each change is in the
    audit log."""
    actor.require(policy.TASK_SET)
    check_year(year)
    towns = []
    for code, number in households.items():
        if not 0 <= number <= MAX_HOUSEHOLDS:
            raise InvalidInput(fields={"households": f"户数应在 0—{MAX_HOUSEHOLDS} 之间"})
        town = session.get(Region, code) if is_region_code(code) else None
        if town is None or not actor.covers(town.code):
            raise OutsideScope()
        if town.level != "town":
            raise InvalidInput(fields={"town_code": "年度任务下达到乡镇"})
        towns.append(town)
    existing = {t.town_code: t for t in session.scalars(select(AnnualTask).where(
        AnnualTask.year == year, AnnualTask.town_code.in_([t.code for t in towns])))}
    try:
        result = [_set(session, actor, year, town, households[town.code],
                       existing.get(town.code)) for town in towns]
        session.commit()
    except IntegrityError as error:  # another admin set the same town's task just now
        session.rollback()
        raise Conflict("乡镇年度任务刚被他人设置，请刷新后重试") from error
    return result


def _set(session, actor: Actor, year: int, town: Region, number: int,
         task: AnnualTask | None) -> TownTask:
    if task is None:
        task = AnnualTask(town_code=town.code, year=year, households=number,
                          set_by=actor.user_id)
        session.add(task)
        changes = {"households": [None, number]}
    else:
        changes = audit.diff(task, {"households": number})
    if changes:
        task.set_by = actor.user_id
        session.flush()
        audit.record(session, actor, "annual_task_set", "annual_task", task.id,
                     {**changes, "town_code": town.code, "year": year})
    return TownTask(town, task)
