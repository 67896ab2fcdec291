"""One time format on the desk (issue 17): every date-time a person reads goes through
backend.display.local_time ("2026-12-01 00:15", China time), never an ISO string with its "T"."""

import re

import pytest

from tests.web import login_as, review_case, round_with_a_suspected_house

ISO_MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")
TAG = re.compile(r"<[^>]*>")  # attributes (datetime="", data-*) are machine-read, not shown


@pytest.fixture
def desk(db, client):
    rc = review_case(db.session, extra_photos=2)
    w = rc.world
    rnd, neighbour, _, photo = round_with_a_suspected_house(db.session, w)
    # One visit returned, so its review time and comment are shown too.
    r = client.post(f"/api/v1/visits/{rc.visit_ids['before']}/review",
                    headers=w.headers("town_reviewer"),
                    json={"decision": "return", "comment": "请补拍"})
    assert r.status_code == 200, r.get_json()
    login_as(client, db, w.users["town_reviewer"])
    return rc, rnd, neighbour, photo


def test_no_iso_date_time_is_shown_on_the_desk(client, desk):
    rc, rnd, neighbour, survey_photo = desk
    case = rc.case
    pages = ["/review/", "/review/todo", "/review/todo/reviews", "/review/todo/suspected",
             "/review/overdue", "/review/flags", "/review/reused",
             f"/review/cases/{case.id}", f"/review/cases/{case.id}/plot",
             f"/review/households/{case.household_id}", f"/review/households/{neighbour.id}",
             "/review/rounds", f"/review/rounds/{rnd.id}", f"/review/rounds/{rnd.id}/households"]
    pages += [f"/review/photos/{pid}" for pid in (*rc.photo_ids.values(), survey_photo)]
    shown = 0
    for url in pages:
        r = client.get(url)
        assert r.status_code == 200, url
        text = TAG.sub(" ", r.get_data(as_text=True))
        assert not ISO_MOMENT.search(text), (url, ISO_MOMENT.findall(text)[:3])
        shown += len(re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d", text))
    assert shown > 20  # the pages do show times, in the one format
