"""The supervisor's review: overview of an area, flag worklist, reused pairs, overdue work,
one case's evidence laid out for judging, and the review of a photo's flag.

Every function takes the session and the caller (`Actor`) and reads only inside the caller's
area; each costs a constant number of queries however many photos there are.
"""

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select

from backend.models import (
    Appraisal,
    Case,
    Household,
    Photo,
    PhotoFlag,
    Rectification,
    Region,
    User,
    Visit,
)
from backend.models.base import china_date, utc_now
from backend.models.region import code_range, level_of
from backend.services import audit, checklists, policy, timeline
from backend.services.errors import InvalidInput, NotFound
from backend.services.geo import distance_m, wgs84_to_gcj02
from backend.services.photo_checks import FLAG_LABELS, taken_at
from backend.services.policy import Actor

FLAG_STATUS_LABELS = {"open": "待处理", "confirmed": "已确认", "dismissed": "已排除"}
SURVEY_KINDS = ("routine_survey", "emergency_survey")
OVERDUE_LABELS = {
    "hazard_report": "发现隐患未按时上报",
    "hazard_appraise": "隐患未按时鉴定",
    "works_start": "签订协议后未按时开工",
    "payment": "验收后补助未按时拨付",
    "rectification": "整改超过时限",
}


@dataclass(frozen=True)
class Deadlines:
    """The seeds' deadlines in days, from settings."""

    hazard_report: int = 5
    hazard_appraise: int = 7
    works_start: int = 30
    payment: int = 30

    @classmethod
    def from_config(cls, config) -> "Deadlines":
        return cls(config["HAZARD_REPORT_DAYS"], config["HAZARD_APPRAISE_DAYS"],
                   config["WORKS_START_DAYS"], config["PAYMENT_DAYS"])


# --- overdue work ------------------------------------------------------------------------
@dataclass
class OverdueItem:
    kind: str
    household: Household
    case_id: int | None
    due_on: date
    done_on: date | None  # None: still not done
    detail: str
    ref: str | None = None  # visit id or rectification id

    @property
    def label(self) -> str:
        return OVERDUE_LABELS[self.kind]

    def days_over(self, today: date) -> int:
        return ((self.done_on or today) - self.due_on).days


def overdue_items(session, actor: Actor, rules: Deadlines, today: date, *,
                  open_only: bool = False) -> list[OverdueItem]:
    """Work past the seeds' deadlines in the actor's area, most overdue first."""
    items = _hazard_items(session, actor, rules, today)
    items += _case_items(session, actor, rules, today)
    items += _rectification_items(session, actor, today)
    if open_only:
        items = [i for i in items if i.done_on is None]
    items.sort(key=lambda i: (i.done_on is not None, -i.days_over(today)))
    return items


def _hazard_items(session, actor, rules: Deadlines, today: date) -> list[OverdueItem]:
    rows = session.execute(policy.scoped(
        select(Visit, Household).join(Household, Household.id == Visit.household_id)
        .where(Visit.kind.in_(SURVEY_KINDS), Visit.outcome == "suspected_danger"), actor, Visit)
        .order_by(Visit.started_at)).all()
    if not rows:
        return []
    appraised: dict[int, list[date]] = defaultdict(list)
    for hid, day in session.execute(select(Appraisal.household_id, Appraisal.appraised_on)
                                    .where(Appraisal.household_id.in_({h.id for _, h in rows}))):
        appraised[hid].append(day)
    items = []
    for visit, household in rows:
        found_on = china_date(visit.started_at)
        report_due = visit.started_at + timedelta(days=rules.hazard_report)
        if visit.received_at > report_due:
            reported_on = china_date(visit.received_at)
            items.append(OverdueItem("hazard_report", household, visit.case_id,
                                     china_date(report_due), reported_on,
                                     f"{found_on} 排查发现疑似危房，{reported_on} 才上报",
                                     visit.id))
        due = found_on + timedelta(days=rules.hazard_appraise)
        days = sorted(d for d in appraised[household.id] if d >= found_on)
        if days and days[0] <= due:
            continue
        if days or today > due:
            items.append(OverdueItem("hazard_appraise", household, visit.case_id, due,
                                     days[0] if days else None,
                                     f"{found_on} 排查发现疑似危房，应于 {due} 前完成鉴定",
                                     visit.id))
    return items


