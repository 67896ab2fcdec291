"""The weekly ranking of towns (000 武乡): named when in the bottom three of 开工率 and 竣工率 at
once; 1, 2, 3 weeks in a row → 全县通报批评, 媒体曝光, 诫勉谈话; rates over the annual task
(003 §八 五到乡镇); a week is fixed once over."""

from datetime import date, timedelta

import pytest

from backend.models import AnnualTask, AuditEvent, RankingSnapshot
from backend.services.errors import Forbidden, InvalidInput, OutsideScope, WeekClosed
from backend.services.policy import Actor
from backend.services.reports import ranking, tasks
from backend.services.reports.ranking import rank_towns
from tests import factories

# Towns C–F beside the world's 岱岳镇 (A) and 玉井镇 (B); each with one village ("…201").
MORE_TOWNS = {"140621102000": "合盛堡乡", "140621103000": "马营庄乡", "140621104000": "薛圐圙乡",
              "140621105000": "古城镇"}
X = "140621105000"  # the town that lags


def by_code(rows):
    return {r["town_code"]: r for r in rows}


def entries(rates):
    """(code, name, task 10, started, completed) for {code: (started, completed)}."""
    return [(code, code, 10, s, c) for code, (s, c) in rates.items()]


# --- the rule, on its own --------------------------------------------------------------------
def test_a_town_in_the_bottom_three_of_one_rate_only_is_not_named():
    rows = by_code(rank_towns(entries({
        "a": (9, 8), "b": (8, 1), "c": (7, 6), "d": (6, 5), "e": (5, 4), "f": (4, 3)})))
    # b is last but one in 竣工率 and second in 开工率: not named; e and f are low in both.
    assert rows["b"]["completion_bottom"] and not rows["b"]["start_bottom"]
    assert not rows["b"]["named"]
    assert rows["d"]["start_bottom"] and not rows["d"]["completion_bottom"]  # c, e, f are lower
    assert {c for c, r in rows.items() if r["named"]} == {"e", "f"}
    assert rows["f"]["start_rank"] == 6 and rows["f"]["start_rate"] == "40.0"


def test_ties_at_the_boundary_count_as_bottom_three():
    rows = by_code(rank_towns(entries({
        "a": (9, 9), "b": (8, 8), "c": (5, 5), "d": (5, 5), "e": (3, 3), "f": (1, 1)})))
    # c and d share third from the bottom: both have only two towns strictly lower.
    assert {c for c, r in rows.items() if r["named"]} == {"c", "d", "e", "f"}
    assert rows["c"]["start_rank"] == rows["d"]["start_rank"] == 3
    assert rows["e"]["start_rank"] == 5


def test_the_leader_is_never_named_and_equal_rates_name_nobody():
    two = by_code(rank_towns(entries({"a": (6, 3), "b": (2, 1)})))
    assert not two["a"]["named"] and two["b"]["named"]
    nobody_started = rank_towns(entries({c: (0, 0) for c in "abcdef"}))
    assert not any(r["named"] for r in nobody_started)


def test_towns_without_a_task_are_listed_last_but_not_ranked():
    rows = rank_towns([("a", "甲", 10, 5, 2), ("b", "乙", None, 3, 1), ("c", "丙", 0, 1, 0),
                       ("d", "丁", 20, 1, 0)])
    assert [r["town_code"] for r in rows] == ["a", "d", "b", "c"]
    unranked = by_code(rows)
    assert unranked["b"]["start_rank"] is None and not unranked["b"]["ranked"]
    assert ranking.unranked_note(unranked["b"]) == "未下达年度任务，不参与排名"
    assert ranking.unranked_note(unranked["c"]) == "年度任务为 0，不参与排名"
    assert unranked["d"]["named"]  # the last of the two ranked towns


def test_the_consequence_follows_the_weeks_in_a_row():
    assert [ranking.consequence_of(n) for n in (0, 1, 2, 3, 7)] == [
        None, "criticism", "exposure", "admonition", "admonition"]


# --- with the database ---------------------------------------------------------------------
@pytest.fixture
def world(db):
    w = factories.world(db.session)
    for code, name in MORE_TOWNS.items():
        factories.region(db.session, code, name, "town", w.county)
        factories.region(db.session, code[:9] + "201", name[:2] + "村", "village", code)
    db.session.commit()
    w.admin = Actor.of(w.users["county_admin"])
    return w


def towns(w):
    return [w.town_a, w.town_b, *MORE_TOWNS]


def add_cases(db, town, n, *, started=None, completed=None, status="in_progress", year=2026,
              left_on=None):
    made = []
    for _ in range(n):
        h = factories.household(db.session, town[:9] + "201")
        c = factories.case(db.session, h, status=status, year=year)
        c.started_on, c.completed_on = started, completed
        if left_on:
            c.stage_entered_on = left_on
        made.append(c)
    db.session.commit()
    return made


