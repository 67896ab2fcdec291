"""Reading survey rounds: which rounds I see, their coverage per village (不漏一户), who is
still unvisited, and my own households to visit.

Each function reads inside the caller's area and costs a constant number of queries.
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, func, or_, select, true

from backend.models import (
    Case,
    Household,
    Region,
    Round,
    RoundHousehold,
    RoundTally,
    User,
    Visit,
)
from backend.models.region import code_range, level_of
from backend.services import policy
from backend.services.errors import OutsideScope
from backend.services.policy import Actor
from backend.vocabulary import OUTCOME_LABELS, UNCHECKED_OUTCOMES


@dataclass(frozen=True)
class Coverage:
    """Households to visit, checked (已查), not yet checked, awaiting a revisit and found on
    the spot; `visited` counts only checked households (UNCHECKED_OUTCOMES)."""

    total: int = 0
    visited: int = 0
    unvisited: int = 0
    revisit_needed: int = 0
    found: int = 0

    def __add__(self, other: "Coverage") -> "Coverage":
        return Coverage(*(a + b for a, b in zip(self.counts(), other.counts(), strict=True)))

    def counts(self) -> tuple[int, ...]:
        return (self.total, self.visited, self.unvisited, self.revisit_needed, self.found)


@dataclass(frozen=True)
class VillageCoverage(Coverage):
    village_code: str = ""
    village_name: str | None = None
    outcomes: dict[str, int] = field(default_factory=dict)  # outcome code → households


@dataclass(frozen=True)
class UnvisitedHousehold:
    household_id: int
    name: str
    village_code: str
    inspector_id: int | None
    inspector_name: str | None
    skip_reason: str | None
    case_id: int | None  # the household's latest case, to link to


@dataclass(frozen=True)
class RoundProgress:
    round: Round
    totals: Coverage
    villages: list[VillageCoverage]
    unvisited: list[UnvisitedHousehold]  # the first `unvisited_limit`, by village and name

    def outcome_total(self, code: str) -> int:
        return sum(v.outcomes[code] for v in self.villages)


@dataclass(frozen=True)
class RoundTotals:
    total: int
    visited: int
    revisit_needed: int


def get_round(session, actor: Actor, round_id: int) -> Round:
    """A round is visible to whoever works inside its area."""
    if not 0 < round_id < 2**31:
        raise OutsideScope()  # no such round, and the database would refuse the number
    rnd = session.get(Round, round_id)
    if rnd is None or not _overlaps(actor, rnd):
        raise OutsideScope()
    return rnd


def list_rounds(session, actor: Actor, *, status: str | None = None) -> list[Round]:
    stmt = select(Round).order_by(Round.starts_on.desc(), Round.id.desc())
    if status:
        stmt = stmt.where(Round.status == status)
    return [r for r in session.scalars(stmt) if _overlaps(actor, r)]


def progress(session, actor: Actor, round_id: int, *, unvisited_limit: int = 500
             ) -> RoundProgress:
    """Coverage per village: to visit, visited, outcomes, revisits, and who is still unvisited."""
    rnd = get_round(session, actor, round_id)
    mine = policy.in_scope(actor, RoundHousehold.village_code)
    columns = [
        RoundTally.village.label("village_code"), _count(true(), "total"), *_counts(),
        _count(RoundTally.found_in_round.is_(True), "found"),
    ] + [_count(RoundTally.outcome == code, code) for code in OUTCOME_LABELS]
    rows = session.execute(
        select(*columns).where(RoundTally.round_id == rnd.id,
                               policy.in_scope(actor, RoundTally.village))
        .group_by(RoundTally.village).having(func.sum(RoundTally.households) > 0)
        .order_by(RoundTally.village)).all()
    names = region_names(session, [r.village_code for r in rows])
    villages = [VillageCoverage(
        village_code=r.village_code, village_name=names.get(r.village_code),
        total=r.total, visited=int(r.visited or 0), unvisited=r.total - int(r.visited or 0),
        revisit_needed=int(r.revisit or 0), found=int(r.found or 0),
        outcomes={code: int(getattr(r, code) or 0) for code in OUTCOME_LABELS},
    ) for r in rows]
    latest_case = (select(func.max(Case.id)).where(Case.household_id == Household.id)
                   .correlate(Household).scalar_subquery())
    pending = session.execute(
        select(RoundHousehold.household_id, Household.name, RoundHousehold.village_code,
               RoundHousehold.inspector_id, User.name.label("inspector_name"),
               RoundHousehold.skip_reason, latest_case.label("case_id"))
        .join(Household, Household.id == RoundHousehold.household_id)
        .outerjoin(User, User.id == RoundHousehold.inspector_id)
        .where(RoundHousehold.round_id == rnd.id, mine, ~checked())
        .order_by(RoundHousehold.village_code, Household.name).limit(unvisited_limit)).all()
    totals = sum((Coverage(*v.counts()) for v in villages), Coverage())
    return RoundProgress(round=rnd, totals=totals, villages=villages,
                         unvisited=[UnvisitedHousehold(**p._asdict()) for p in pending])


def totals_by_round(session, actor: Actor, round_ids: list[int]) -> dict[int, RoundTotals]:
    """Households to visit, visited and awaiting a revisit per round, inside my area."""
    if not round_ids:
        return {}
    rows = session.execute(
        select(RoundTally.round_id, _count(true(), "total"), *_counts())
        .where(RoundTally.round_id.in_(round_ids),
               policy.in_scope(actor, RoundTally.village))
        .group_by(RoundTally.round_id).having(func.sum(RoundTally.households) > 0)).all()
    return {r.round_id: RoundTotals(total=int(r.total), visited=int(r.visited or 0),
                                    revisit_needed=int(r.revisit or 0)) for r in rows}


def _count(condition, label: str):
    """How many households of the group's tallies meet the condition (the tallies, kept by
    triggers, hold households per village and state: a few rows, whatever the round's size)."""
    return func.coalesce(func.sum(RoundTally.households).filter(condition), 0).label(label)


