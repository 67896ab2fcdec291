"""Reading visits and rectifications inside the caller's area, and what a visit still lacks."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import case as sql_case
from sqlalchemy import select

from backend.models import Photo, Rectification, Visit
from backend.services import checklists, policy
from backend.services.checklists.rules import missing_required_photos
from backend.services.policy import Actor


def list_visits(session, actor: Actor, *, mine: bool, household_id: int | None,
                case_id: int | None, review_state: str | None, limit: int) -> list[Visit]:
    """List visits in the actor's area, returned ones first, newest first."""
    stmt = policy.scoped(select(Visit), actor, Visit)
    if mine:
        stmt = stmt.where(Visit.inspector_id == actor.user_id)
    for column, value in ((Visit.household_id, household_id), (Visit.case_id, case_id),
                          (Visit.review_state, review_state)):
        if value is not None:
            stmt = stmt.where(column == value)
    returned_first = sql_case((Visit.review_state == "returned", 0), else_=1)
    return list(session.scalars(stmt.order_by(returned_first, Visit.started_at.desc())
                                .limit(limit)))


def list_rectifications(session, actor: Actor, *, status: str | None, overdue_on: date | None,
                        household_id: int | None, case_id: int | None,
                        limit: int) -> list[Rectification]:
    """Rectifications in the actor's area; `overdue_on` keeps open ones due before that day."""
    stmt = policy.scoped(select(Rectification), actor, Rectification)
    for column, value in ((Rectification.status, status),
                          (Rectification.household_id, household_id),
                          (Rectification.case_id, case_id)):
        if value is not None:
            stmt = stmt.where(column == value)
    if overdue_on is not None:
        stmt = stmt.where(Rectification.status == "open", Rectification.due_on < overdue_on)
    return list(session.scalars(stmt.order_by(Rectification.due_on, Rectification.id)
                                .limit(limit)))


def get_visit(session, actor: Actor, visit_id: str) -> Visit:
    return policy.get_in_scope(session, Visit, visit_id, actor)


@dataclass(frozen=True)
class MissingPhoto:
    """A required photo of an item a visit recorded that has not arrived."""

    node: str
    item: str
    visit_id: str


@dataclass(frozen=True)
class VisitWithGaps:
    """A visit with the required photos it still lacks; reads like the visit it wraps."""

    visit: Visit
    missing_photos: list[MissingPhoto]

    def __getattr__(self, name):
        return getattr(self.visit, name)


def missing_photos(visit: Visit, uploaded: list[Photo]) -> list[MissingPhoto]:
    """Required photos of the items this visit recorded that have not arrived."""
    spec = checklists.spec_of(visit.template)
    arrived = {p.id for p in uploaded}
    counts = {}
    for r in visit.results:
        mine = {p.id for p in uploaded if p.item == r.item_code} | (set(r.photo_ids) & arrived)
        counts[r.item_code] = (r.result, len(mine))
    return [MissingPhoto(node, item, visit.id)
            for node, item in missing_required_photos(spec, counts) if item in counts]


def with_gaps(session, visit_rows: list[Visit],
              photos: list[Photo] | None = None) -> list[VisitWithGaps]:
    """Each visit with its missing required photos; reads their photos in one query unless
    the caller already holds them."""
    if photos is None:
        ids = [v.id for v in visit_rows]
        photos = list(session.scalars(select(Photo).where(Photo.visit_id.in_(ids)))) \
            if ids else []
    by_visit = defaultdict(list)
    for photo in photos:
        by_visit[photo.visit_id].append(photo)
    return [VisitWithGaps(v, missing_photos(v, by_visit[v.id])) for v in visit_rows]


@dataclass(frozen=True)
class CaseGap:
    """A required photo a case still lacks: an item (of a phase) some visit recorded as needing
    a photo, with no photo of it on any visit of the case that was not returned."""

    phase: str
    node: str
    item: str
    label: str
    visit_id: str  # the visit that asked for it


def missing_over_visits(visit_rows: list[Visit], photos: list[Photo]) -> list[CaseGap]:
    """What a case (or a household's visits) is missing, over all its visits: the one rule the
    desk, the API, the workflow's acceptance check and the phone (rules.js) share.

    An item needs a photo when a visit recorded it (not 不适用) and the template requires one,
    unless that visit's return was resolved by an approved answer. It is supplied by a photo of
    the same item and phase on any visit that is not returned (submitted or approved),
    including a later resubmission; a returned visit's own photos do not count.
    """
    counted = {v.id for v in visit_rows if v.review_state != "returned"}
    by_id = {p.id: p for p in photos}
    supplied = {(p.phase, p.item) for p in photos if p.visit_id in counted and p.item}
    for visit in visit_rows:
        if visit.id in counted:
            supplied |= {(by_id[pid].phase, r.item_code) for r in visit.results
                         for pid in r.photo_ids if pid in by_id}
    gaps: dict[tuple[str, str], CaseGap] = {}
    for visit in visit_rows:
        if visit.id not in counted and not visit.return_open:
            continue  # its approved answer stands for it
        spec = checklists.spec_of(visit.template)
        recorded = {r.item_code: (r.result, int((visit.phase, r.item_code) in supplied))
                    for r in visit.results}
        for node, item in missing_required_photos(spec, recorded):
            if item in recorded:
                gaps.setdefault((visit.phase, item), CaseGap(
                    visit.phase, node, item, spec.item(item).name, visit.id))
    return list(gaps.values())
