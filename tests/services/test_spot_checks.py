"""Spot-check draws: the allocation per town, a sample reproducible from its stored seed, one
draw per area, year and purpose, the round opened over exactly the sample."""

import hashlib
import random
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from backend.models import (
    AuditEvent,
    Case,
    Household,
    Region,
    Round,
    RoundHousehold,
    SpotCheck,
)
from backend.services import spot_checks
from backend.services.errors import Forbidden, InvalidInput, OutsideScope, SpotCheckDrawn
from backend.services.policy import Actor
from backend.services.spot_checks import sampling
from tests import factories

TODAY = date(2026, 10, 8)


# --- the algorithm, without a database ---------------------------------------------------
def test_allocation_gives_each_town_one_then_shares_the_rest_by_largest_remainder():
    sizes = {"A": 50, "B": 30, "C": 15, "D": 5}
    # One each; the other 6 by 49:29:14:4 → quotas 3.06, 1.81, 0.88, 0.25 → 3, 1, 0, 0 and the
    # two seats left to the largest remainders, C (.88) and B (.81).
    assert sampling.allocate(sizes, 10) == {"A": 4, "B": 3, "C": 2, "D": 1}
    # Fewer households than towns: by 50:30:15:5 → 1.5, .9, .45, .15 → B then A.
    assert sampling.allocate(sizes, 3) == {"A": 2, "B": 1, "C": 0, "D": 0}
    assert sampling.allocate(sizes, 4) == {"A": 1, "B": 1, "C": 1, "D": 1}
    assert sampling.allocate(sizes, 1000) == sizes  # cut to the population
    assert sampling.allocate({"A": 0, "B": 3}, 2) == {"A": 0, "B": 2}  # no town without any
    assert sampling.allocate({"B": 1, "A": 1}, 1) == {"A": 1, "B": 0}  # a tie: the lower code


@pytest.mark.parametrize("n", [1, 2, 7, 19, 40, 120])
def test_allocation_never_exceeds_a_town_and_sums_to_n(n):
    rng = random.Random(n)
    sizes = {f"T{i:02d}": rng.randrange(1, 30) for i in range(9)}
    shares = sampling.allocate(sizes, n)
    assert sum(shares.values()) == min(n, sum(sizes.values()))
    assert all(0 <= shares[t] <= sizes[t] for t in sizes)
    if n >= len(sizes):
        assert min(shares.values()) >= 1


def test_the_draw_is_the_documented_partial_shuffle_of_each_town():
    population = {"140621101000": [9, 3, 7], "140621100000": [5, 1, 2, 8, 4]}
    shares, sample = sampling.draw(population, 4, "00ff00ff00ff00ff")
    # Redone by hand from the module docstring, with random() only.
    rng = random.Random(int("00ff00ff00ff00ff", 16))
    expected = []
    for town in sorted(population):
        ids, k = sorted(population[town]), shares[town]
        for i in range(k):
            j = i + int(rng.random() * (len(ids) - i))
            ids[i], ids[j] = ids[j], ids[i]
        expected += ids[:k]
    # One each, then 2 by 4:2 → quotas 1.33 and .67: the seat left goes to the second town.
    assert shares == {"140621100000": 2, "140621101000": 2} and sample == expected
    assert sampling.draw(population, 4, "00ff00ff00ff00ff") == (shares, sample)
    assert len(set(sample)) == 4 and set(sample[:2]) <= {1, 2, 4, 5, 8}
    lines = "140621100000 1\n140621100000 2\n140621100000 4\n140621100000 5\n" \
            "140621100000 8\n140621101000 3\n140621101000 7\n140621101000 9"
    assert sampling.fingerprint(population) == hashlib.sha256(lines.encode()).hexdigest()


def test_a_percentage_is_rounded_up_and_capped():
    assert sampling.size_for(8, percent=Decimal("10")) == 1
    assert sampling.size_for(8, percent=Decimal("50")) == 4
    assert sampling.size_for(8, percent=Decimal("12.5")) == 1
    assert sampling.size_for(8, percent=Decimal("100")) == 8
    assert sampling.size_for(8, count=20) == 8


