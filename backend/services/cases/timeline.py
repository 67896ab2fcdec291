"""A case's evidence in one read: visits, photos by phase and node, flags, rectifications.

Costs a constant number of queries however many photos and visits the case has.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select

from backend.models import Case, Photo, Rectification, Visit
from backend.services import checklists, policy
from backend.services.photos.checks import taken_at
from backend.services.policy import Actor
from backend.services.visits.queries import (
    CaseGap,
    VisitWithGaps,
    missing_over_visits,
    with_gaps,
)
from backend.vocabulary import PHASES

UNASSIGNED_NODE = ("", "未归入节点")


@dataclass
class NodeGroup:
    code: str
    name: str
    photos: list[Photo] = field(default_factory=list)


@dataclass
class PhaseGroup:
    phase: str
    label: str
    nodes: list[NodeGroup] = field(default_factory=list)


@dataclass
class CaseTimeline:
    case: Case
    visits: list[VisitWithGaps]
    phases: list[PhaseGroup]
    rectifications: list[Rectification]
    missing_photos: list[CaseGap]  # over all the case's visits
    flag_counts: dict[str, int]

    @property
    def household(self):
        return self.case.household


def case_timeline(session, actor: Actor, case_id: int) -> CaseTimeline:
    case = policy.get_in_scope(session, Case, case_id, actor)
    visit_rows = list(session.scalars(
        select(Visit).where(Visit.case_id == case.id).order_by(Visit.started_at)))
    photos = list(session.scalars(select(Photo).where(Photo.case_id == case.id)))
    photos.sort(key=lambda p: (taken_at(p) or p.received_at, p.id))
    rectifications = list(session.scalars(
        select(Rectification).where(Rectification.case_id == case.id)
        .order_by(Rectification.status.desc(), Rectification.due_on)))

    visits = with_gaps(session, visit_rows, photos)

    flag_counts: dict[str, int] = defaultdict(int)
    for photo in photos:
        for flag in photo.flags:
            if flag.status != "dismissed":
                flag_counts[flag.code] += 1
    return CaseTimeline(case, visits, group_photos(photos, node_names(visit_rows)),
                        rectifications, missing_over_visits(visit_rows, photos),
                        dict(flag_counts))


def node_names(visit_rows: list[Visit]) -> dict[str, str]:
    """Node code → Chinese name, from the templates the case's visits used."""
    names = {}
    for visit in visit_rows:
        for node in checklists.spec_of(visit.template).nodes:
            names.setdefault(node.code, node.name)
    return names


def group_photos(photos: list[Photo], names: dict[str, str]) -> list[PhaseGroup]:
    """Group photos by phase (before → after), then by node in order of first appearance."""
    groups = []
    for phase, label in PHASES.items():
        nodes: dict[str, NodeGroup] = {}
        for photo in (p for p in photos if p.phase == phase):
            code = photo.node or UNASSIGNED_NODE[0]
            if code not in nodes:
                nodes[code] = NodeGroup(code, names.get(code) or code or UNASSIGNED_NODE[1])
            nodes[code].photos.append(photo)
        groups.append(PhaseGroup(phase, label, list(nodes.values())))
    return groups
