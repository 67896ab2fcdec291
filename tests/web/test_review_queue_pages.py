"""Everything an inspector sends can be reviewed (issue 17): the 待审核 queue, the 疑似危房 list
with its clocks, a page for every household with its visits, and the photo page's links."""

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from backend.models import Appraisal, Visit
from tests import factories, images
from tests.api.test_photos import put_photo
from tests.api.test_rounds import survey
from tests.web import login_as
from tests.web.test_round_pages import household_ids, open_round


@pytest.fixture
def world(db, templates):
    return factories.round_world(db.session)


def suspected_survey(client, w, rnd, household_id, *, days_ago=0):
    photo = put_photo(client, w, images.make_jpeg(seed=household_id + 70),
                      village=w.village_a2, household_id=household_id).get_json()["id"]
    r = survey(client, w, rnd.id, household_id, "suspected_danger", minutes_ago=days_ago * 1440,
               danger_points=["wall.crack", "roof.leak"], photos=[photo],
               note="后墙开裂约2米")
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"], photo


def test_queue_lists_submitted_visits_oldest_first_by_kind_and_village(client, db, world):
    w = world
    rnd = open_round(db, w)
    a1, a2 = household_ids(db, rnd, w.village_a1), household_ids(db, rnd, w.village_a2)
    survey(client, w, rnd.id, a1[0], "safe", minutes_ago=60)
    older, _ = suspected_survey(client, w, rnd, a2[0], days_ago=1)
    db.session.get(Visit, older).received_at = datetime.now(UTC) - timedelta(hours=20)
    db.session.commit()
    r = client.get("/api/v1/review-queue", headers=w.headers("town_reviewer")).get_json()
    assert [i["visit"]["id"] for i in r["items"]][0] == older  # oldest first
    item = r["items"][0]
    assert [d["label"] for d in item["danger_points"]] == ["承重墙体：裂缝", "屋面：漏雨"]
    assert item["photos"][0]["number"] == 1 and item["household"]["village_name"] == "西坪村"
    only = client.get(f"/api/v1/review-queue?village={w.village_a1}",
                      headers=w.headers("town_reviewer")).get_json()["items"]
    assert [i["household"]["id"] for i in only] == [a1[0]]
    assert client.get("/api/v1/review-queue?kind=construction",
                      headers=w.headers("town_reviewer")).get_json()["items"] == []

    login_as(client, db, w.users["town_reviewer"])
    page = client.get(f"/review/todo/reviews?village={w.village_a2}").get_data(as_text=True)
    assert 'aria-current="page">待审核' in page and "承重墙体：裂缝" in page
    assert "wall.crack" not in page and f'id="visit-{older}"' in page
    assert client.get("/review/todo").get_data(as_text=True).count('class="tabs"') == 1


def test_found_house_is_queued_reviewed_and_returned_to_the_phone(client, db, world):
    w = world
    rnd = open_round(db, w)
    r = client.post(f"/api/v1/rounds/{rnd.id}/discoveries", headers=w.headers("inspector"),
                    json={"name": "新发现户", "id_number": factories.id_number(77),
                          "village_code": w.village_a2, "category": "ordinary"})
    assert r.status_code == 201, r.get_json()
    household_id = r.get_json()["household"]["id"]
    photo = put_photo(client, w, images.make_jpeg(seed=88), village=w.village_a2,
                      household_id=household_id).get_json()["id"]
    v = survey(client, w, rnd.id, household_id, "new_found", photos=[photo])
    assert v.status_code == 201, v.get_json()
    queue = client.get("/api/v1/review-queue?kind=found_house",
                       headers=w.headers("town_reviewer")).get_json()["items"]
    assert [(i["household"]["id"], i["found_house"]) for i in queue] == [(household_id, True)]
    csrf = login_as(client, db, w.users["town_reviewer"])
    visit_id = v.get_json()["id"]
    r = client.post(f"/review/visits/{visit_id}/review", data={
        "csrf": csrf, "decision": "return", "comment": "请补拍房屋正面",
        "next": "/review/todo/reviews?kind=found_house"})
    assert r.status_code == 303
    mine = client.get("/api/v1/visits?mine=true", headers=w.headers("inspector")).get_json()
    assert [(x["id"], x["return_open"]) for x in mine["items"]][0] == (visit_id, True)


def test_suspected_list_shows_danger_points_photos_and_both_clocks(client, db, world):
    w = world
    rnd = open_round(db, w)
    a2 = household_ids(db, rnd, w.village_a2)
    visit_id, photo = suspected_survey(client, w, rnd, a2[0], days_ago=6)
    # Reported 6 days after it was found: late for the 5-day clock (004 §二(四)).
    db.session.get(Visit, visit_id).received_at = datetime.now(UTC)
    db.session.commit()
    body = client.get("/api/v1/suspected-houses", headers=w.headers("inspector")).get_json()
    clocks = body["items"][0]["clocks"]
    assert clocks["reported_late"] is True and clocks["appraisal_overdue"] is False
    found = datetime.fromisoformat(clocks["found_on"]).date()
    assert datetime.fromisoformat(clocks["appraise_due"]).date() - found == timedelta(days=7)
    db.session.add(Appraisal(household_id=a2[0], grade="C", appraised_on=found + timedelta(2),
                             appraiser="县住建局"))
    db.session.commit()
    login_as(client, db, w.users["town_reviewer"])
    page = client.get("/review/todo/suspected").get_data(as_text=True)
    assert "承重墙体：裂缝" in page and "屋面：漏雨" in page and "后墙开裂约2米" in page
    assert "超期 1 天" in page and "已鉴定" in page
    assert f'/review/photos/{photo}' in page


