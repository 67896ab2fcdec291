"""Every API endpoint × every role × a resource inside and outside the caller's area.

A resource outside the area must answer 404 (or 403 for a role that may not act at all) and
never show its data; a list must never contain it. A new endpoint fails `test_every_route_is_
covered` until it is added to ENDPOINTS.
"""

import io
import uuid
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest

from tests import factories, images

ROLES = ("inspector", "village_cadre", "town_reviewer", "county_admin", "auditor", "finance",
         "department")
EVERYONE = set(ROLES)
COUNTY_WIDE = {"county_admin", "auditor", "finance", "department"}


def household_target(w, inside):
    return w.households[w.village_a1 if inside else w.village_b1]


# (method, rule, roles allowed inside their area, request builder)
ENDPOINTS = [
    ("GET", "/api/v1/households/<int:household_id>", EVERYONE,
     lambda w, h, c: (f"/api/v1/households/{h.id}", {})),
    ("PATCH", "/api/v1/households/<int:household_id>",
     {"village_cadre", "town_reviewer", "county_admin"},
     lambda w, h, c: (f"/api/v1/households/{h.id}", {"json": {"family_size": 4}})),
    ("PUT", "/api/v1/households/<int:household_id>/location",
     {"inspector", "village_cadre", "town_reviewer", "county_admin"},
     lambda w, h, c: (f"/api/v1/households/{h.id}/location",
                      {"json": {"lat": 39.5, "lon": 112.8}})),
    ("POST", "/api/v1/households/<int:household_id>/appraisals",
     {"inspector", "town_reviewer", "county_admin"},
     lambda w, h, c: (f"/api/v1/households/{h.id}/appraisals",
                      {"json": {"grade": "C", "appraised_on": "2026-05-01", "appraiser": "站"}})),
    ("PATCH", "/api/v1/appraisals/<int:appraisal_id>",
     {"inspector", "town_reviewer", "county_admin"},
     lambda w, h, c: (f"/api/v1/appraisals/{c.appraisal_id}", {"json": {"signatures": [
         {"role": "民主监督员", "name": "李四"}]}})),
    ("GET", "/api/v1/households/<int:household_id>/cases", EVERYONE,
     lambda w, h, c: (f"/api/v1/households/{h.id}/cases", {})),
    # A household's archive (一户一档) as a PDF, and an area's for a year as one ZIP.
    ("GET", "/api/v1/households/<int:household_id>/archive.pdf", EVERYONE,
     lambda w, h, c: (f"/api/v1/households/{h.id}/archive.pdf", {})),
    ("GET", "/api/v1/archives.zip", EVERYONE,
     lambda w, h, c: (f"/api/v1/archives.zip?region={h.village_code}&year=2026", {})),
    ("POST", "/api/v1/households/<int:household_id>/cases",
     {"village_cadre", "town_reviewer", "county_admin"},
     lambda w, h, c: (f"/api/v1/households/{h.id}/cases",
                      {"json": {"year": 2027, "method": "修缮加固", "build_mode": "自建"}})),
    ("GET", "/api/v1/cases/<int:case_id>", EVERYONE,
     lambda w, h, c: (f"/api/v1/cases/{c.id}", {})),
    ("PATCH", "/api/v1/cases/<int:case_id>", {"town_reviewer", "county_admin"},
     lambda w, h, c: (f"/api/v1/cases/{c.id}", {"json": {"notes": "已核实"}})),
    ("POST", "/api/v1/households", {"village_cadre", "town_reviewer", "county_admin"},
     lambda w, h, c: ("/api/v1/households", {"json": {
         "village_code": h.village_code, "name": "新户", "id_number": factories.id_number(),
         "category": "dibao"}})),
    ("GET", "/api/v1/photos/<uuid:photo_id>", EVERYONE,
     lambda w, h, c: (f"/api/v1/photos/{w.photos[h.village_code]}", {})),
    ("GET", "/api/v1/photos/<uuid:photo_id>/content", EVERYONE,
     lambda w, h, c: (f"/api/v1/photos/{w.photos[h.village_code]}/content?variant=thumb", {})),
    ("PUT", "/api/v1/photos/<uuid:photo_id>", {"inspector", "village_cadre", "town_reviewer"},
     lambda w, h, c: (f"/api/v1/photos/{uuid.uuid4()}", {
         "data": {"household_id": str(h.id), "phase": "before",
                  "file": (io.BytesIO(images.make_jpeg(seed=h.id)), "x.jpg")},
         "content_type": "multipart/form-data"})),
    ("GET", "/api/v1/rounds/<int:round_id>", EVERYONE,
     lambda w, h, c: (f"/api/v1/rounds/{w.rounds[h.village_code]}", {})),
    ("GET", "/api/v1/rounds/<int:round_id>/progress", EVERYONE,
     lambda w, h, c: (f"/api/v1/rounds/{w.rounds[h.village_code]}/progress", {})),
    ("GET", "/api/v1/rounds/<int:round_id>/export.xlsx", EVERYONE,
     lambda w, h, c: (f"/api/v1/rounds/{w.rounds[h.village_code]}/export.xlsx", {})),
    ("PATCH", "/api/v1/rounds/<int:round_id>/assignments", {"town_reviewer", "county_admin"},
     lambda w, h, c: (f"/api/v1/rounds/{w.rounds[h.village_code]}/assignments",
                      {"json": {"household_ids": [h.id], "inspector_id": w.users["inspector"].id
                                if h.village_code.startswith(w.town_a[:9]) else
                                w.inspector_b.id}})),
    ("POST", "/api/v1/rounds/<int:round_id>/discoveries",
     {"inspector", "village_cadre", "town_reviewer"},
     lambda w, h, c: (f"/api/v1/rounds/{w.rounds[h.village_code]}/discoveries", {"json": {
         "village_code": h.village_code, "name": "新发现户", "id_number": factories.id_number(),
         "category": "ordinary"}})),
    ("POST", "/api/v1/rounds/<int:round_id>/close", {"town_reviewer", "county_admin"},
     lambda w, h, c: (f"/api/v1/rounds/{w.rounds[h.village_code]}/close",
                      {"json": {"reasons": {str(x.id): "全户外出务工"
                                            for x in w.households.values()}}})),
    ("PUT", "/api/v1/attachments/<uuid:attachment_id>", EVERYONE - {"auditor"},
     lambda w, h, c: (f"/api/v1/attachments/{uuid.uuid4()}", {
         "data": {"case_id": str(c.id), "kind": "application_form",
                  "file": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "申请书.pdf")},
         "content_type": "multipart/form-data"})),
    ("GET", "/api/v1/attachments/<uuid:attachment_id>", EVERYONE,
     lambda w, h, c: (f"/api/v1/attachments/{w.attachments[h.village_code]}", {})),
    ("GET", "/api/v1/attachments/<uuid:attachment_id>/content", EVERYONE,
     lambda w, h, c: (f"/api/v1/attachments/{w.attachments[h.village_code]}/content", {})),
    ("GET", "/api/v1/cases/<int:case_id>/workflow", EVERYONE,
     lambda w, h, c: (f"/api/v1/cases/{c.id}/workflow", {})),
    # 山阴's workflow: the town or the county may cancel a case at any open stage.
    ("POST", "/api/v1/cases/<int:case_id>/actions", {"town_reviewer", "county_admin"},
     lambda w, h, c: (f"/api/v1/cases/{c.id}/actions",
                      {"json": {"action": "cancel", "note": "农户自愿放弃本年度改造"}})),
    ("GET", "/api/v1/cases/<int:case_id>/timeline", EVERYONE,
     lambda w, h, c: (f"/api/v1/cases/{c.id}/timeline", {})),
    ("GET", "/api/v1/visits/<uuid:visit_id>", EVERYONE,
     lambda w, h, c: (f"/api/v1/visits/{w.visits[h.village_code]}", {})),
    ("PUT", "/api/v1/visits/<uuid:visit_id>", {"inspector", "village_cadre", "town_reviewer"},
     lambda w, h, c: (f"/api/v1/visits/{uuid.uuid4()}", {"json": survey_body(h)})),
    ("GET", "/api/v1/review-queue", {"town_reviewer", "county_admin"},
     lambda w, h, c: (f"/api/v1/review-queue?village={h.village_code}", {})),
    ("POST", "/api/v1/visits/<uuid:visit_id>/review", {"town_reviewer", "county_admin"},
     lambda w, h, c: (f"/api/v1/visits/{w.visits[h.village_code]}/review",
                      {"json": {"decision": "return", "comment": "请补拍"}})),
    # The money trail (山阴: the town or the county's finance pays; 003 §七(二)2).
    ("PUT", "/api/v1/cases/<int:case_id>/funding", {"town_reviewer", "county_admin"},
     lambda w, h, c: (f"/api/v1/cases/{c.id}/funding", {"json": {
         "central": "14000.00", "provincial": "0", "below_provincial": "0",
         "planned_area_m2": "45"}})),
    ("GET", "/api/v1/cases/<int:case_id>/policy-check", EVERYONE,
     lambda w, h, c: (f"/api/v1/cases/{c.id}/policy-check", {})),
    ("GET", "/api/v1/cases/<int:case_id>/payments", EVERYONE,
     lambda w, h, c: (f"/api/v1/cases/{w.paying[h.village_code].id}/payments", {})),
    ("POST", "/api/v1/cases/<int:case_id>/payments", {"town_reviewer", "finance"},
     lambda w, h, c: (f"/api/v1/cases/{w.paying[h.village_code].id}/payments", {"json": {
         "id": str(uuid.uuid4()), "tranche": "full", "fund_level": "central",
         "amount_yuan": "14000.00", "paid_on": "2026-11-20", "payee_account": "6228480012345",
         "voucher_id": w.vouchers[h.village_code]}})),
    ("GET", "/api/v1/payments/ledger.xlsx", {"town_reviewer", "county_admin", "auditor", "finance"},
     lambda w, h, c: (f"/api/v1/payments/ledger.xlsx?year=2026&region={h.village_code}", {})),
    ("POST", "/api/v1/funds", {"county_admin", "finance"},
     lambda w, h, c: ("/api/v1/funds", {"json": {
         "county_code": w.county, "year": 2026, "fund_level": "central", "kind": "received",
         "amount_yuan": "1400000.00", "on": "2026-03-01", "document_no": "晋财建〔2026〕1号"}})),
    # The monthly progress forms, of the caller's town (004 附件1/2).
    ("GET", "/api/v1/reports/monthly", {"town_reviewer", "county_admin", "auditor", "finance"},
     lambda w, h, c: (f"/api/v1/reports/monthly?month=2026-11&region={h.village_code[:9]}000",
                      {})),
    ("GET", "/api/v1/reports/monthly.xlsx",
     {"town_reviewer", "county_admin", "auditor", "finance"},
     lambda w, h, c: (f"/api/v1/reports/monthly.xlsx?month=2026-11&region="
                      f"{h.village_code[:9]}000", {})),
    # The towns' annual tasks and the weekly snapshot of their ranking: the county admin's.
    ("PUT", "/api/v1/tasks/<town_code>/<int:year>", {"county_admin"},
     lambda w, h, c: (f"/api/v1/tasks/{h.village_code[:9]}000/2026", {"json": {
         "households": 40}})),
    ("POST", "/api/v1/ranking/snapshots", {"county_admin"},
     lambda w, h, c: ("/api/v1/ranking/snapshots", {"json": {"county": w.county}})),
    # Random spot checks (003 §七(三)): the county admin draws, auditors read the draws too.
    ("POST", "/api/v1/spot-checks", {"county_admin"},
     lambda w, h, c: ("/api/v1/spot-checks", {"json": {
         "area_code": h.village_code[:9] + "000", "year": 2026, "count": 1,
         "purpose": f"复核{uuid.uuid4().hex[:8]}"}})),
    ("GET", "/api/v1/spot-checks", {"county_admin", "auditor"},
     lambda w, h, c: (f"/api/v1/spot-checks?area={h.village_code[:9]}000", {})),
    ("GET", "/api/v1/spot-checks/<int:check_id>", {"county_admin", "auditor"},
     lambda w, h, c: (f"/api/v1/spot-checks/{w.spot_checks[h.village_code]}", {})),
    ("GET", "/api/v1/spot-checks/<int:check_id>/verify", {"county_admin", "auditor"},
     lambda w, h, c: (f"/api/v1/spot-checks/{w.spot_checks[h.village_code]}/verify", {})),
    ("GET", "/api/v1/spot-checks/<int:check_id>/sample.xlsx", {"county_admin", "auditor"},
     lambda w, h, c: (f"/api/v1/spot-checks/{w.spot_checks[h.village_code]}/sample.xlsx", {})),
    ("POST", "/api/v1/photos/<uuid:photo_id>/flags/<code>/review",
     {"town_reviewer", "county_admin"},
     lambda w, h, c: (f"/api/v1/photos/{w.photos[h.village_code]}/flags/no_position/review",
                      {"json": {"decision": "dismiss", "reason": "现场核实无误"}})),
]
LISTS = ["/api/v1/households", "/api/v1/cases", "/api/v1/regions", "/api/v1/visits",
         "/api/v1/rounds", "/api/v1/me/assignments", "/api/v1/rectifications",
         "/api/v1/payments/due", "/api/v1/funds", "/api/v1/suspected-houses",
         # My county's tasks and ranking, whoever I am in it: it is announced county-wide
         # (000 全县通报) and holds no household's data; another county is 404 (test_ranking).
         "/api/v1/tasks", "/api/v1/ranking", "/api/v1/ranking/snapshots",
         "/api/v1/ranking.xlsx"]
