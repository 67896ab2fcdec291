"""The supervisor review pages through the Flask test client."""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from backend.models import AuditEvent, Case, Household, Photo, PhotoFlag, Rectification, Visit
from backend.services.cases import dossier, overdue, overview
from backend.services.photos import flags
from backend.services.policy import Actor
from backend.web.desk import plots
from backend.web.desk.base import COOKIE, csrf_for
from tests import factories
from tests.api.test_visits import put_visit, visit_body
from tests.web import login_as, review_case, upload


@pytest.fixture
def rc(db):
    return review_case(db.session)



def flag_of(db, photo_id, code) -> PhotoFlag:
    db.session.expire_all()
    return db.session.query(PhotoFlag).filter_by(photo_id=photo_id, code=code).one()


def test_pages_need_a_login(client, rc):
    r = client.get(f"/review/cases/{rc.case.id}")
    assert r.status_code == 302 and "/review/login" in r.headers["Location"]
    client.set_cookie(COOKIE, "not-a-token", path="/review")
    r = client.get("/review/")
    assert r.status_code == 302 and "/review/login" in r.headers["Location"]


def test_login_sets_an_httponly_lax_cookie_and_logout_revokes_it(client, rc):
    page = client.get("/review/login?next=/review/overdue")
    assert page.status_code == 200 and "审核人员登录" in page.get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.get_data(as_text=True))[1]
    bad = client.post("/review/login", data={"username": "town_reviewer", "password": "wrong",
                                             "csrf": csrf, "next": "/review/overdue"})
    assert bad.status_code == 401 and "用户名或密码错误" in bad.get_data(as_text=True)
    no_csrf = client.post("/review/login", data={"username": "town_reviewer",
                                                 "password": factories.PASSWORD})
    assert no_csrf.status_code == 401 and COOKIE not in no_csrf.headers.get("Set-Cookie", "")
    r = client.post("/review/login", data={"username": "town_reviewer", "csrf": csrf,
                                           "password": factories.PASSWORD,
                                           "next": "/review/overdue"})
    assert r.status_code == 302 and r.headers["Location"] == "/review/overdue"
    cookie = next(c for c in r.headers.getlist("Set-Cookie") if c.startswith(COOKIE))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/review" in cookie
    assert client.get("/review/overdue").status_code == 200
    token = client.get_cookie(COOKIE, path="/review").value
    out = client.post("/review/logout", data={"csrf": csrf_for(token)})
    assert out.status_code == 302
    client.set_cookie(COOKIE, token, path="/review")
    assert client.get("/review/").status_code == 302  # the token was revoked


def test_login_refuses_an_outside_next(client, rc):
    page = client.get("/review/login?next=https://evil.example/")
    assert "evil.example" not in page.get_data(as_text=True)


def test_every_page_renders(client, db, rc):
    login_as(client, db, rc.world.users["town_reviewer"])
    pid = rc.photo_ids["depth_far"]
    pages = {
        "/review/": ["改造项目总览", "东坪村", "岱岳镇"],
        f"/review/cases/{rc.case.id}": ["改造前", "改造中", "改造后", "拍摄位置图", "缺少照片",
                                        "拍摄位置距房屋过远", "基础埋深仅380毫米", "前后对比",
                                        'loading="lazy"', "<svg", "20 米", "50 米", "→ 350 米"],
        f"/review/cases/{rc.case.id}/plot": ["拍摄位置图", "<svg"],
        f"/review/photos/{pid}": ["拍摄信息", "手机定位", "照片EXIF", "查看原图"],
        "/review/flags": ["照片标记工作单", "拍摄位置距房屋过远", "无位置信息"],
        "/review/reused": ["疑似重复照片", "疑似与其他农户照片重复"],
        "/review/overdue": ["逾期事项"],
    }
    for url, expected in pages.items():
        r = client.get(url)
        assert r.status_code == 200, url
        text = r.get_data(as_text=True)
        for snippet in expected:
            assert snippet in text, (url, snippet)
    for variant in ("thumb", "large", "original"):
        r = client.get(f"/review/photos/{pid}/{variant}")
        assert r.status_code == 200 and r.mimetype == "image/jpeg"
    assert client.get(f"/review/photos/{pid}/huge").status_code == 404