def lagging_county(db, w, on=date(2026, 5, 20), year=2026):
    """Tasks of 10; by `on` town X has started 1 and completed none, the others more."""
    tasks.set_tasks(db.session, w.admin, year, dict.fromkeys(towns(w), 10))
    for town, (s, c) in zip(towns(w), [(8, 6), (7, 5), (6, 4), (5, 3), (4, 2), (1, 0)],
                            strict=True):
        add_cases(db, town, c, started=on, completed=on, year=year)
        add_cases(db, town, s - c, started=on, year=year)


def test_rates_are_over_the_annual_task_and_count_the_years_cases_in_the_procedure(db, world):
    w = world
    tasks.set_task(db.session, w.admin, w.town_a, 2026, 8)
    add_cases(db, w.town_a, 2, started=date(2026, 4, 1), completed=date(2026, 5, 1))
    add_cases(db, w.town_a, 1, started=date(2026, 4, 1))
    add_cases(db, w.town_a, 1, started=date(2026, 6, 1))  # after the day
    add_cases(db, w.town_a, 1, started=date(2026, 4, 1), year=2025)  # another year's case
    add_cases(db, w.town_a, 1, started=date(2026, 4, 1), status="cancelled",
              left_on=date(2026, 4, 20))
    # Cancelled after the day: it counted then, and still does for that day.
    add_cases(db, w.town_a, 1, started=date(2026, 4, 1), status="deferred",
              left_on=date(2026, 5, 25))
    result = ranking.ranking(db.session, w.admin, None, date(2026, 5, 10), date(2026, 6, 3))
    a = by_code(result.rows)[w.town_a]
    assert (a["task"], a["started"], a["completed"]) == (8, 4, 2)
    assert (a["start_rate"], a["completion_rate"]) == ("50.0", "25.0")
    assert by_code(result.rows)[w.town_b]["ranked"] is False
    assert result.week_start == date(2026, 5, 4) and result.closed


def test_consecutive_weeks_criticism_exposure_admonition_and_a_break_resets(db, world):
    w = world
    lagging_county(db, w)  # all on Wednesday 2026-05-20; nothing the week before

    def x_on(day):
        return by_code(ranking.ranking(db.session, w.admin, None, day, day).rows)[X]

    assert (x_on(date(2026, 5, 20))["consecutive"], x_on(date(2026, 5, 20))["consequence"]) \
        == (1, "criticism")
    assert x_on(date(2026, 5, 27))["consequence"] == "exposure"
    assert (x_on(date(2026, 6, 3))["consecutive"], x_on(date(2026, 6, 3))["consequence"]) \
        == (3, "admonition")
    assert x_on(date(2026, 6, 10))["consecutive"] == 4
    # X catches up during the week of 06-15 (and is not named), then those cases are
    # cancelled: named again the week after, counted from one.
    boost = add_cases(db, X, 9, started=date(2026, 6, 16), completed=date(2026, 6, 16))
    assert not x_on(date(2026, 6, 17))["named"]
    for c in boost:
        c.status, c.stage_entered_on = "cancelled", date(2026, 6, 22)
    db.session.commit()
    again = x_on(date(2026, 6, 24))
    assert (again["named"], again["consecutive"], again["consequence"]) == (True, 1, "criticism")
    # The week of 06-15, never taken, was stored as of its Sunday when it was needed.
    stored = db.session.query(RankingSnapshot).filter_by(week_start=date(2026, 6, 15)).one()
    assert stored.as_of == date(2026, 6, 21) and stored.taken_by is None
    assert not by_code(stored.rows)[X]["named"]


def test_the_count_of_weeks_starts_again_with_the_year(db, world):
    w = world
    lagging_county(db, w, on=date(2026, 12, 2))
    lagging_county(db, w, on=date(2027, 1, 1), year=2027)
    row = by_code(ranking.ranking(db.session, w.admin, None, date(2027, 1, 6),
                                  date(2027, 1, 6)).rows)[X]
    # This week and the week of 2026-12-28 (counted as of Sunday 2027-01-03): not December.
    assert row["consecutive"] == 2


