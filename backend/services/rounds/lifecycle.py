"""Survey rounds: open one over an area, assign every household, record outcomes, close.

A round never loses a household: it is closed only when each one was visited or has a
recorded reason why not (不漏一户).
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Integer, cast, false, func, literal, null, or_, select, text
from sqlalchemy import case as sql_case

from backend.models import Household, Region, Round, RoundHousehold, User, Visit
from backend.models.base import utc_now
from backend.services import audit, policy
from backend.services.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    RoundNotClosable,
)
from backend.services.policy import Actor
from backend.services.rounds import partitions
from backend.services.rounds.progress import checked, get_round
from backend.vocabulary import CATEGORIES, ROUND_KINDS, SURVEY_KINDS


@dataclass(frozen=True)
class RoundSpec:
    kind: str
    name: str
    starts_on: date
    due_on: date
    area_codes: list[str]
    categories: list[str]
    period: str | None = None
    cause: str | None = None
    # A spot-check round's households: exactly its drawn sample, instead of the area's.
    household_ids: tuple[int, ...] | None = None


@dataclass(frozen=True)
class DiscoveryAfterClose:
    """A found house registered after its round closed: it answers like a round household
    that is not on the closed round's list."""

    household: Household
    visited_at: None = None
    outcome: None = None
    revisit_needed: bool = False
    found_in_round: bool = False
    visit_id: None = None


def open_round(session, actor: Actor, spec: RoundSpec) -> Round:
    """Open a round over towns/villages and assign each household to an inspector."""
    rnd = start_round(session, actor, spec)
    session.commit()
    refresh_statistics(session, partitions.rows_table(session, rnd.id))
    return rnd


def refresh_statistics(session, table: str) -> None:
    """After a bulk change (a round adds a county's households at once), give the planner
    fresh numbers now rather than when autovacuum next looks; SQLite samples a bounded part."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA analysis_limit = 1000"))
    session.execute(text(f"ANALYZE {table}"))
    session.commit()


def start_round(session, actor: Actor, spec: RoundSpec) -> Round:
    """Open a round without committing: the caller commits it with its own change."""
    actor.require(policy.ROUND_MANAGE)
    areas = _areas(session, actor, spec.area_codes)
    unknown = [c for c in spec.categories if c not in CATEGORIES]
    if unknown:
        raise InvalidInput(fields={"categories": "未知的类别：" + "、".join(unknown)})
    if (spec.kind == "spot_check") != (spec.household_ids is not None):
        raise InvalidInput(fields={"kind": "随机抽查轮次由抽取样本开启"})
    if spec.due_on < spec.starts_on:
        raise InvalidInput(fields={"due_on": "截止日期早于开始日期"})
    region = _common_parent(session, areas)
    partitions.take_turn(session)
    rnd = Round(kind=spec.kind, name=spec.name, period=spec.period, cause=spec.cause,
                starts_on=spec.starts_on, due_on=spec.due_on, region_code=region,
                area_codes=sorted(a.code for a in areas), categories=list(spec.categories),
                opened_by=actor.user_id)
    session.add(rnd)
    session.flush()

    households = select(Household.id, Household.village_code).where(
        _within(areas, Household.village_code), policy.in_scope(actor, Household.village_code))
    if spec.categories:
        households = households.where(Household.category.in_(spec.categories))
    if spec.household_ids is not None:
        households = households.where(Household.id.in_(spec.household_ids))
    villages = session.scalars(select(Region.code).where(
        Region.level == "village", _within(areas, Region.code),
        policy.in_scope(actor, Region.code))).all()
    added = partitions.add_round_rows(
        session, rnd.id, ["round_id", "household_id", "village_code", "inspector_id",
                          "revisit_needed", "found_in_round"],
        _assigned(households.subquery(), rnd.id, inspector_candidates(session, set(villages))))
    audit.record(session, actor, "open", "round", rnd.id,
                 {"name": spec.name, "households": added, "areas": rnd.area_codes})
    return rnd


def _within(areas: list[Region], column):
    return or_(*(column.between(*a.range) for a in areas))


def _assigned(households, round_id: int, candidates: dict[str, list[int]]):
    """The round's rows, built by the database in one INSERT … SELECT: each household goes
    to its village's inspector; several equally narrow ones take its households in turn."""
    turn = func.row_number().over(partition_by=households.c.village_code,
                                  order_by=households.c.id) - 1
    villages_of: dict[tuple[int, ...], list[str]] = defaultdict(list)
    for village, ids in candidates.items():
        villages_of[tuple(ids)].append(village)
    whens = [(households.c.village_code.in_(sorted(villages)),
              literal(ids[0]) if len(ids) == 1 else sql_case(dict(enumerate(ids)),
                                                             value=turn % len(ids)))
             for ids, villages in villages_of.items()]
    inspector = sql_case(*whens, else_=null()) if whens else null()
    return select(literal(round_id), households.c.id, households.c.village_code,
                  cast(inspector, Integer), false(), false())