def test_a_reviewer_of_another_town_gets_404(client, db, rc):
    login_as(client, db, rc.reviewer_b)
    pid = rc.photo_ids["depth_far"]
    for url in (f"/review/cases/{rc.case.id}", f"/review/cases/{rc.case.id}/plot",
                f"/review/photos/{pid}", f"/review/photos/{pid}/thumb",
                f"/review/photos/{pid}/original"):
        r = client.get(url)
        assert r.status_code == 404, url
        assert rc.case.household.name not in r.get_data(as_text=True)
    for url in ("/review/", "/review/flags", "/review/reused", "/review/overdue"):
        text = client.get(url).get_data(as_text=True)
        assert "东坪村" not in text and pid not in text, url
    r = client.post(f"/review/photos/{pid}/flags/far_from_house/review",
                    data={"csrf": csrf_for(client.get_cookie(COOKIE, path="/review").value),
                          "decision": "dismiss", "reason": "x"})
    assert r.status_code == 404
    assert flag_of(db, pid, "far_from_house").status == "open"


def test_a_post_without_the_csrf_token_is_refused(client, db, rc):
    csrf = login_as(client, db, rc.world.users["town_reviewer"])
    visit_id = rc.visit_ids["during"]
    wrong = csrf[:-1] + ("1" if csrf[-1] == "0" else "0")
    for data in ({"decision": "return", "comment": "补拍"},
                 {"decision": "return", "comment": "补拍", "csrf": wrong}):
        r = client.post(f"/review/visits/{visit_id}/review", data=data)
        assert r.status_code == 400
    db.session.expire_all()
    assert db.session.get(Visit, visit_id).review_state == "submitted"


def test_return_a_visit_with_a_comment(client, db, rc):
    csrf = login_as(client, db, rc.world.users["town_reviewer"])
    visit_id = rc.visit_ids["during"]
    url = f"/review/visits/{visit_id}/review"
    back = f"/review/cases/{rc.case.id}"
    r = client.post(url, data={"csrf": csrf, "decision": "return", "next": back})
    assert r.status_code == 303 and "error=comment_required" in r.headers["Location"]
    r = client.post(url, data={"csrf": csrf, "decision": "return", "next": back,
                               "comment": "地圈梁缺照片，请补拍"})
    assert r.status_code == 303 and r.headers["Location"].startswith(back + "?notice=returned")
    db.session.expire_all()
    visit = db.session.get(Visit, visit_id)
    assert visit.review_state == "returned" and visit.review_comment == "地圈梁缺照片，请补拍"
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "已退回该检查记录" in page and "地圈梁缺照片，请补拍" in page
    events = db.session.query(AuditEvent).filter_by(action="review", entity_id=visit_id).all()
    assert len(events) == 1 and events[0].user_id == rc.world.users["town_reviewer"].id


def test_an_inspector_sees_no_review_forms_and_cannot_post(client, db, rc):
    csrf = login_as(client, db, rc.world.users["inspector"])
    page = client.get(f"/review/cases/{rc.case.id}").get_data(as_text=True)
    assert "退回" not in page.replace("退回时", "")
    r = client.post(f"/review/visits/{rc.visit_ids['during']}/review",
                    data={"csrf": csrf, "decision": "approve"})
    assert r.status_code == 303 and "error=forbidden" in r.headers["Location"]


def test_a_dismissed_flag_stays_visible_with_who_and_why(client, db, rc):
    csrf = login_as(client, db, rc.world.users["town_reviewer"])
    pid = rc.photo_ids["depth_far"]
    url = f"/review/photos/{pid}/flags/far_from_house/review"
    r = client.post(url, data={"csrf": csrf, "decision": "dismiss", "reason": " "})
    assert r.status_code == 303 and "error=reason_required" in r.headers["Location"]
    assert flag_of(db, pid, "far_from_house").status == "open"
    r = client.post(url, data={"csrf": csrf, "decision": "dismiss",
                               "reason": "基槽在院外取土处，位置属实",
                               "next": f"/review/photos/{pid}"})
    assert r.status_code == 303
    flag = flag_of(db, pid, "far_from_house")
    assert flag.status == "dismissed" and flag.review_reason == "基槽在院外取土处，位置属实"
    assert flag.reviewed_by == rc.world.users["town_reviewer"].id and flag.reviewed_at
    page = client.get(f"/review/photos/{pid}").get_data(as_text=True)
    assert "拍摄位置距房屋过远（已排除）" in page and "基槽在院外取土处，位置属实" in page
    case_page = client.get(f"/review/cases/{rc.case.id}").get_data(as_text=True)
    assert "拍摄位置距房屋过远（已排除）" in case_page and "位置属实" in case_page
    assert "dismissed" in client.get("/review/flags?status=dismissed").get_data(as_text=True)
    event = db.session.query(AuditEvent).filter_by(action="review_flag", entity_id=pid).one()
    assert event.changes["status"] == ["open", "dismissed"]
    assert event.changes["reason"] == "基槽在院外取土处，位置属实"
    r = client.post(f"/review/photos/{pid}/flags/no_such_flag/review",
                    data={"csrf": csrf, "decision": "confirm"})
    assert r.status_code == 404


