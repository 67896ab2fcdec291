"""What a reviewer reads: the queue of submitted visits (待审核), the suspected dangerous houses
(疑似危房) with their clocks, and every visit of one household with its photos.

Each reads inside the caller's area and costs a constant number of queries.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import exists, or_, select

from backend.models import Appraisal, Household, Photo, Region, RoundHousehold, Visit
from backend.services import policy
from backend.services.accounts import users_by_id
from backend.services.cases.overdue import Deadlines, HazardClocks, hazard_clocks
from backend.services.checklists.names import names
from backend.services.errors import OutsideScope
from backend.services.policy import Actor
from backend.services.visits.queries import VisitWithGaps, with_gaps
from backend.vocabulary import SURVEY_KINDS, VISIT_KIND_LABELS

# The queue's kinds: every visit kind, and houses found on the spot (以房找人), whose survey
# visit is reviewed like any other and, returned, reaches the phone like any other.
FOUND = "found_house"
QUEUE_KINDS = {**VISIT_KIND_LABELS, FOUND: "以房找人（新发现房屋）"}


@dataclass
class Reviewed:
    """A visit as a reviewer sees it: its household, village, photos and danger points."""

    visit: VisitWithGaps
    household: Household
    village_name: str
    found_house: bool
    photos: list[Photo] = field(default_factory=list)

    @property
    def danger_labels(self) -> list[str]:
        return [names().danger_point(code) for code in self.visit.danger_points or []]


@dataclass
class Suspected(Reviewed):
    clocks: HazardClocks | None = None


def _found_visit():
    """The visit recorded a house found on the spot: its round's row says so."""
    return exists().where(RoundHousehold.visit_id == Visit.id,
                          RoundHousehold.found_in_round.is_(True))


def review_queue(session, actor: Actor, *, kind: str | None = None, village: str | None = None,
                 limit: int = 200) -> list[Reviewed]:
    """Submitted visits awaiting review, oldest first; `kind` a visit kind or FOUND."""
    actor.require(policy.VISIT_REVIEW)
    if village and not actor.covers(village):
        raise OutsideScope()
    stmt = policy.scoped(select(Visit), actor, Visit).where(Visit.review_state == "submitted")
    if kind == FOUND:
        stmt = stmt.where(or_(_found_visit(), Visit.outcome == "new_found"))
    elif kind:
        stmt = stmt.where(Visit.kind == kind)
    if village:
        stmt = stmt.where(Visit.village_code == village)
    rows = list(session.scalars(stmt.order_by(Visit.received_at, Visit.id).limit(limit)))
    return _reviewed(session, rows, Reviewed)


def suspected_houses(session, actor: Actor, rules: Deadlines) -> list[Suspected]:
    """Survey visits that found a suspected dangerous house (疑似危房), oldest first, each with
    its danger points, photos and the 5-day report and 7-day appraisal clocks."""
    stmt = policy.scoped(select(Visit), actor, Visit).where(
        Visit.kind.in_(SURVEY_KINDS.values()), Visit.outcome == "suspected_danger")
    rows = list(session.scalars(stmt.order_by(Visit.started_at, Visit.id)))
    found = _reviewed(session, rows, Suspected)
    days: dict[int, list[date]] = defaultdict(list)
    ids = {s.household.id for s in found}
    if ids:
        for hid, day in session.execute(select(Appraisal.household_id, Appraisal.appraised_on)
                                        .where(Appraisal.household_id.in_(ids))):
            days[hid].append(day)
    for item in found:
        item.clocks = hazard_clocks(item.visit.visit, days[item.household.id], rules)
    return found


def _reviewed(session, rows: list[Visit], kind) -> list:
    if not rows:
        return []
    ids = [v.id for v in rows]
    photos = list(session.scalars(select(Photo).where(Photo.visit_id.in_(ids))
                                  .order_by(Photo.number)))
    homes = {h.id: h for h in session.scalars(select(Household).where(
        Household.id.in_({v.household_id for v in rows})))}
    villages = dict(session.execute(select(Region.code, Region.name).where(
        Region.code.in_({v.village_code for v in rows}))).all())
    found = set(session.scalars(select(RoundHousehold.visit_id).where(
        RoundHousehold.visit_id.in_(ids), RoundHousehold.found_in_round.is_(True))))
    by_visit = defaultdict(list)
    for photo in photos:
        by_visit[photo.visit_id].append(photo)
    return [kind(v, homes[v.household_id], villages.get(v.village_code, ""),
                 v.id in found or v.outcome == "new_found", by_visit[v.id])
            for v in with_gaps(session, rows, photos)]


@dataclass
class HouseholdRecord:
    """Every visit of a household, of every kind, newest first, with its photos; the photos
    of no visit that arrived (a draft discarded on the phone after sending) apart."""

    visits: list[Reviewed]
    unfiled: list[Photo]
    users: dict


def household_record(session, actor: Actor, household: Household) -> HouseholdRecord:
    rows = list(session.scalars(policy.scoped(select(Visit), actor, Visit).where(
        Visit.household_id == household.id).order_by(Visit.started_at.desc())))
    visits = _reviewed(session, rows, Reviewed)
    unfiled = list(session.scalars(select(Photo).where(
        Photo.household_id == household.id, ~Photo.filed).order_by(Photo.number)))
    users = users_by_id(session, {v.visit.inspector_id for v in visits}
                        | {v.visit.reviewed_by for v in visits})
    return HouseholdRecord(visits, unfiled, users)