def test_a_household_without_a_case_has_a_page_with_its_visits_and_photos(client, db, world):
    w = world
    rnd = open_round(db, w)
    a2 = household_ids(db, rnd, w.village_a2)
    visit_id, photo = suspected_survey(client, w, rnd, a2[0])
    stray = put_photo(client, w, images.make_jpeg(seed=99), village=w.village_a2,
                      household_id=a2[0], node="site", item="site.safety", accuracy_m=0.0,
                      visit_id=str(uuid.uuid4())).get_json()["id"]
    login_as(client, db, w.users["town_reviewer"])
    page = client.get(f"/review/households/{a2[0]}").get_data(as_text=True)
    assert f'id="visit-{visit_id}"' in page and "常规排查" in page
    assert "承重墙体：裂缝" in page and f"/review/photos/{photo}" in page
    unfiled = page[page.index('id="unfiled"'):]
    assert "未归入检查记录" in unfiled and "选址放线" in unfiled and "场地安全" in unfiled
    assert "疑似虚拟定位（待处理）" in unfiled  # its flags show here, not only on the worklist
    assert "site.safety" not in page
    # The photo page names its household as a link, and says the photo is unfiled.
    shown = client.get(f"/review/photos/{stray}").get_data(as_text=True)
    assert f'href="/review/households/{a2[0]}"' in shown and "未归入检查记录" in shown
    assert re.search(r"2号照片", shown)


@pytest.mark.parametrize("path", ["/favicon.ico"])
def test_the_favicon_is_served(client, path):
    r = client.get(path, follow_redirects=True)
    assert r.status_code == 200 and r.mimetype == "image/svg+xml"


def visit_article(page: str, visit_id: str) -> str:
    """The HTML of one visit's article on a desk page."""
    start = page.index(f'id="visit-{visit_id}"')
    return page[start:page.index("</article>", start)]


def test_household_page_pairs_a_returned_visit_with_its_answer_both_ways(client, db, world):
    w = world
    rnd = open_round(db, w)
    hid = household_ids(db, rnd, w.village_a2)[0]
    first, _ = suspected_survey(client, w, rnd, hid)
    r = client.post(f"/api/v1/visits/{first}/review", headers=w.headers("town_reviewer"),
                    json={"decision": "return", "comment": "请补拍后墙裂缝"})
    assert r.status_code == 200, r.get_json()
    login_as(client, db, w.users["town_reviewer"])
    url = f"/review/households/{hid}"
    page = client.get(url).get_data(as_text=True)
    returned = visit_article(page, first)
    # Awaiting its answer: the return comment kept, no 通过 offered, 等待补交 said.
    assert "请补拍后墙裂缝" in returned and "等待补交" in returned
    assert 'value="approve"' not in returned and "已补交" not in returned
    # The visits and their photos are inside the 检查记录 card, one list.
    section = page[page.index('id="visits"'):page.index("</section>", page.index('id="visits"'))]
    assert f'id="visit-{first}"' in section and 'class="strip"' in section

    shot = put_photo(client, w, images.make_jpeg(seed=hid + 90), village=w.village_a2,
                     household_id=hid).get_json()["id"]
    r = survey(client, w, rnd.id, hid, "suspected_danger", danger_points=["wall.crack"],
               photos=[shot], answers_visit_id=first, note="已补拍")
    assert r.status_code == 201, r.get_json()
    answer = r.get_json()["id"]
    page = client.get(url).get_data(as_text=True)
    returned, answering = visit_article(page, first), visit_article(page, answer)
    assert f'<a class="pair-link" href="#visit-{answer}">已补交 → 查看</a>' in returned
    assert "待审核" in returned and "等待补交" not in returned
    assert f'<a class="pair-link" href="#visit-{first}">答复退回的检查记录 ←</a>' in answering
    assert 'value="approve"' in answering  # the answer is what gets reviewed

    r = client.post(f"/api/v1/visits/{answer}/review", headers=w.headers("town_reviewer"),
                    json={"decision": "approve"})
    assert r.status_code == 200, r.get_json()
    page = client.get(url).get_data(as_text=True)
    returned = visit_article(page, first)
    assert "退回已解决" in returned
    assert f'<a class="pair-link" href="#visit-{answer}">已补交 → 查看</a>' in returned
    assert f'href="#visit-{first}">答复退回的检查记录 ←' in visit_article(page, answer)