# Routes that concern only the caller, with no resource of anyone else's.
OWN = {"/api/v1/auth/login", "/api/v1/auth/logout", "/api/v1/me", "/api/v1/households/import",
       # checklist templates are the same for everyone
       "/api/v1/checklists", "/api/v1/checklists/<string:code>",
       # opening a round names its area, which is refused outside the caller's (test_rounds)
       "/api/v1/rounds",
       # my to-do list is built from my own area and role (tests/api/test_workflow.py)
       "/api/v1/me/todo",
       # a report filed for my own area; 山阴 has no schedule (tests/api/test_reports.py)
       "/api/v1/reports/filings"}


@pytest.fixture
def world(db, templates):
    w = factories.world(db.session)
    w.cases = {code: factories.case(db.session, h) for code, h in w.households.items()}
    w.photos = {code: photo_of(db, w, h) for code, h in w.households.items()}
    w.attachments = {code: attachment_of(db, w, c) for code, c in w.cases.items()}
    w.visits = {code: visit_of(db, w, h) for code, h in w.households.items()}
    w.inspector_b = factories.user(db.session, "inspector", [w.town_b], username="inspector_b")
    w.rounds = rounds_of(db, w)
    w.paying, w.vouchers = paying_cases(db, w)
    w.spot_checks = spot_checks_of(db, w)
    return w