def test_case_page_queries_do_not_grow_with_photos(client, db, rc, count_queries):
    login_as(client, db, rc.world.users["town_reviewer"])
    url = f"/review/cases/{rc.case.id}"
    db.session.expire_all()  # the test's session is the request's: start both counts cold
    with count_queries() as few:
        assert client.get(url).status_code == 200
    inspector = Actor.of(rc.world.users["inspector"])
    household = rc.world.households[rc.world.village_a1]
    for i in range(40):
        upload(db.session, inspector, household, phase="during", seed=500 + i, node="wall",
               case_id=rc.case.id, north_m=3 + i, days_ago=10)
    db.session.expire_all()
    with count_queries() as many:
        r = client.get(url)
    assert r.status_code == 200
    assert r.get_data(as_text=True).count('loading="lazy"') >= 45
    assert len(many) == len(few), (len(few), len(many))
    assert len(many) <= 22  # 16, and the money section's payments, recoveries, policy figures
    for page in ("/review/", "/review/flags", "/review/reused", "/review/overdue"):
        db.session.expire_all()
        with count_queries() as queries:
            assert client.get(page).status_code == 200
        assert len(queries) <= 14, (page, len(queries))


def test_overview_filters_and_counts(client, db, rc):
    login_as(client, db, rc.world.users["county_admin"])
    other = factories.case(db.session, rc.world.households[rc.world.village_b1])
    text = client.get("/review/").get_data(as_text=True)
    assert "岱岳镇" in text and "玉井镇" in text
    data = overview.overview(db.session, Actor.of(rc.world.users["county_admin"]),
                           overview.OverviewFilters(), overdue.Deadlines(), date.today())
    assert data.total == 2 and [t.cases for t in data.towns] == [1, 1]
    assert data.towns[0].flagged == 1 and data.towns[1].flagged == 0
    flagged = client.get("/review/?flag=far_from_house").get_data(as_text=True)
    assert f"/review/cases/{rc.case.id}" in flagged and f"/review/cases/{other.id}" not in flagged
    town_b = client.get(f"/review/?town={rc.world.town_b}").get_data(as_text=True)
    assert f"/review/cases/{other.id}" in town_b and f"/review/cases/{rc.case.id}" not in town_b
    assert f"/review/cases/{rc.case.id}" not in client.get("/review/?returned=1").get_data(
        as_text=True)


def test_overdue_work_per_the_seeds_deadlines(db, rc):
    w = rc.world
    admin = Actor.of(w.users["county_admin"])
    today = date(2026, 12, 1)
    case = db.session.get(Case, rc.case.id)
    case.agreement_signed_on = today - timedelta(days=45)  # not started within 30 days
    case.started_on = None
    paid = factories.case(db.session, w.households[w.village_a2], status="accepted")
    paid.accepted_on = today - timedelta(days=40)  # not paid within 30 days (山阴's plan)
    paid.subsidy_yuan = paid.subsidy_central_yuan = Decimal("14000.00")
    rect = db.session.query(Rectification).one()
    rect.due_on = today - timedelta(days=3)
    hazard = db.session.get(Visit, rc.visit_ids["before"])
    hazard.kind, hazard.outcome = "routine_survey", "suspected_danger"
    hazard.started_at = datetime(2026, 11, 1, 2, tzinfo=UTC)
    hazard.received_at = datetime(2026, 11, 9, 2, tzinfo=UTC)  # reported after 8 days
    db.session.commit()
    items = overdue.overdue_items(db.session, admin, overdue.Deadlines(), today)
    kinds = {i.kind for i in items}
    assert kinds == {"works_start", "payment", "rectification", "hazard_report",
                     "hazard_appraise"}, kinds
    late = {i.kind: i for i in items}
    assert late["hazard_report"].done_on == date(2026, 11, 9)
    assert late["hazard_appraise"].done_on is None
    assert late["works_start"].days_over(today) == 15
    assert late["rectification"].days_over(today) == 3
    assert late["payment"].days_over(today) == 10 and "003 §七(二)2" in late["payment"].detail
    reviewer_b = Actor.of(rc.reviewer_b)
    assert overdue.overdue_items(db.session, reviewer_b, overdue.Deadlines(), today) == []
    # an appraisal within 7 days clears the appraisal deadline
    from backend.models import Appraisal
    db.session.add(Appraisal(household_id=case.household_id, grade="D", appraiser="鉴定站",
                             appraised_on=date(2026, 11, 5)))
    case.started_on = today - timedelta(days=20)
    db.session.commit()
    kinds = {i.kind for i in overdue.overdue_items(db.session, admin, overdue.Deadlines(), today,
                                                   open_only=True)}
    assert kinds == {"payment", "rectification"}