def inspector_candidates(session, villages: set[str]) -> dict[str, list[int]]:
    """Return village → the active inspectors with the narrowest area covering it, by id."""
    inspectors = session.scalars(select(User).where(User.role == "inspector",
                                                    User.active.is_(True))).all()
    candidates: dict[str, list[int]] = {}
    for village in villages:
        options = []
        for user in inspectors:
            for region in user.regions:
                low, high = region.range
                if low <= village <= high:
                    options.append((int(high) - int(low), user.id))
        if options:
            narrowest = min(width for width, _ in options)
            candidates[village] = sorted(uid for width, uid in options if width == narrowest)
    return candidates


def reassign(session, actor: Actor, round_id: int, household_ids: list[int],
             inspector_id: int) -> int:
    """Move households of a round to another inspector who covers their villages."""
    actor.require(policy.ROUND_MANAGE)
    rnd = get_round(session, actor, round_id)
    if rnd.status != "open":
        raise Conflict("本轮排查已结束，不能再调整分工")
    inspector = session.get(User, inspector_id)
    if inspector is None or inspector.role != "inspector" or not inspector.active:
        raise InvalidInput(fields={"inspector_id": "不是在岗的检查员"})
    rows = session.scalars(select(RoundHousehold).where(
        RoundHousehold.round_id == rnd.id, RoundHousehold.household_id.in_(household_ids),
        policy.in_scope(actor, RoundHousehold.village_code))).all()
    if len(rows) != len(set(household_ids)):
        raise InvalidInput(fields={"household_ids": "部分农户不在本轮排查或不在您的管辖范围内"})
    target = Actor.of(inspector)
    outside = [r.household_id for r in rows if not target.covers(r.village_code)]
    if outside:
        raise InvalidInput(fields={"inspector_id": "该检查员的负责区域不包含这些农户"})
    for row in rows:
        row.inspector_id = inspector.id
    audit.record(session, actor, "reassign", "round", rnd.id,
                 {"households": sorted(household_ids), "inspector_id": inspector.id})
    session.commit()
    return len(rows)


def record_outcome(session, visit: Visit) -> None:
    """Copy a survey visit's outcome onto its round household (called inside record_visit)."""
    if visit.round_id is None:
        return
    rnd = session.get(Round, visit.round_id)
    if rnd is None:
        raise InvalidInput(fields={"round_id": "该轮排查不存在"})
    if visit.kind != SURVEY_KINDS[rnd.kind]:
        raise InvalidInput(fields={"kind": f"{ROUND_KINDS[rnd.kind]}应使用排查记录表"})
    if rnd.status != "open":
        if visit.ended_at > rnd.closed_at:
            raise InvalidInput(fields={"round_id": "该轮排查已结束"})
        # Recorded while the round was open, synced after it closed: the visit is kept as
        # evidence, and the closed round's record stays as it was closed.
        return
    row = session.scalar(select(RoundHousehold).where(
        RoundHousehold.round_id == rnd.id, RoundHousehold.household_id == visit.household_id))
    if row is None:
        raise InvalidInput(fields={"round_id": "该农户不在本轮排查范围内"})
    if row.visited_at is not None and row.visited_at > visit.ended_at:
        return  # an older visit replayed late does not overwrite a newer outcome
    row.visit_id = visit.id
    row.outcome = visit.outcome
    row.visited_at = visit.ended_at
    row.revisit_needed = visit.outcome == "nobody_home"


