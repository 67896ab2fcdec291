"""Data for the review page tests: a case with photos in every phase, flags and visits.

Built through the services (not the API) so the browser tests can use it on a live server.
"""

import math
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from backend.api.visits import VisitBodySchema
from backend.extensions import object_store
from backend.services import checklists, photos, rounds, visits
from backend.services.photos.checks import PhotoRules
from backend.services.policy import Actor
from backend.services.rounds.lifecycle import RoundSpec
from backend.web.desk.base import COOKIE, csrf_for
from tests import factories, images

HOUSE = (39.52, 112.81)  # where factories.world puts every house
METRE_LAT = 1 / 111_195  # degrees of latitude per metre


@dataclass
class ReviewCase:
    world: factories.World
    case: object
    photo_ids: dict[str, str] = field(default_factory=dict)  # name -> photo id
    visit_ids: dict[str, str] = field(default_factory=dict)
    reviewer_b: object = None


def login_as(client, db, user) -> str:
    """Put a fresh token in the review cookie; return the CSRF token for its forms."""
    token = factories.token_for(db.session, user)
    client.set_cookie(COOKIE, token, path="/review")
    return csrf_for(token)


def upload(session, actor, household, *, phase, seed, node=None, item=None, north_m=20.0,
           east_m=0.0, position=True, exif=False, case_id=None, days_ago=3.0) -> str:
    """Store one photo taken `north_m` metres north (and `east_m` east) of the house; return
    its id."""
    taken = datetime.now(UTC) - timedelta(days=days_ago)
    lat = HOUSE[0] + north_m * METRE_LAT
    lon = HOUSE[1] + east_m * METRE_LAT / math.cos(math.radians(HOUSE[0]))
    data = images.make_jpeg(seed=seed, exif_gps=(lat + 8 * METRE_LAT, HOUSE[1], 1050.0)
                            if exif else None, make="HUAWEI" if exif else None,
                            model="nova 9" if exif else None)
    meta = photos.PhotoMeta(household_id=household.id, case_id=case_id, phase=phase, node=node,
                            item=item, captured_at=taken,
                            lat=lat if position else None, lon=lon if position else None,
                            accuracy_m=8.0 if position else None,
                            fix_at=taken if position else None)
    photo_id = str(uuid.uuid4())
    photos.ingest_photo(session, object_store(), actor, photo_id, data, meta,
                        rules=PhotoRules(), max_bytes=20 << 20, max_pixels=60_000_000)
    return photo_id


def record(session, actor, case, *, phase, results, days_ago, kind="construction",
           template="rebuild") -> str:
    now = datetime.now(UTC)
    raw = {"household_id": case.household_id, "case_id": case.id, "kind": kind, "phase": phase,
           "template": {"code": template},
           "started_at": (now - timedelta(days=days_ago, minutes=40)).isoformat(),
           "ended_at": (now - timedelta(days=days_ago)).isoformat(),
           "position": {"lat": HOUSE[0] + 0.0001, "lon": HOUSE[1] + 0.0001, "accuracy_m": 12.0},
           "results": results}
    visit_id = str(uuid.uuid4())
    visits.record_visit(session, actor, visit_id, VisitBodySchema().load(raw),
                        rules=visits.VisitRules(), digest=visits.body_hash(raw))
    return visit_id


def review_case(session, *, extra_photos: int = 0) -> ReviewCase:
    """A rebuild case in village A1 with photos before, during and after, and flags."""
    checklists.load_templates(session)
    w = factories.world(session)
    household = w.households[w.village_a1]
    case = factories.case(session, household, status="planned")
    rc = ReviewCase(w, case)
    rc.reviewer_b = factories.user(session, "town_reviewer", [w.town_b], username="reviewer_b")
    inspector = Actor.of(w.users["inspector"])
    ids = rc.photo_ids
    ids["site_before"] = upload(session, inspector, household, phase="before", seed=11,
                                node="site", item="site.safety", case_id=case.id, exif=True,
                                days_ago=30)
    ids["area_before"] = upload(session, inspector, household, phase="before", seed=12,
                                node="site", item="site.area", case_id=case.id, days_ago=30)
    rc.visit_ids["before"] = record(session, inspector, case, phase="before", days_ago=29.9,
                                    results=[
        {"item": "site.safety", "result": "pass", "photos": [ids["site_before"]]},
        {"item": "site.area", "result": "pass", "value": 64, "photos": [ids["area_before"]]}])
    ids["depth_far"] = upload(session, inspector, household, phase="during", seed=13,
                              node="foundation", item="foundation.depth", case_id=case.id,
                              north_m=350, days_ago=20)
    ids["type_nopos"] = upload(session, inspector, household, phase="during", seed=14,
                               node="foundation", item="foundation.type", case_id=case.id,
                               position=False, days_ago=20)
    for i in range(extra_photos):
        upload(session, inspector, household, phase="during", seed=100 + i, node="wall",
               case_id=case.id, north_m=5 + i, days_ago=19)
    rc.visit_ids["during"] = record(session, inspector, case, phase="during", days_ago=19.9,
                                    results=[
        {"item": "foundation.depth", "result": "fail", "value": 380, "note": "基础埋深仅380毫米",
         "photos": [ids["depth_far"]]},
        {"item": "foundation.type", "result": "pass", "photos": [ids["type_nopos"]]},
        {"item": "foundation.ground_beam", "result": "pass", "photos": []}])
    ids["site_after"] = upload(session, inspector, household, phase="after", seed=15,
                               node="site", case_id=case.id, days_ago=1)
    # The same picture under a household of the other village: a reused pair.
    other = w.households[w.village_a2]
    ids["reused_other"] = upload(session, inspector, other, phase="before", seed=12,
                                 days_ago=2)
    return rc


def survey_suspected(session, w, rnd, household) -> tuple[str, str]:
    """A routine survey that found a suspected dangerous house, with two danger points."""
    inspector = Actor.of(w.users["inspector"])
    photo = upload(session, inspector, household, phase="before", seed=301, days_ago=2)
    now = datetime.now(UTC) - timedelta(days=2)
    raw = {"household_id": household.id, "round_id": rnd.id, "kind": "routine_survey",
           "phase": "before", "template": {"code": "routine_survey"},
           "outcome": "suspected_danger", "danger_points": ["wall.crack", "roof.leak"],
           "photos": [photo], "note": "后墙开裂约2米",
           "started_at": (now - timedelta(minutes=20)).isoformat(), "ended_at": now.isoformat()}
    visit_id = str(uuid.uuid4())
    visits.record_visit(session, inspector, visit_id, VisitBodySchema().load(raw),
                        rules=visits.VisitRules(), digest=visits.body_hash(raw))
    return visit_id, photo


def round_with_a_suspected_house(session, w):
    """A routine round of town A under way, where village A2's household was found suspected:
    (round, household, visit id, photo id)."""
    rnd = rounds.open_round(session, Actor.of(w.users["town_reviewer"]), RoundSpec(
        kind="routine", name="2026年第四季度常规排查", period="2026Q4",
        starts_on=date.today() - timedelta(days=10), due_on=date.today() + timedelta(30),
        area_codes=[w.town_a], categories=[]))
    household = w.households[w.village_a2]
    return (rnd, household, *survey_suspected(session, w, rnd, household))