def paying_cases(db, w):
    """In each village a case accepted with its subsidy approved and a voucher uploaded."""
    from decimal import Decimal

    paying, vouchers = {}, {}
    for code in w.households:
        other = factories.household(db.session, code, name=f"待拨付户{code[-3:]}")
        case = factories.case(db.session, other, status="accepted")
        case.subsidy_central_yuan = case.subsidy_yuan = Decimal("14000.00")
        case.planned_area_m2 = Decimal("45.00")
        db.session.commit()
        paying[code] = case
        vouchers[code] = attachment_of(db, w, case, kind="payment_voucher")
    return paying, vouchers


def rounds_of(db, w) -> dict[str, int]:
    """A routine round in each town; village code → that town's round id."""
    from datetime import date

    from backend.services import rounds
    from backend.services.policy import Actor

    admin = Actor.of(w.users["county_admin"])
    ids = {}
    for town in (w.town_a, w.town_b):
        spec = rounds.RoundSpec(kind="routine", name="季度排查", starts_on=date(2026, 10, 1),
                                due_on=date(2026, 12, 31), area_codes=[town], categories=[])
        ids[town] = rounds.open_round(db.session, admin, spec).id
    return {code: ids[w.town_a if code.startswith(w.town_a[:9]) else w.town_b]
            for code in w.households}