def add_discovery(session, actor: Actor, round_id: int, values: dict
                  ) -> RoundHousehold | DiscoveryAfterClose:
    """以房找人: a house found on the spot that is not on the list joins the round.

    Return its round household. A phone may sync after the round was closed: the house is
    registered all the same, so its photos and survey can land, but the closed round keeps
    its households; the answer then stands for a row that was not added.
    """
    from backend.services.households import (  # avoids a cycle at import
        require_identity,
        validate_fields,
    )

    actor.require(policy.VISIT_RECORD)
    rnd = get_round(session, actor, round_id)
    values = validate_fields(session, actor, require_identity(values))
    existing = session.scalar(select(Household).where(
        Household.id_number == values["id_number"]))
    if existing is not None:
        if not actor.covers(existing.village_code):
            raise InvalidInput(fields={"id_number": "该身份证号的农户已登记在其他地区"})
        household = existing
    else:
        household = Household(**values, location_source="inspector" if "lat" in values else None,
                               location_set_at=utc_now() if "lat" in values else None,
                               location_set_by=actor.user_id if "lat" in values else None)
        session.add(household)
        session.flush()
        audit.record(session, actor, "create", "household", household.id,
                     {"round_id": rnd.id, "found_in_round": True})
    row = session.scalar(select(RoundHousehold).where(
        RoundHousehold.round_id == rnd.id, RoundHousehold.household_id == household.id))
    if row is None and rnd.status != "open":
        session.commit()
        return DiscoveryAfterClose(household=household)
    if row is None:
        row = RoundHousehold(round_id=rnd.id, household_id=household.id,
                             village_code=household.village_code, inspector_id=actor.user_id,
                             found_in_round=True, revisit_needed=False)
        session.add(row)
    session.commit()
    return row


def covers_round(actor: Actor, rnd: Round) -> bool:
    """Whether the actor's area holds the whole round (only such a user may close it)."""
    return all(actor.covers(code) for code in rnd.area_codes)


def close_round(session, actor: Actor, round_id: int, reasons: dict[int, str], *,
                default_reason: str | None = None) -> Round:
    """Close a round; every unvisited household needs a recorded reason.

    `default_reason` is given to each unvisited household that has none of its own.
    """
    actor.require(policy.ROUND_MANAGE)
    rnd = get_round(session, actor, round_id)
    if rnd.status == "closed":
        raise Conflict("本轮排查已结束")
    if not covers_round(actor, rnd):
        raise Forbidden("本轮范围超出您的辖区，须由覆盖全部范围的管理人员结束本轮排查")
    # Not checked (已查, progress.checked): nobody reached counts as unvisited here too.
    unvisited = session.scalars(select(RoundHousehold).where(
        RoundHousehold.round_id == rnd.id, ~checked())).all()
    for row in unvisited:
        reason = (reasons.get(row.household_id) or row.skip_reason or default_reason or "").strip()
        row.skip_reason = reason or None
    missing = [r.household_id for r in unvisited if not r.skip_reason]
    if missing:
        session.rollback()
        raise RoundNotClosable(f"仍有 {len(missing)} 户未排查且未说明原因",
                               fields={"reasons": "请为每户未排查的农户说明原因"},
                               unvisited=missing[:200], unvisited_count=len(missing))
    rnd.status = "closed"
    rnd.closed_by = actor.user_id
    rnd.closed_at = utc_now()
    audit.record(session, actor, "close", "round", rnd.id,
                 {"unvisited_with_reason": len(unvisited)})
    session.commit()
    return rnd


def record_reasons(session, actor: Actor, round_id: int, reasons: dict[int, str]) -> int:
    """Save why households were not visited, without closing; an empty reason clears one."""
    actor.require(policy.ROUND_MANAGE)
    rnd = get_round(session, actor, round_id)
    if rnd.status != "open":
        raise Conflict("本轮排查已结束")
    rows = session.scalars(select(RoundHousehold).where(
        RoundHousehold.round_id == rnd.id, RoundHousehold.household_id.in_(list(reasons)),
        ~checked(),
        policy.in_scope(actor, RoundHousehold.village_code))).all()
    changed = {}
    for row in rows:
        reason = (reasons[row.household_id] or "").strip() or None
        if reason != row.skip_reason:
            row.skip_reason = reason
            changed[row.household_id] = reason
    if changed:
        audit.record(session, actor, "skip_reasons", "round", rnd.id,
                     {"households": sorted(changed)})
    session.commit()
    return len(changed)


def _areas(session, actor: Actor, codes: list[str]) -> list[Region]:
    if not codes:
        raise InvalidInput(fields={"area_codes": "请选择排查范围（乡镇或村）"})
    areas = session.scalars(select(Region).where(Region.code.in_(codes))).all()
    if len(areas) != len(set(codes)) or any(
            a.level not in ("county", "town", "village") or not actor.covers(a.code)
            for a in areas):
        raise InvalidInput(fields={"area_codes": "区划代码不存在或不在您的管辖范围内"})
    return list(areas)


def _common_parent(session, areas: list[Region]) -> str:
    """The smallest region containing every chosen area."""
    codes = [a.code for a in areas]
    for digits in (12, 9, 6, 4, 2):
        prefixes = {c[:digits] for c in codes}
        if len(prefixes) == 1:
            candidate = prefixes.pop().ljust(12, "0")
            if session.get(Region, candidate) is not None:
                return candidate
    return areas[0].code