# --- draws over the archive --------------------------------------------------------------
@pytest.fixture
def world(db):
    """岱岳镇 6 approved households (one more only applying, one cancelled), 玉井镇 2."""
    w = factories.world(db.session)
    for code in (w.village_a1, w.village_a2, w.village_b1):
        factories.case(db.session, w.households[code], status="in_progress")
    for i in range(4):
        factories.case(db.session, factories.household(db.session, w.village_a2, name=f"孙{i}"),
                       status="accepted" if i % 2 else "planned")
    factories.case(db.session, factories.household(db.session, w.village_b2, name="钱"),
                   status="paid")
    w.applying = factories.case(db.session, factories.household(db.session, w.village_a1),
                                status="application")
    w.cancelled = factories.case(db.session, factories.household(db.session, w.village_b1),
                                 status="cancelled")
    factories.case(db.session, w.households[w.village_b2], status="planned", year=2025)
    w.admin = Actor.of(w.users["county_admin"])
    return w


def spec(w, **over):
    return spot_checks.DrawSpec(**{"area_code": w.county, "year": 2026,
                                   "purpose": "2026年国家第一次抽查复核", "count": 4, **over})


def test_the_population_is_the_approved_cases_of_the_year_by_town(db, world):
    assert spot_checks.draws.ARCHIVED_STATUSES == (
        "county_publicity", "planned", "agreement_signed", "in_progress", "completed",
        "town_accepted", "accepted", "paid", "archived")
    w = world
    area = db.session.get(Region, w.county)
    population = spot_checks.population_of(db.session, area, 2026)
    assert {t: len(ids) for t, ids in population.items()} == {w.town_a: 6, w.town_b: 2}
    everyone = {hid for ids in population.values() for hid in ids}
    assert w.applying.household_id not in everyone and w.cancelled.household_id not in everyone
    assert w.households[w.village_b2].id not in everyone  # its case is of 2025


def test_the_draw_is_reproducible_from_its_stored_seed(db, world):
    check = spot_checks.draw(db.session, world.admin, spec(world), TODAY)
    db.session.expire_all()
    stored = db.session.get(SpotCheck, check.id)
    assert len(stored.seed) == 16 and int(stored.seed, 16) >= 0
    # One for 玉井镇, then the other 2 by 5:1 → 岱岳镇 3, 玉井镇 1.
    assert stored.allocation == {world.town_a: 3, world.town_b: 1} and stored.size == 4
    assert sampling.draw(stored.population, stored.size, stored.seed) == (
        stored.allocation, stored.sample)
    area = db.session.get(Region, world.county)
    assert sampling.fingerprint(spot_checks.population_of(db.session, area, 2026)) \
        == stored.population_sha256
    result = spot_checks.verify(db.session, world.admin, check.id)
    assert result.reproduced and result.matches and result.population_unchanged
    assert result.added == result.removed == []


def test_the_draw_opens_a_round_over_exactly_the_sample_and_is_audited(db, world):
    check = spot_checks.draw(db.session, world.admin, spec(world, due_on=date(2026, 11, 30)),
                             TODAY)
    rnd = db.session.get(Round, check.round_id)
    assert (rnd.kind, rnd.status, rnd.region_code, rnd.due_on) == (
        "spot_check", "open", world.county, date(2026, 11, 30))
    assert rnd.cause == "2026年国家第一次抽查复核" and rnd.starts_on == TODAY
    members = db.session.query(RoundHousehold.household_id).filter_by(round_id=rnd.id).all()
    assert sorted(h for (h,) in members) == sorted(check.sample)
    event = db.session.query(AuditEvent).filter_by(entity="spot_check", action="draw").one()
    assert event.entity_id == str(check.id) and event.user_id == world.users["county_admin"].id
    assert event.changes["seed"] == check.seed and event.changes["sample"] == check.sample


def test_a_second_draw_for_the_same_purpose_is_refused(db, world):
    first = spot_checks.draw(db.session, world.admin, spec(world), TODAY)
    with pytest.raises(SpotCheckDrawn) as refused:
        # The same purpose, typed with full-width letters and other spaces.
        spot_checks.draw(db.session, world.admin,
                         spec(world, purpose="\u3000２０２６年国家第一次抽查复核 ", count=8), TODAY)
    assert refused.value.details == {"spot_check_id": first.id}
    other = spot_checks.draw(db.session, world.admin, spec(world, purpose="2026年省级抽查"),
                             TODAY)
    town = spot_checks.draw(db.session, world.admin, spec(world, area_code=world.town_a), TODAY)
    assert len({first.id, other.id, town.id}) == 3
    assert db.session.query(Round).filter_by(kind="spot_check").count() == 3