def _case_items(session, actor, rules: Deadlines, today: date) -> list[OverdueItem]:
    rows = session.execute(policy.scoped(
        select(Case, Household).join(Household, Household.id == Case.household_id)
        .where(Case.status != "cancelled")
        .where((Case.agreement_signed_on.is_not(None)) | (Case.accepted_on.is_not(None))),
        actor, Case)).all()
    items = []
    for case, household in rows:
        if case.agreement_signed_on:
            due = case.agreement_signed_on + timedelta(days=rules.works_start)
            started = case.started_on
            if (started is None and today > due) or (started and started > due):
                items.append(OverdueItem("works_start", household, case.id, due, started,
                                         f"{case.agreement_signed_on} 签订协议，应于 {due} "
                                         "前开工"))
        if case.accepted_on:
            due = case.accepted_on + timedelta(days=rules.payment)
            paid = case.paid_on
            if (paid is None and today > due) or (paid and paid > due):
                items.append(OverdueItem("payment", household, case.id, due, paid,
                                         f"{case.accepted_on} 验收，应于 {due} 前拨付补助"))
    return items


def _rectification_items(session, actor, today: date) -> list[OverdueItem]:
    rows = session.execute(policy.scoped(
        select(Rectification, Household).join(Household,
                                              Household.id == Rectification.household_id)
        .where(((Rectification.status == "open") & (Rectification.due_on < today))
               | (Rectification.status == "closed")), actor, Rectification)).all()
    items = []
    for rect, household in rows:
        done = china_date(rect.closed_at) if rect.closed_at else None
        if rect.status == "closed" and (done is None or done <= rect.due_on):
            continue
        items.append(OverdueItem("rectification", household, rect.case_id, rect.due_on,
                                 done if rect.status == "closed" else None,
                                 f"{rect.task}（问题：{rect.problem or '—'}）", str(rect.id)))
    return items


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


# --- one case ----------------------------------------------------------------------------
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
class CaseReview:
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


def case_review(session, actor: Actor, case_id: int) -> CaseReview:
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
                view = _photo_view(photo, len(views) + 1, house)
                views.append(view)
                by_id[photo.id] = view
    phases = []
    for phase in t.phases:
        rows = {n.code: NodeRow(n.code, n.name, [by_id[p.id] for p in n.photos])
                for n in phase.nodes}
        for visit in (v for v in t.visits if v.phase == phase.phase):
            for gap in visit.missing_photos:
                row = rows.get(gap["node"]) or rows.setdefault(gap["node"], NodeRow(
                    gap["node"], node_names.get(gap["node"], gap["node"])))
                row.missing.append(Slot(gap["item"], item_names.get(gap["item"], gap["item"]),
                                        visit.id))
        phases.append(PhaseColumn(phase.phase, phase.label, list(rows.values())))
    user_ids = {v.inspector_id for v in t.visits} | {v.reviewed_by for v in t.visits}
    user_ids |= {p.photo.uploaded_by for p in views}
    user_ids |= {f.reviewed_by for p in views for f in p.photo.flags}
    user_ids |= {r.closed_by for r in t.rectifications}
    users = users_by_id(session, user_ids)
    return CaseReview(t, phases, views, _comparisons(phases), users, item_names, node_names)


def users_by_id(session, ids) -> dict[int, User]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}


def _photo_view(photo: Photo, number: int, house) -> PhotoView:
    where, source = None, None
    if photo.has_device_position:
        where, source = (photo.device_lat, photo.device_lon), "device"
    elif photo.has_exif_position:
        where, source = (photo.exif_lat, photo.exif_lon), "exif"
    away = distance_m(*where, *house) if where and house else None
    return PhotoView(photo, number, taken_at(photo), away, source)


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
    node_name, item_name = photo.node, photo.item
    if visit is not None:
        spec = checklists.spec_of(visit.template)
        names = {code: obj.name for node, item in spec.iter_items()
                 for code, obj in ((node.code, node), (item.code, item))}
        node_name, item_name = names.get(photo.node, node_name), names.get(photo.item, item_name)
    return {"view": _photo_view(photo, index + 1, house), "household": household,
            "node_name": node_name, "item_name": item_name,
            "visit": visit, "previous": previous, "next": following, "users": users,
            "count": len(ids)}


# --- position plot -----------------------------------------------------------------------
EARTH_RADIUS_M = 6_378_137.0  # Web Mercator sphere
RINGS_M = (50, 100, 200)
PLOT_PX = 640


@dataclass
class PlotPoint:
    number: int
    label: str
    x: float | None
    y: float | None
    accuracy: float | None = None
    exif_x: float | None = None
    exif_y: float | None = None
    distance_m: float | None = None
    clipped: bool = False
    photo_id: str | None = None
    flagged: bool = False


@dataclass
class Plot:
    extent: float  # half-width in metres around the house
    rings: tuple[int, ...]
    points: list[PlotPoint]
    visits: list[PlotPoint]
    tiles: list[dict]
    crs: str
    has_house: bool


def _mercator(lat: float, lon: float) -> tuple[float, float]:
    lat = max(min(lat, 85.05), -85.05)
    return (EARTH_RADIUS_M * math.radians(lon),
            EARTH_RADIUS_M * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)))