def test_reused_pairs_show_both_sides_once(db, rc):
    pairs = flags.reused_pairs(db.session, Actor.of(rc.world.users["town_reviewer"]))
    assert len(pairs) == 1
    ids = {pairs[0].photo.id, pairs[0].other.id}
    assert ids == {rc.photo_ids["area_before"], rc.photo_ids["reused_other"]}


def test_a_reused_photos_pages_name_and_link_the_other_households_photo(client, db, rc):
    mine, theirs = rc.photo_ids["area_before"], rc.photo_ids["reused_other"]
    other = db.session.get(Photo, theirs)
    named = f"{db.session.get(Household, other.household_id).name}户 {other.number}号照片"
    login_as(client, db, rc.world.users["town_reviewer"])
    for url in (f"/review/photos/{mine}", "/review/flags?code=reused_elsewhere",
                "/review/reused"):
        text = client.get(url).get_data(as_text=True)
        assert named in text or url == "/review/reused", url  # the pair shows both
        assert "画面特征（64 位）相差" in text and "在 6 位以内即列为疑似重复" in text, url
        assert theirs not in text.replace(f'/review/photos/{theirs}', ""), url  # no bare id
    assert f'href="/review/photos/{theirs}">{named}</a>' in client.get(
        f"/review/photos/{mine}").get_data(as_text=True)


def test_a_flag_pointing_outside_the_readers_area_says_so_without_the_photo(db, rc):
    from types import SimpleNamespace

    from backend.display import flag_detail

    # 玉井镇's reviewer reads nothing of 岱岳镇: the photo a flag names is not theirs to see.
    outside = rc.reviewer_b
    flag = SimpleNamespace(code="mock_location", details={
        "kind": "repeated_position", "photo_id": rc.photo_ids["reused_other"],
        "lat": 39.5201234, "lon": 112.8101234, "other_day": False})
    assert flags.photo_refs(db.session, Actor.of(outside), [flag]) == {}
    words = flag_detail(flag, {})
    assert "与辖区以外农户的照片分毫不差" in words and "39.5201234" in words
    assert "与另一农户的照片分毫不差" in flag_detail(flag)  # nothing looked up: nothing claimed
    inside = flags.photo_refs(db.session, Actor.of(rc.world.users["town_reviewer"]), [flag])
    assert str(inside[rc.photo_ids["reused_other"]]) in flag_detail(flag, inside)


def test_flag_review_api(client, db, rc):
    w, pid = rc.world, rc.photo_ids["type_nopos"]
    url = f"/api/v1/photos/{pid}/flags/no_position/review"
    r = client.post(url, json={"decision": "dismiss"}, headers=w.headers("town_reviewer"))
    assert r.status_code == 422 and "reason" in r.get_json()["error"]["fields"]
    r = client.post(url, json={"decision": "maybe"}, headers=w.headers("town_reviewer"))
    assert r.status_code == 422
    r = client.post(url, json={"decision": "confirm", "reason": "确无定位"},
                    headers=w.headers("county_admin"))
    assert r.status_code == 200, r.get_json()
    flag = next(f for f in r.get_json()["flags"] if f["code"] == "no_position")
    assert flag["status"] == "confirmed" and flag["reviewed_by"] == w.users["county_admin"].id
    r = client.post(f"/api/v1/photos/{pid}/flags/edited/review",
                    json={"decision": "confirm"}, headers=w.headers("town_reviewer"))
    assert r.status_code == 404
    assert db.session.query(Photo).count() >= 5


