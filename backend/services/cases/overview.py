"""The desk's overview of an area: its cases by town and village, with flags, returned visits
and overdue work, filtered and paged.

Every function takes the session and the caller (`Actor`) and reads only inside the caller's
area; each costs a constant number of queries however many photos there are.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from backend.models import Case, Photo, PhotoFlag, Region, Visit
from backend.models.region import code_range, level_of
from backend.services import policy
from backend.services.cases.overdue import Deadlines, overdue_items
from backend.services.policy import Actor


# --- overview ----------------------------------------------------------------------------
@dataclass(frozen=True)
class OverviewFilters:
    town: str | None = None
    village: str | None = None
    status: str | None = None
    method: str | None = None
    flag: str | None = None  # a flag code, or "any"
    returned: bool = False
    overdue: bool = False


@dataclass
class AreaCount:
    code: str
    name: str
    cases: int = 0
    flagged: int = 0
    returned: int = 0
    overdue: int = 0
    villages: list["AreaCount"] = field(default_factory=list)


@dataclass
class Overview:
    towns: list[AreaCount]
    cases: list[Case]
    total: int
    flagged: dict[int, set[str]]
    returned: set[int]
    overdue: set[int]
    regions: dict[str, Region]
    villages: list[Region]


def overview(session, actor: Actor, filters: OverviewFilters, rules: Deadlines, today: date,
             *, limit: int = 100, offset: int = 0) -> Overview:
    """Cases in the actor's area matching the filters, with counts per town and village."""
    stmt = policy.scoped(select(Case.id, Case.village_code), actor, Case)
    for column, value in ((Case.status, filters.status), (Case.method, filters.method)):
        if value:
            stmt = stmt.where(column == value)
    for code in (filters.town, filters.village):
        if code:
            stmt = stmt.where(Case.village_code.between(*_range_of(code)))
    rows = session.execute(stmt.order_by(Case.village_code, Case.id)).all()
    flagged, returned = _open_flags(session, actor), _returned_cases(session, actor)
    overdue_cases = _overdue_cases(session, actor, rules, today)

    def keep(case_id: int) -> bool:
        if filters.flag and not (flagged.get(case_id) if filters.flag == "any"
                                 else filters.flag in flagged.get(case_id, ())):
            return False
        if filters.returned and case_id not in returned:
            return False
        return not (filters.overdue and case_id not in overdue_cases)

    rows = [r for r in rows if keep(r.id)]
    regions = _regions(session, actor)
    towns = _area_counts(rows, regions, flagged, returned, overdue_cases)
    page_ids = [r.id for r in rows[offset:offset + limit]]
    cases = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(page_ids)))} \
        if page_ids else {}
    village_list = sorted((r for r in regions.values() if r.level == "village"
                           and actor.covers(r.code)),
                          key=lambda r: r.code)
    return Overview(towns, [cases[i] for i in page_ids], len(rows), flagged, returned,
                    overdue_cases, regions, village_list)


def _open_flags(session, actor: Actor) -> dict[int, set[str]]:
    """Case id → the codes of its photos' open flags."""
    flagged: dict[int, set[str]] = defaultdict(set)
    for case_id, code in session.execute(policy.scoped(
            select(Photo.case_id, PhotoFlag.code).join(PhotoFlag, PhotoFlag.photo_id == Photo.id)
            .where(PhotoFlag.status == "open", Photo.case_id.is_not(None)), actor, Photo)
            .distinct()):
        flagged[case_id].add(code)
    return dict(flagged)


def _returned_cases(session, actor: Actor) -> set[int]:
    return set(session.scalars(policy.scoped(
        select(Visit.case_id).where(Visit.review_state == "returned",
                                    Visit.case_id.is_not(None)), actor, Visit)))


def _overdue_cases(session, actor: Actor, rules: Deadlines, today: date) -> set[int]:
    """Cases with open overdue work, counting a household's hazard work against its cases."""
    late = overdue_items(session, actor, rules, today, open_only=True)
    late_households = {i.household.id for i in late if i.case_id is None}
    overdue_cases = {i.case_id for i in late if i.case_id is not None}
    if late_households:
        overdue_cases |= set(session.scalars(policy.scoped(
            select(Case.id).where(Case.household_id.in_(late_households)), actor, Case)))
    return overdue_cases


def _regions(session, actor: Actor) -> dict[str, Region]:
    """Towns and villages in my area, and a village cadre's town for its name."""
    regions = {r.code: r for r in session.scalars(
        select(Region).where(Region.level.in_(("town", "village")),
                             policy.in_scope(actor, Region.code)))}
    for region in list(regions.values()):
        if region.parent is not None:
            regions.setdefault(region.parent.code, region.parent)
    return regions


def _area_counts(rows, regions: dict[str, Region], flagged: dict[int, set[str]],
                 returned: set[int], overdue_cases: set[int]) -> list[AreaCount]:
    """Cases, flagged, returned and overdue per town, each with its villages."""
    towns: dict[str, AreaCount] = {}
    villages: dict[str, AreaCount] = {}
    for case_id, village_code in rows:
        town_code = village_code[:9] + "000"
        town = towns.get(town_code) or towns.setdefault(town_code, AreaCount(
            town_code, _name(regions, town_code)))
        village = villages.get(village_code)
        if village is None:
            village = villages[village_code] = AreaCount(village_code,
                                                         _name(regions, village_code))
            town.villages.append(village)
        for area in (town, village):
            area.cases += 1
            area.flagged += case_id in flagged
            area.returned += case_id in returned
            area.overdue += case_id in overdue_cases
    return sorted(towns.values(), key=lambda a: a.code)


def _range_of(code: str) -> tuple[str, str]:
    return code_range(code, level_of(code))


def _name(regions: dict[str, Region], code: str) -> str:
    region = regions.get(code)
    return region.name if region else code
