"""Indexed household search (issue 21) finds what the old full-scan search found: names of
three or more characters as substrings, names of one or two by prefix, ID tails of 4–6
characters and whole ID numbers; every request costs the same number of SQL statements."""

import pytest
from sqlalchemy import select

from backend.models import Household
from backend.services import households
from backend.services.households import HouseholdQuery
from backend.services.ids import check_char
from backend.services.policy import Actor
from tests import factories

NAMES = ["王", "王明", "王明华", "王明华强", "王明丽", "李王明", "李王明华", "欧阳明华", "明华",
         "张三", "张三丰", "张丰", "赵四海", "赵四", "四海", "100%", "王_明", "Wang", "wang明华"]
QUERIES = ["王", "王明", "明", "明华", "王明华", "明华强", "王明华强", "李王明", "欧阳明", "张三丰",
           "三丰", "赵四海", "四海", "不存在的人", "无此人", "100%", "0%", "王_明", "_明", "Wan",
           "wang", "ang明华", "%", "_"]
KEY = b"k" * 32


def old_clause(q: str):
    """The search as it was before issue 21: every name query a leading-% LIKE."""
    q = q.strip()
    upper = q.upper()
    if 4 <= len(upper) <= 6 and upper[:-1].isdigit() and (upper[-1].isdigit() or upper[-1] == "X"):
        return Household.id_number.endswith(upper) if len(upper) > 4 else Household.id_tail == upper
    if len(upper) == 18:
        return Household.id_number == upper
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return Household.name.like(f"%{escaped}%", escape="\\")


@pytest.fixture
def county(db):
    w = factories.world(db.session)
    villages = [w.village_a1, w.village_a2, w.village_b1, w.village_b2]
    for n, name in enumerate(NAMES * 2):
        factories.household(db.session, villages[n % 4], name=name)
    # ID numbers sharing their last four and five characters but not their last six.
    for n, tail in enumerate(["123456", "023456", "223456", "113456", "12345X", "02345X"]):
        factories.household(db.session, villages[n % 4], name=f"尾号{n}",
                            id_number=number_ending(tail))
    return w


def number_ending(tail: str) -> str:
    """A valid ID number born on day tail[:2] of March 1962 whose last six are `tail`."""
    for region in range(100):
        body = f"1406{region:02d}196203{tail[:5]}"
        if check_char(body) == tail[5]:
            return body + tail[5]
    raise AssertionError(tail)


def search(db, actor, q: str) -> set[int]:
    rows, cursor = households.list_households(db.session, actor, HouseholdQuery(q=q, limit=500),
                                              cursor_key=KEY)
    assert cursor is None
    return {h.id for h in rows}


def old_search(db, q: str) -> set[int]:
    return set(db.session.scalars(select(Household.id).where(old_clause(q))))


def test_names_of_three_or_more_characters_find_what_the_substring_search_found(db, county):
    actor = Actor.of(county.users["county_admin"])
    for q in QUERIES:
        if len(q) >= 3:
            assert search(db, actor, q) == old_search(db, q), q


def test_names_of_one_or_two_characters_find_every_name_they_begin(db, county):
    actor = Actor.of(county.users["county_admin"])
    names = dict(db.session.execute(select(Household.id, Household.name)).all())
    for q in QUERIES:
        if len(q) < 3:
            expected = {i for i in old_search(db, q) if names[i].startswith(q)}
            assert search(db, actor, q) == expected, q
    assert len(search(db, actor, "王明")) == 8  # 王明, 王明华, 王明华强, 王明丽, twice each


def test_a_common_prefix_is_found_the_same_way(db, county, monkeypatch):
    """SQLite walks the list in order once a prefix matches many names: the same households."""
    actor = Actor.of(county.users["county_admin"])
    rare = {q: search(db, actor, q) for q in ("王", "王明", "张", "无")}
    monkeypatch.setattr(households, "PREFIX_PROBE", 1)
    assert {q: search(db, actor, q) for q in rare} == rare


def test_id_tails_of_four_five_and_six_characters_and_whole_numbers(db, county):
    actor = Actor.of(county.users["county_admin"])
    numbers = db.session.scalars(select(Household.id_number)).all()
    queries = {n[-k:] for n in numbers for k in (4, 5, 6)} | {"3456", "23456", "123456",
                                                                "345X", "2345x", "000000"}
    queries |= set(numbers[:5]) | {numbers[0].lower()}
    for q in sorted(queries):
        found = search(db, actor, q)
        assert found == old_search(db, q.upper()), q
    assert len(search(db, actor, "3456")) >= 4  # the shared tails really are shared


def test_an_inspector_finds_only_households_of_the_town(db, county):
    inspector = Actor.of(county.users["inspector"])
    villages = {h.village_code for h in db.session.scalars(select(Household).where(
        Household.id.in_(search(db, inspector, "明华"))))}
    assert villages and villages <= {county.village_a1, county.village_a2}


def test_a_name_changed_or_removed_is_searched_as_it_now_is(db, county):
    actor = Actor.of(county.users["county_admin"])
    h = factories.household(db.session, county.village_a1, name="上官婉儿")
    assert search(db, actor, "官婉儿") == {h.id}
    h.name = "上官飞燕"
    db.session.commit()
    assert search(db, actor, "官婉儿") == set() and search(db, actor, "官飞燕") == {h.id}
    db.session.delete(h)
    db.session.commit()
    assert search(db, actor, "官飞燕") == set()


def test_id_tail6_is_kept_by_the_model(db, county):
    h = factories.household(db.session, county.village_a1, name="新户")
    assert h.id_tail6 == h.id_number[-6:] and h.id_tail == h.id_number[-4:]
    h.id_number = factories.id_number()
    db.session.commit()
    assert db.session.scalar(select(Household.id_tail6).where(Household.id == h.id)) \
        == h.id_number[-6:]


def test_every_search_and_page_costs_the_same_sql_count(client, db, county, count_queries):
    """Whatever the query and however many households match, one request costs as many
    statements as a plain page."""
    headers = county.headers("county_admin")
    number = db.session.scalars(select(Household.id_number)).first()
    urls = ["/api/v1/households", "/api/v1/households?q=王", "/api/v1/households?q=王明华",
            "/api/v1/households?q=不存在的人", f"/api/v1/households?q={number[-4:]}",
            f"/api/v1/households?q={number[-5:]}", f"/api/v1/households?q={number[-6:]}",
            f"/api/v1/households?q={number}", "/api/v1/households?category=dibao&q=明华"]

    def counts() -> dict[str, int]:
        first = client.get("/api/v1/households?limit=3", headers=headers).get_json()
        found = {}
        for url in [*urls, f"/api/v1/households?limit=3&cursor={first['next_cursor']}",
                    f"/api/v1/households?region={county.village_a1}&q=明华"]:
            with count_queries() as statements:
                r = client.get(url, headers=headers)
            assert r.status_code == 200, (url, r.get_json())
            found[url.split("cursor=")[0]] = len(statements)
        return found

    before = counts()
    for n in range(60):
        factories.household(db.session, county.village_a2, name=f"王明{n}")
    after = counts()
    assert before == after
    plain = before["/api/v1/households"]
    assert before["/api/v1/households?q=不存在的人"] == plain - 1  # no rows: no cases to load
    # On SQLite a one- or two-character prefix first counts its names (one statement more).
    probe = 1 if db.engine.dialect.name == "sqlite" else 0
    assert before["/api/v1/households?q=王"] == plain + probe
    assert set(before.values()) <= {plain - 1, plain, plain + probe}