def test_plot_is_to_scale_and_tiles_follow_the_map_system(client, db, rc, app, monkeypatch):
    data = dossier.case_dossier(db.session, Actor.of(rc.world.users["town_reviewer"]),
                                    rc.case.id)
    plot = plots.position_plot(data)
    far = next(p for p in plot.points if p.photo_id == rc.photo_ids["depth_far"])
    # 350 m north, an outlier of photos 20 m from the house: up the page at the frame's edge,
    # its distance in its label; the frame is sized by the photos taken at the house.
    assert plot.extent == pytest.approx(55) and plot.rings == (10, 20, 50) and plot.bar == 20
    assert far.clipped and 340 < far.distance_m < 360 and far.caption.endswith("→ 350 米")
    assert abs(far.x) < 1 and far.y == pytest.approx(-plots.EDGE * plot.extent)
    assert plots.near([5, 6, 20, 20, 350, 813]) == [5, 6, 20, 20]
    assert plots.near([120, 150, 800, 820, 900]) == [120, 150, 800, 820, 900]
    assert plots.house_scale([]) == pytest.approx(5.5)
    wide = plots.position_plot(data, extent=500)
    assert -360 < next(p for p in wide.points if p.photo_id == far.photo_id).y < -340
    assert wide.rings == (100, 200, 500) and plot.tiles == []
    near = plots.position_plot(data, extent=100)
    assert next(p for p in near.points if p.photo_id == far.photo_id).clipped
    template = "https://t0.tianditu.gov.cn/img_w/wmts?TILEMATRIX={z}&TILEROW={y}&TILECOL={x}"
    wgs = plots.position_plot(data, tile_url=template)
    gcj = plots.position_plot(data, tile_url=template, tile_crs="GCJ-02")
    assert wgs.tiles and all("{" not in t["url"] for t in wgs.tiles)
    covered = [t for t in wgs.tiles if t["x"] <= 0 <= t["x"] + t["size"]
               and t["y"] <= 0 <= t["y"] + t["size"]]
    assert len(covered) == 1  # the house lies on exactly one tile
    # On a GCJ-02 map every point is shifted as the tiles are: the tile grid moves under the
    # house by the GCJ offset (hundreds of metres), the points keep their distances.
    moved = {(round(t["x"]), round(t["y"])) for t in gcj.tiles} - {
        (round(t["x"]), round(t["y"])) for t in wgs.tiles}
    assert moved and gcj.crs == "GCJ-02"
    far_gcj = next(p for p in gcj.points if p.photo_id == far.photo_id)
    assert abs(far_gcj.y - far.y) < 2
    login_as(client, db, rc.world.users["town_reviewer"])
    monkeypatch.setitem(app.config, "MAP_TILE_URL", template)
    page = client.get(f"/review/cases/{rc.case.id}/plot?r=500").get_data(as_text=True)
    assert "<image href=\"https://t0.tianditu.gov.cn/img_w/wmts?TILEMATRIX=" in page


def test_photo_bytes_on_s3_redirect_to_a_signed_url_after_the_scope_check(
        app, client, db, s3_settings):
    from backend.storage import make_store

    previous = app.extensions["object_store"]
    app.extensions["object_store"] = make_store({**s3_settings, "STORAGE_BACKEND": "s3"})
    try:
        rc = review_case(db.session)
        pid = rc.photo_ids["depth_far"]
        login_as(client, db, rc.world.users["town_reviewer"])
        r = client.get(f"/review/photos/{pid}/large")
        assert r.status_code == 302 and "X-Amz-Signature=" in r.headers["Location"]
        login_as(client, db, rc.reviewer_b)
        assert client.get(f"/review/photos/{pid}/large").status_code == 404
    finally:
        app.extensions["object_store"] = previous


def test_case_page_shows_the_grade_of_an_appraisal_visit(client, db, rc):
    body = visit_body(rc.world, rc.case, kind="appraisal", phase="before", template="appraisal",
                      appraisal_after="C", results=[{"item": "base.settlement", "result": "pass"}])
    assert put_visit(client, rc.world, body).status_code == 201
    login_as(client, db, rc.world.users["town_reviewer"])
    html = client.get(f"/review/cases/{rc.case.id}").get_data(as_text=True)
    assert "鉴定等级：</b>C 级" in html and "改造后评定" not in html
