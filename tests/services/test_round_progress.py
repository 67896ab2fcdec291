"""Round progress (issue 21): after any sequence of outcomes, the figures per village equal a
recount of the round's rows."""

import random
from collections import Counter

import pytest

from backend.models import RoundHousehold, User
from backend.services import rounds
from backend.services.policy import Actor
from backend.vocabulary import OUTCOME_LABELS, UNCHECKED_OUTCOMES
from tests import factories
from tests.api.test_rounds import open_round, survey


def town_with_households(session):
    """The round world with six more households in its second village."""
    w = factories.round_world(session)
    for n in range(6):
        factories.household(session, w.village_a2, name=f"钱{n}")
    return w


@pytest.fixture
def world(db, templates):
    return town_with_households(db.session)


def recount(db, round_id: int) -> dict[str, dict]:
    """Each village's figures counted row by row in Python."""
    villages: dict[str, dict] = {}
    for row in db.session.query(RoundHousehold).filter_by(round_id=round_id):
        v = villages.setdefault(row.village_code, {"counts": Counter(), "outcomes": Counter()})
        checked = row.visited_at is not None and row.outcome not in UNCHECKED_OUTCOMES
        v["counts"].update(total=1, visited=checked, unvisited=not checked,
                           revisit_needed=row.revisit_needed, found=row.found_in_round)
        if row.outcome:
            v["outcomes"][row.outcome] += 1
    return villages


def shown(report) -> dict[str, dict]:
    return {v.village_code: {
        "counts": Counter({k: getattr(v, k) for k in ("total", "visited", "unvisited",
                                                       "revisit_needed", "found")}),
        "outcomes": Counter({k: n for k, n in v.outcomes.items() if n})}
        for v in report.villages}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_progress_after_any_sequence_of_outcomes_equals_a_recount(client, db, world, seed):
    rng = random.Random(seed)
    rnd = open_round(client, world).get_json()
    household_ids = [r.household_id for r in
                     db.session.query(RoundHousehold).filter_by(round_id=rnd["id"])]
    reviewer = Actor.of(db.session.get(User, world.users["town_reviewer"].id))
    accepted = Counter()
    for step in range(24):
        minutes_ago = rng.choice([5, 30, 90])  # some arrive older than what is recorded
        r = survey(client, world, rnd["id"], rng.choice(household_ids),
                   rng.choice(list(OUTCOME_LABELS)), minutes_ago=minutes_ago + step)
        # An outcome that needs a photo is refused (422): a step that changes nothing.
        assert r.status_code in (200, 201, 422), r.get_json()
        accepted[r.status_code] += 1
        db.session.expire_all()
        report = rounds.progress(db.session, reviewer, rnd["id"])
        assert shown(report) == recount(db, rnd["id"])
        assert report.totals.visited == sum(v.visited for v in report.villages)
        assert len(report.unvisited) == report.totals.unvisited
    assert accepted[201] >= 4  # the sequence did record outcomes


def test_progress_follows_a_household_moved_to_another_village(client, db, world):
    rnd = open_round(client, world).get_json()
    row = db.session.query(RoundHousehold).filter_by(round_id=rnd["id"]).first()
    survey(client, world, rnd["id"], row.household_id, "safe")
    target = world.village_a2 if row.village_code == world.village_a1 else world.village_a1
    r = client.patch(f"/api/v1/households/{row.household_id}", json={"village_code": target},
                     headers=world.headers("town_reviewer"))
    assert r.status_code == 200, r.get_json()
    db.session.expire_all()
    reviewer = Actor.of(db.session.get(User, world.users["town_reviewer"].id))
    report = rounds.progress(db.session, reviewer, rnd["id"])
    assert shown(report) == recount(db, rnd["id"])
    assert report.totals.total == 6 + 6 and report.totals.visited == 1

