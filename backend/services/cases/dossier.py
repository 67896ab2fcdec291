"""One case's evidence laid out for judging: its photos by phase and node with their distance
from the house, the required photos still missing, before/after comparisons, and one photo's page.

Every function takes the session and the caller (`Actor`) and reads only inside the caller's
area; each costs a constant number of queries however many photos there are.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from backend.models import Household, Photo, User, Visit
from backend.services import checklists, policy
from backend.services.accounts import users_by_id
from backend.services.cases import timeline
from backend.services.checklists.names import names as checklist_names
from backend.services.geo import distance_m
from backend.services.photos import flags as photo_flags
from backend.services.photos.checks import taken_at
from backend.services.policy import Actor


@dataclass
class PhotoView:
    photo: Photo
    number: int
    taken: datetime | None
    distance_m: float | None
    position_source: str | None

    @property
    def flags(self):
        return self.photo.flags


@dataclass
class Slot:
    """A required photo that has not arrived."""

    item: str
    name: str
    visit_id: str


@dataclass
class NodeRow:
    code: str
    name: str
    photos: list[PhotoView] = field(default_factory=list)
    missing: list[Slot] = field(default_factory=list)


@dataclass
class PhaseColumn:
    phase: str
    label: str
    nodes: list[NodeRow]


@dataclass
class Comparison:
    node: str
    name: str
    before: PhotoView
    after: PhotoView


@dataclass
class CaseDossier:
    timeline: timeline.CaseTimeline
    phases: list[PhaseColumn]
    photos: list[PhotoView]
    comparisons: list[Comparison]
    users: dict[int, User]
    item_names: dict[str, str]
    node_names: dict[str, str]

    @property
    def case(self):
        return self.timeline.case

    @property
    def household(self):
        return self.timeline.case.household


def case_dossier(session, actor: Actor, case_id: int) -> CaseDossier:
    """One case's photos by phase and node, with distances, names and missing slots."""
    t = timeline.case_timeline(session, actor, case_id)
    household = t.case.household
    house = (household.lat, household.lon) if household.has_location else None
    node_names, item_names = {}, {}
    for visit in t.visits:
        spec = checklists.spec_of(visit.template)
        for node, item in spec.iter_items():
            node_names.setdefault(node.code, node.name)
            item_names.setdefault(item.code, item.name)
    views, by_id = [], {}
    for phase in t.phases:
        for node in phase.nodes:
            for photo in node.photos:
                view = _photo_view(photo, house)
                views.append(view)
                by_id[photo.id] = view
    phases = []
    for phase in t.phases:
        rows = {n.code: NodeRow(n.code, n.name, [by_id[p.id] for p in n.photos])
                for n in phase.nodes}
        for gap in (g for g in t.missing_photos if g.phase == phase.phase):
            row = rows.get(gap.node) or rows.setdefault(gap.node, NodeRow(
                gap.node, node_names.get(gap.node, gap.node)))
            row.missing.append(Slot(gap.item, gap.label, gap.visit_id))
        phases.append(PhaseColumn(phase.phase, phase.label, list(rows.values())))
    user_ids = {v.inspector_id for v in t.visits} | {v.reviewed_by for v in t.visits}
    user_ids |= {p.photo.uploaded_by for p in views}
    user_ids |= {f.reviewed_by for p in views for f in p.photo.flags}
    user_ids |= {r.closed_by for r in t.rectifications}
    users = users_by_id(session, user_ids)
    return CaseDossier(t, phases, views, _comparisons(phases), users, item_names, node_names)


def _photo_view(photo: Photo, house) -> PhotoView:
    where, source = None, None
    if photo.has_device_position:
        where, source = (photo.device_lat, photo.device_lon), "device"
    elif photo.has_exif_position:
        where, source = (photo.exif_lat, photo.exif_lon), "exif"
    away = distance_m(*where, *house) if where and house else None
    return PhotoView(photo, photo.number, taken_at(photo), away, source)


def _comparisons(phases: list[PhaseColumn]) -> list[Comparison]:
    """The first and the last photo of each node seen in more than one phase, side by side."""
    seen: dict[str, list[tuple[int, NodeRow]]] = defaultdict(list)
    for index, phase in enumerate(phases):
        for row in phase.nodes:
            if row.photos:
                seen[row.code].append((index, row))
    pairs = []
    for code, rows in seen.items():
        if len({i for i, _ in rows}) > 1:
            first, last = rows[0][1], rows[-1][1]
            pairs.append(Comparison(code, first.name, first.photos[0], last.photos[-1]))
    return pairs


def photo_detail(session, actor: Actor, photo_id: str):
    """One photo with its household, case siblings (for previous/next) and the names needed."""
    photo = policy.get_in_scope(session, Photo, photo_id, actor)
    household = session.get(Household, photo.household_id)
    visit = session.get(Visit, photo.visit_id) if photo.visit_id else None
    siblings = []
    if photo.case_id is not None:
        siblings = list(session.execute(select(Photo.id, Photo.phase, Photo.captured_at,
                                               Photo.received_at)
                                        .where(Photo.case_id == photo.case_id)).all())
    order = {"before": 0, "during": 1, "after": 2}
    siblings.sort(key=lambda s: (order.get(s.phase, 3), s.captured_at or s.received_at, s.id))
    ids = [s.id for s in siblings]
    index = ids.index(photo.id) if photo.id in ids else -1
    previous = ids[index - 1] if index > 0 else None
    following = ids[index + 1] if 0 <= index < len(ids) - 1 else None
    house = (household.lat, household.lon) if household.has_location else None
    users = users_by_id(session, {photo.uploaded_by, *(f.reviewed_by for f in photo.flags),
                                  visit.inspector_id if visit else None})
    words = checklist_names()
    return {"view": _photo_view(photo, house), "household": household,
            "refs": photo_flags.photo_refs(session, actor, photo.flags),
            "node_name": words.node(photo.node), "item_name": words.item(photo.item),
            "visit": visit, "previous": previous, "next": following, "users": users,
            "count": len(ids)}
