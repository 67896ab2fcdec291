"""The supervisor's review of an area: overview of its cases, flag worklist, reused pairs, and
the review of a photo's flag.

Every function takes the session and the caller (`Actor`) and reads only inside the caller's
area; each costs a constant number of queries however many photos there are.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from backend.models import Case, Household, Photo, PhotoFlag, Region, Visit
from backend.models.base import utc_now
from backend.models.region import code_range, level_of
from backend.services import audit, policy
from backend.services.errors import InvalidInput, NotFound
from backend.services.overdue import Deadlines, overdue_items
from backend.services.policy import Actor

FLAG_STATUS_LABELS = {"open": "待处理", "confirmed": "已确认", "dismissed": "已排除"}


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

    flagged: dict[int, set[str]] = defaultdict(set)
    for case_id, code in session.execute(policy.scoped(
            select(Photo.case_id, PhotoFlag.code).join(PhotoFlag, PhotoFlag.photo_id == Photo.id)
            .where(PhotoFlag.status == "open", Photo.case_id.is_not(None)), actor, Photo)
            .distinct()):
        flagged[case_id].add(code)
    returned = set(session.scalars(policy.scoped(
        select(Visit.case_id).where(Visit.review_state == "returned",
                                    Visit.case_id.is_not(None)), actor, Visit)))
    late = overdue_items(session, actor, rules, today, open_only=True)
    late_households = {i.household.id for i in late if i.case_id is None}
    overdue_cases = {i.case_id for i in late if i.case_id is not None}
    if late_households:
        overdue_cases |= set(session.scalars(policy.scoped(
            select(Case.id).where(Case.household_id.in_(late_households)), actor, Case)))

    def keep(case_id: int) -> bool:
        if filters.flag and not (flagged.get(case_id) if filters.flag == "any"
                                 else filters.flag in flagged.get(case_id, ())):
            return False
        if filters.returned and case_id not in returned:
            return False
        return not (filters.overdue and case_id not in overdue_cases)

    rows = [r for r in rows if keep(r.id)]
    regions = {r.code: r for r in session.scalars(
        select(Region).where(Region.level.in_(("town", "village")),
                             policy.in_scope(actor, Region.code)))}
    for region in list(regions.values()):
        if region.parent is not None:  # a village cadre's town, for its name
            regions.setdefault(region.parent.code, region.parent)
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
    page_ids = [r.id for r in rows[offset:offset + limit]]
    cases = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(page_ids)))} \
        if page_ids else {}
    village_list = sorted((r for r in regions.values() if r.level == "village"
                           and actor.covers(r.code)),
                          key=lambda r: r.code)
    return Overview(sorted(towns.values(), key=lambda a: a.code),
                    [cases[i] for i in page_ids], len(rows), dict(flagged), returned,
                    overdue_cases, regions, village_list)


def _range_of(code: str) -> tuple[str, str]:
    return code_range(code, level_of(code))


def _name(regions: dict[str, Region], code: str) -> str:
    region = regions.get(code)
    return region.name if region else code


# --- flags -------------------------------------------------------------------------------
@dataclass
class FlaggedPhoto:
    flag: PhotoFlag
    photo: Photo
    household: Household


def flagged_photos(session, actor: Actor, *, code: str | None = None, status: str = "open",
                   village: str | None = None, limit: int = 200) -> list[FlaggedPhoto]:
    """Flags to work through in the actor's area, oldest raised first."""
    stmt = policy.scoped(
        select(PhotoFlag, Photo, Household).join(Photo, Photo.id == PhotoFlag.photo_id)
        .join(Household, Household.id == Photo.household_id), actor, Photo)
    if status != "all":
        stmt = stmt.where(PhotoFlag.status == status)
    if code:
        stmt = stmt.where(PhotoFlag.code == code)
    if village:
        stmt = stmt.where(Photo.village_code.between(*_range_of(village)))
    rows = session.execute(stmt.order_by(PhotoFlag.raised_at, PhotoFlag.id).limit(limit)).all()
    return [FlaggedPhoto(f, p, h) for f, p, h in rows]


def review_flag(session, actor: Actor, photo_id: str, code: str, decision: str,
                reason: str | None) -> Photo:
    """Confirm or dismiss one flag of a photo; a dismissed flag stays, with who, when and why."""
    actor.require(policy.VISIT_REVIEW)
    photo = policy.get_in_scope(session, Photo, photo_id, actor)
    flag = next((f for f in photo.flags if f.code == code), None)
    if flag is None:
        raise NotFound("该照片没有此标记")
    reason = (reason or "").strip() or None
    if decision not in ("confirm", "dismiss"):
        raise InvalidInput(fields={"decision": "应为 confirm（确认）或 dismiss（排除）"})
    if decision == "dismiss" and not reason:
        raise InvalidInput("排除标记时须说明理由", fields={"reason": "排除标记时须说明理由"})
    old = flag.status
    flag.status = "confirmed" if decision == "confirm" else "dismissed"
    flag.reviewed_by = actor.user_id
    flag.reviewed_at = utc_now()
    flag.review_reason = reason
    audit.record(session, actor, "review_flag", "photo", photo.id,
                 {"code": code, "status": [old, flag.status], "reason": reason})
    session.commit()
    return photo


@dataclass
class ReusedPair:
    photo: Photo
    household: Household
    other: Photo | None  # None: the other photo lies outside the actor's area
    other_household: Household | None
    distance: int


def reused_pairs(session, actor: Actor, *, include_reviewed: bool = False,
                 limit: int = 200) -> list[ReusedPair]:
    """Near-identical photos under two households, each pair once."""
    stmt = policy.scoped(
        select(PhotoFlag, Photo, Household).join(Photo, Photo.id == PhotoFlag.photo_id)
        .join(Household, Household.id == Photo.household_id)
        .where(PhotoFlag.code == "reused_elsewhere"), actor, Photo)
    if not include_reviewed:
        stmt = stmt.where(PhotoFlag.status == "open")
    rows = session.execute(stmt.order_by(PhotoFlag.raised_at, PhotoFlag.id)).all()
    wanted = {m["photo_id"] for f, _, _ in rows for m in f.details.get("matches", [])}
    others = {p.id: (p, h) for p, h in session.execute(policy.scoped(
        select(Photo, Household).join(Household, Household.id == Photo.household_id)
        .where(Photo.id.in_(wanted)), actor, Photo))} if wanted else {}
    pairs, seen = [], set()
    for flag, photo, household in rows:
        for match in flag.details.get("matches", []):
            key = tuple(sorted((photo.id, match["photo_id"])))
            if key in seen:
                continue
            seen.add(key)
            other, other_household = others.get(match["photo_id"], (None, None))
            pairs.append(ReusedPair(photo, household, other, other_household,
                                    match.get("distance", 0)))
    return pairs[:limit]