def test_a_closed_week_is_fixed_while_the_current_one_may_be_retaken(db, world):
    w = world
    lagging_county(db, w)
    today = date(2026, 6, 3)
    first, created = ranking.take_snapshot(db.session, w.admin, None, None, today)
    assert created and first.week_start == date(2026, 6, 1) and first.as_of == today
    assert by_code(first.rows)[X]["consequence"] == "admonition"
    again, created = ranking.take_snapshot(db.session, w.admin, None, None, today + timedelta(2))
    assert not created and again.id == first.id and again.as_of == date(2026, 6, 5)
    # Next week, the week of 06-01 is over: fixed as last taken, and nothing changes.
    with pytest.raises(WeekClosed) as refused:
        ranking.take_snapshot(db.session, w.admin, None, date(2026, 6, 1), date(2026, 6, 8))
    assert "已结束" in refused.value.message
    db.session.expire_all()
    kept = db.session.query(RankingSnapshot).filter_by(week_start=date(2026, 6, 1)).one()
    assert kept.as_of == date(2026, 6, 5) and kept.taken_by == w.users["county_admin"].id
    # A past week never taken is taken as of its Sunday.
    old, created = ranking.take_snapshot(db.session, w.admin, None, date(2026, 4, 6),
                                         date(2026, 6, 8))
    assert created and old.as_of == date(2026, 4, 12) and old.closed
    for week, message in ((date(2026, 6, 9), "星期一"), (date(2026, 6, 15), "尚未开始")):
        with pytest.raises(InvalidInput) as bad:
            ranking.take_snapshot(db.session, w.admin, None, week, date(2026, 6, 10))
        assert message in bad.value.fields["week_start"]
    assert db.session.query(AuditEvent).filter_by(entity="ranking_snapshot").count() == 3


def test_only_the_county_admin_takes_snapshots_and_sets_tasks(db, world):
    w = world
    reviewer = Actor.of(w.users["town_reviewer"])
    with pytest.raises(Forbidden):
        ranking.take_snapshot(db.session, reviewer, None, None, date(2026, 6, 3))
    with pytest.raises(Forbidden):
        tasks.set_task(db.session, reviewer, w.town_a, 2026, 5)
    # but a town's users read their county's ranking, every town in it
    result = ranking.ranking(db.session, reviewer, None, date(2026, 6, 3), date(2026, 6, 3))
    assert result.county.code == w.county and len(result.rows) == 6


def test_a_task_is_set_for_a_town_of_my_area_within_bounds_and_audited(db, world):
    w = world
    tasks.set_task(db.session, w.admin, w.town_a, 2026, 30)
    tasks.set_task(db.session, w.admin, w.town_a, 2026, 30)  # no change, no event
    tasks.set_task(db.session, w.admin, w.town_a, 2026, 35)
    assert db.session.query(AnnualTask).one().households == 35
    events = db.session.query(AuditEvent).filter_by(entity="annual_task").order_by(
        AuditEvent.id).all()
    assert [e.changes["households"] for e in events] == [[None, 30], [30, 35]]
    for code, year, number, error in (
            (w.village_a1, 2026, 5, InvalidInput), (w.town_a, 1999, 5, InvalidInput),
            (w.town_a, 2026, -1, InvalidInput), (w.town_a, 2026, 100_001, InvalidInput),
            ("140622100000", 2026, 5, OutsideScope), ("x", 2026, 5, OutsideScope)):
        with pytest.raises(error):
            tasks.set_task(db.session, w.admin, code, year, number)
    county, rows = tasks.county_tasks(db.session, w.admin, None, 2026)
    assert county.code == w.county
    assert [(r.town.code, r.households) for r in rows][:2] == [(w.town_a, 35), (w.town_b, None)]


def test_a_county_outside_my_area_is_not_found(db, world):
    factories.region(db.session, "140622000000", "应县", "county", "140600000000")
    with pytest.raises(OutsideScope):
        ranking.ranking(db.session, Actor.of(world.users["county_admin"]), "140622000000",
                        date(2026, 6, 3), date(2026, 6, 3))
    with pytest.raises(OutsideScope):  # a town is not a county
        tasks.county_tasks(db.session, world.admin, world.town_a, 2026)


def test_the_ranking_costs_the_same_queries_for_two_towns_or_six(db, count_queries):
    w = factories.world(db.session)
    admin = Actor.of(w.users["county_admin"])
    day = date(2026, 6, 3)

    def measure():
        ranking.ranking(db.session, admin, None, day, day)  # past weeks stored once
        db.session.expire_all()
        with count_queries() as statements:
            result = ranking.ranking(db.session, admin, None, day, day)
        return len(statements), len(result.rows)

    tasks.set_tasks(db.session, admin, 2026, {w.town_a: 10, w.town_b: 10})
    add_cases(db, w.town_a, 3, started=date(2026, 5, 20))
    two = measure()
    for code, name in MORE_TOWNS.items():
        factories.region(db.session, code, name, "town", w.county)
        factories.region(db.session, code[:9] + "201", name[:2] + "村", "village", code)
        tasks.set_task(db.session, admin, code, 2026, 10)
        add_cases(db, code, 2, started=date(2026, 5, 20), completed=date(2026, 5, 27))
    six = measure()
    assert two[1] == 2 and six[1] == 6
    assert two[0] == six[0] <= 6