def spot_checks_of(db, w) -> dict[str, int]:
    """A draw of every approved household of each town; village code → that town's draw."""
    from datetime import date

    from backend.services import spot_checks
    from backend.services.policy import Actor

    admin = Actor.of(w.users["county_admin"])
    ids = {town: spot_checks.draw(db.session, admin, spot_checks.DrawSpec(
        area_code=town, year=2026, purpose="年度抽查", count=100), date(2026, 10, 8)).id
        for town in (w.town_a, w.town_b)}
    return {code: ids[w.town_a if code.startswith(w.town_a[:9]) else w.town_b]
            for code in w.households}


def uploader(w):
    """Someone who records visits anywhere in the county, to make data on both sides."""
    from backend.services.policy import Actor

    return Actor(w.users["county_admin"].id, "inspector", (("140621000000", "140621999999"),))


def survey_body(h) -> dict:
    now = datetime.now(UTC)
    return {"household_id": h.id, "kind": "routine_survey", "phase": "before",
            "template": {"code": "routine_survey"}, "outcome": "safe",
            "started_at": (now - timedelta(minutes=20)).isoformat(), "ended_at": now.isoformat()}


def visit_of(db, w, household) -> str:
    from backend.api.visits import VisitBodySchema
    from backend.services import visits

    visit_id = str(uuid.uuid4())
    raw = survey_body(household)
    visits.record_visit(db.session, uploader(w), visit_id, VisitBodySchema().load(raw),
                        rules=visits.VisitRules(), digest=visits.body_hash(raw))
    return visit_id