def test_two_draws_at_the_same_moment_cannot_both_succeed(db, world, monkeypatch):
    spot_checks.draw(db.session, world.admin, spec(world), TODAY)
    # The second sees no earlier draw, as if both had checked before either stored its own.
    monkeypatch.setattr("backend.services.spot_checks.draws._existing", lambda *a: None)
    with pytest.raises(SpotCheckDrawn):
        spot_checks.draw(db.session, world.admin, spec(world), TODAY)
    assert db.session.query(SpotCheck).count() == 1
    assert db.session.query(Round).filter_by(kind="spot_check").count() == 1


def test_verify_tells_a_changed_population(db, world):
    check = spot_checks.draw(db.session, world.admin, spec(world), TODAY,
                             make_seed=lambda: "0123456789abcdef")
    gone = db.session.scalar(select(Case).where(
        Case.household_id == check.sample[0], Case.year == 2026))
    gone.status = "cancelled"
    late = factories.case(db.session, factories.household(db.session, world.village_a1),
                          status="planned")
    db.session.commit()
    result = spot_checks.verify(db.session, world.admin, check.id)
    assert result.reproduced  # the stored population still gives the stored sample
    assert not result.matches and not result.population_unchanged
    assert result.removed == [check.sample[0]] and result.added == [late.household_id]
    assert check.sample[0] not in result.sample and result.population_size == 8


def test_who_may_draw_and_read(db, world):
    w = world
    with pytest.raises(Forbidden):
        spot_checks.draw(db.session, Actor.of(w.users["town_reviewer"]),
                         spec(w, area_code=w.town_a), TODAY)
    check = spot_checks.draw(db.session, w.admin, spec(w, area_code=w.town_b), TODAY)
    assert spot_checks.get_draw(db.session, Actor.of(w.users["auditor"]), check.id) == check
    for role in ("finance", "inspector", "town_reviewer"):
        with pytest.raises(Forbidden):
            spot_checks.get_draw(db.session, Actor.of(w.users[role]), check.id)
    town_auditor = Actor.of(factories.user(db.session, "auditor", [w.town_a]))
    with pytest.raises(OutsideScope):
        spot_checks.get_draw(db.session, town_auditor, check.id)
    assert spot_checks.list_draws(db.session, town_auditor) == []
    with pytest.raises(OutsideScope):
        spot_checks.draw(db.session, Actor.of(factories.user(db.session, "county_admin",
                                                              [w.town_a])),
                         spec(w, area_code=w.town_b), TODAY)


@pytest.mark.parametrize("over,field", [
    ({"count": 0}, "count"), ({"count": 10_001}, "count"), ({"count": None}, "count"),
    ({"count": None, "percent": Decimal("0")}, "percent"),
    ({"count": None, "percent": Decimal("100.01")}, "percent"),
    ({"count": None, "percent": Decimal("3.125")}, "percent"),
    ({"percent": Decimal("5")}, "count"), ({"year": 1999}, "year"), ({"year": 2101}, "year"),
    ({"purpose": "   "}, "purpose"), ({"purpose": "抽" * 101}, "purpose"),
    ({"area_code": "140621100201"}, "area_code"), ({"year": 2024}, "year"),
])
def test_bounds_are_refused(db, world, over, field):
    with pytest.raises(InvalidInput) as refused:
        spot_checks.draw(db.session, world.admin, spec(world, **over), TODAY)
    assert field in refused.value.fields
    assert db.session.query(SpotCheck).count() == 0 and db.session.query(Round).count() == 0


def test_households_are_never_drawn_twice_and_the_sample_lists_them(db, world):
    check = spot_checks.draw(db.session, world.admin, spec(world, count=None,
                                                           percent=Decimal("100")), TODAY)
    assert check.size == 8 and len(set(check.sample)) == 8
    rows = spot_checks.sample_rows(db.session, check)
    assert [r.number for r in rows] == list(range(1, 9))
    assert {r.town_name for r in rows} == {"岱岳镇", "玉井镇"}
    assert all(r.case.year == 2026 for r in rows)
    assert {r.household.id for r in rows} == set(check.sample)
    assert db.session.get(Household, rows[0].household.id).name == rows[0].household.name