def checked(visited=None, outcome=RoundHousehold.outcome):
    """已查: visited with an outcome that counts (nobody reached does not, UNCHECKED_OUTCOMES).

    Of a round household by default; of a tally given its `visited` and `outcome` columns.
    """
    visited = RoundHousehold.visited_at.is_not(None) if visited is None else visited
    return and_(visited, or_(outcome.is_(None), outcome.not_in(UNCHECKED_OUTCOMES)))


def _counts():
    """The two counts every coverage figure starts from: checked (已查), awaiting a revisit."""
    return (_count(checked(RoundTally.visited.is_(True), func.nullif(RoundTally.outcome, "")),
                   "visited"),
            _count(RoundTally.revisit_needed.is_(True), "revisit"))


def available_inspectors(session, actor: Actor, rnd: Round) -> list[User]:
    """Active inspectors working somewhere inside both the round's area and mine."""
    areas = [code_range(c, level_of(c)) for c in rnd.area_codes]
    users = session.scalars(select(User).where(User.role == "inspector", User.active.is_(True))
                           .order_by(User.name, User.id)).all()

    def overlaps(user: User) -> bool:
        return any(low <= a_high and a_low <= high and any(
            low <= m_high and m_low <= high for m_low, m_high in actor.ranges)
            for low, high in (r.range for r in user.regions) for a_low, a_high in areas)

    return [u for u in users if overlaps(u)]


def assignments(session, actor: Actor) -> list[dict]:
    """My households in open rounds, in walking order: by village, not yet visited first."""
    rows = session.execute(
        select(RoundHousehold, Round).join(Round, Round.id == RoundHousehold.round_id)
        .where(Round.status == "open", RoundHousehold.inspector_id == actor.user_id,
               policy.in_scope(actor, RoundHousehold.village_code))
        .order_by(Round.due_on, RoundHousehold.village_code,
                  RoundHousehold.visited_at.is_not(None), RoundHousehold.revisit_needed.desc(),
                  RoundHousehold.household_id)).all()
    by_round: dict[int, dict] = {}
    for row, rnd in rows:
        entry = by_round.setdefault(rnd.id, {"round": rnd, "households": []})
        entry["households"].append(row)
    return list(by_round.values())


def _overlaps(actor: Actor, rnd: Round) -> bool:
    low, high = code_range(rnd.region_code, level_of(rnd.region_code))
    return any(a_low <= high and low <= a_high for a_low, a_high in actor.ranges)


def region_names(session, codes: list[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = session.execute(select(Region.code, Region.name).where(Region.code.in_(codes)))
    return {code: name for code, name in rows}


@dataclass(frozen=True)
class RoundRow:
    """One household of a round as its village's counts link to it."""

    household: Household
    outcome: str | None
    visited_at: datetime | None
    found_in_round: bool
    visit: Visit | None  # the visit that recorded the outcome


def round_rows(session, actor: Actor, round_id: int, *, village: str | None,
               outcome: str | None = None, found: bool = False,
               limit: int = 1000) -> tuple[Round, list[RoundRow]]:
    """The households behind one count of the coverage table: a village's, with an outcome
    or found on the spot (以房找人), each with the visit that recorded it."""
    rnd = get_round(session, actor, round_id)
    stmt = (select(RoundHousehold, Visit).outerjoin(Visit, Visit.id == RoundHousehold.visit_id)
            .where(RoundHousehold.round_id == rnd.id,
                   policy.in_scope(actor, RoundHousehold.village_code)))
    if village:
        stmt = stmt.where(RoundHousehold.village_code == village)
    if outcome:
        stmt = stmt.where(RoundHousehold.outcome == outcome)
    if found:
        stmt = stmt.where(RoundHousehold.found_in_round.is_(True))
    rows = session.execute(stmt.order_by(RoundHousehold.village_code, RoundHousehold.household_id)
                           .limit(limit)).all()
    return rnd, [RoundRow(row.household, row.outcome, row.visited_at, row.found_in_round, visit)
                 for row, visit in rows]