def attachment_of(db, w, case, kind="application_form") -> str:
    """Store one document of a case directly through the service."""
    from backend.extensions import object_store
    from backend.services import attachments

    attachment_id = str(uuid.uuid4())
    attachments.store_attachment(db.session, object_store(), uploader(w), attachment_id,
                                 b"%PDF-1.4\n%%EOF\n", case_id=case.id, kind=kind,
                                 filename="申请书.pdf", max_bytes=20 << 20)
    return attachment_id


def photo_of(db, w, household) -> str:
    """Store one photo of a household directly through the service."""
    from backend.extensions import object_store
    from backend.services import photos
    from backend.services.photos.checks import PhotoRules

    photo_id = str(uuid.uuid4())
    photos.ingest_photo(db.session, object_store(), uploader(w), photo_id,
                        images.make_jpeg(seed=household.id + 100),
                        photos.PhotoMeta(household_id=household.id, phase="before"),
                        rules=PhotoRules(), max_bytes=20 << 20, max_pixels=60_000_000)
    return photo_id


def test_every_route_is_covered(app):
    covered = {rule for _, rule, _, _ in ENDPOINTS} | set(LISTS) | OWN
    api_rules = {r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/")
                 and not r.rule.endswith("openapi.json")}
    assert api_rules - covered == set(), "add the new endpoint to ENDPOINTS"


def in_area(role, inside):
    return inside or role in COUNTY_WIDE


@pytest.mark.parametrize("method,rule,allowed,build", ENDPOINTS,
                         ids=[f"{m} {r}" for m, r, _, _ in ENDPOINTS])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("inside", [True, False], ids=["in-area", "out-of-area"])
def test_endpoint_role_area(client, world, method, rule, allowed, build, role, inside):
    h = household_target(world, inside)
    c = world.cases[h.village_code]
    url, kwargs = build(world, h, c)
    r = client.open(url, method=method, headers=world.headers(role), **kwargs)
    if not in_area(role, inside):
        # 422 only where the request names the foreign village itself (registering a household)
        assert r.status_code in (403, 404) or (r.status_code == 422 and method == "POST"), \
            r.get_json()
        assert h.name not in r.get_data(as_text=True)
        assert h.id_number[-4:] not in r.get_data(as_text=True)
    elif role in allowed:
        assert 200 <= r.status_code < 300, (role, r.get_json())
    elif rule.endswith("/actions"):  # the workflow names who acts: another role is refused
        assert r.status_code == 409 and r.get_json()["error"]["code"] == "invalid_transition"
    else:
        assert r.status_code == 403, (role, r.status_code)


@pytest.mark.parametrize("role", ROLES)
def test_lists_hold_only_the_callers_area(client, world, role):
    outside = world.households[world.village_b1]
    for url in LISTS:
        r = client.get(url, headers=world.headers(role))
        assert r.status_code == 200
        text = body_text(r)
        if role in COUNTY_WIDE:
            continue
        assert outside.name not in text or url == "/api/v1/regions"
        assert world.village_b1 not in text, url


def body_text(response) -> str:
    """What a response shows: its text, or a spreadsheet's cells read back."""
    if response.mimetype.endswith("spreadsheetml.sheet"):
        book = openpyxl.load_workbook(io.BytesIO(response.data))
        return "\n".join(str(v) for sheet in book for row in sheet.iter_rows(values_only=True)
                         for v in row if v is not None)
    return response.get_data(as_text=True)


def test_cadre_sees_only_their_village(client, world):
    r = client.get("/api/v1/households", headers=world.headers("village_cadre"))
    assert {h["village_code"] for h in r.get_json()["items"]} == {world.village_a1}