def position_plot(review: CaseReview, *, tile_url: str | None = None,
                  tile_crs: str = "WGS-84", extent: float | None = None) -> Plot | None:
    """Lay the house and every photo (phone fix with accuracy, EXIF point) out in metres.

    Coordinates are Web Mercator scaled to ground metres at the house, y growing south, so
    tiles of a slippy map line up exactly. For a GCJ-02 tile source every point is shifted
    first, as the tiles are; distances shown are always measured in WGS-84.
    """
    household = review.household
    gcj = tile_url is not None and tile_crs.upper().replace("-", "") == "GCJ02"

    def shift(lat, lon):
        return wgs84_to_gcj02(lat, lon) if gcj else (lat, lon)

    photos = [v for v in review.photos if v.photo.has_device_position
              or v.photo.has_exif_position]
    if household.has_location:
        centre = (household.lat, household.lon)
    elif photos:
        p = photos[0].photo
        centre = (p.device_lat, p.device_lon) if p.has_device_position else (p.exif_lat,
                                                                              p.exif_lon)
    else:
        return None
    lat0 = centre[0]
    scale = math.cos(math.radians(lat0))
    cx, cy = _mercator(*shift(*centre))

    def to_xy(lat, lon):
        mx, my = _mercator(*shift(lat, lon))
        return (mx - cx) * scale, -(my - cy) * scale

    reach = [v.distance_m or 0 for v in photos]
    if extent is None:
        extent = max(240.0, min(2000.0, max(reach, default=0) * 1.15))
    extent = max(60.0, min(5000.0, extent))
    points = []
    for view in photos:
        p = view.photo
        flagged = any(f.status != "dismissed" for f in p.flags)
        label = f"{view.number}"
        if p.has_device_position:
            x, y = to_xy(p.device_lat, p.device_lon)
            point = PlotPoint(view.number, label, x, y, p.device_accuracy_m,
                              distance_m=view.distance_m, photo_id=p.id, flagged=flagged)
            if p.has_exif_position:
                point.exif_x, point.exif_y = to_xy(p.exif_lat, p.exif_lon)
        else:
            x, y = to_xy(p.exif_lat, p.exif_lon)
            point = PlotPoint(view.number, label, None, None, None, x, y, view.distance_m,
                              photo_id=p.id, flagged=flagged)
        points.append(_clip(point, extent))
    visits = []
    for visit in review.timeline.visits:
        if visit.device_lat is not None and visit.device_lon is not None:
            x, y = to_xy(visit.device_lat, visit.device_lon)
            label = china_date(visit.started_at).isoformat()
            visits.append(_clip(PlotPoint(0, label, x, y, visit.device_accuracy_m), extent))
    tiles = _tiles(tile_url, cx, cy, scale, extent) if tile_url else []
    return Plot(extent, RINGS_M, points, visits, tiles, "GCJ-02" if gcj else "WGS-84",
                household.has_location)


def _clip(point: PlotPoint, extent: float) -> PlotPoint:
    """Pull a point far outside the frame to its edge, keeping its direction; mark it."""
    limit = extent * 0.94
    for xa, ya in (("x", "y"), ("exif_x", "exif_y")):
        x, y = getattr(point, xa), getattr(point, ya)
        if x is None:
            continue
        biggest = max(abs(x), abs(y))
        if biggest > limit:
            setattr(point, xa, x * limit / biggest)
            setattr(point, ya, y * limit / biggest)
            point.clipped = True
    return point


def _tiles(template: str, cx: float, cy: float, scale: float, extent: float) -> list[dict]:
    """Slippy-map tiles covering the frame, placed in the plot's metre coordinates."""
    world = 2 * math.pi * EARTH_RADIUS_M
    metres_per_px = 2 * extent / PLOT_PX / scale  # in Mercator metres
    zoom = max(1, min(18, round(math.log2(world / 256 / metres_per_px))))
    size = world / 2 ** zoom
    half = extent / scale
    tiles = []
    x0, x1 = (int((cx - half + world / 2) // size), int((cx + half + world / 2) // size))
    y0, y1 = (int((world / 2 - (cy + half)) // size), int((world / 2 - (cy - half)) // size))
    for tx in range(x0, x1 + 1):
        for ty in range(y0, y1 + 1):
            left = tx * size - world / 2
            top = world / 2 - ty * size
            url = (template.replace("{z}", str(zoom)).replace("{x}", str(tx))
                   .replace("{y}", str(ty)).replace("{s}", "abc"[(tx + ty) % 3]))
            tiles.append({"url": url, "x": (left - cx) * scale, "y": -(top - cy) * scale,
                          "size": size * scale})
    return tiles


def flag_label(code: str) -> str:
    return FLAG_LABELS.get(code, code)
