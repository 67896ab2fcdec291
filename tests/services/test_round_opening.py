"""Opening rounds (issue 21): on PostgreSQL each round's households are a partition filled and
then attached (services/rounds/partitions.py); on SQLite they go straight into the table. Either
way each round keeps its own rows and tallies, keys still hold, two openings at once both
succeed, and an opening that cannot get its locks in time stores nothing."""

import threading

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError

from backend.models import Round, RoundHousehold, RoundTally, User
from backend.services import rounds
from backend.services.policy import Actor
from backend.services.rounds import partitions
from tests.api.test_rounds import open_round
from tests.services.test_round_progress import recount, shown, town_with_households

SPEC = dict(kind="routine", name="2026年第四季度常规排查", period="2026Q4", categories=[])


@pytest.fixture
def world(db, templates):
    return town_with_households(db.session)


def reviewer(db, w) -> Actor:
    return Actor.of(db.session.get(User, w.users["town_reviewer"].id))


def test_a_round_opened_twice_over_keeps_each_rounds_rows_and_keys(client, db, world):
    """The tallies count each round's rows at once, a second round beside the first counts
    only its own, and the rows' keys still refuse a household that does not exist."""
    first = open_round(client, world).get_json()
    second = open_round(client, world).get_json()
    totals = []
    for rnd in (first, second):
        report = rounds.progress(db.session, reviewer(db, world), rnd["id"])
        assert shown(report) == recount(db, rnd["id"])
        totals.append(report.totals.total)
    assert totals[0] == totals[1] >= 6
    if db.engine.dialect.name == "postgresql":
        partitions_ = db.session.execute(text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'round_households'::regclass")).scalars().all()
        assert {f"round_households_{first['id']}",
                f"round_households_{second['id']}"} <= set(partitions_)
    with pytest.raises(IntegrityError):
        db.session.execute(text(
            "INSERT INTO round_households (round_id, household_id, village_code, "
            "revisit_needed, found_in_round) VALUES (:r, 999999, :v, false, false)"),
            {"r": second["id"], "v": world.village_a1})
        db.session.flush()
    db.session.rollback()


def test_two_rounds_opened_at_once_both_open(app, db, world):
    """Each opening waits at a barrier once its round's row is written: without taking turns,
    both would then hold what the other's attach waits for, and PostgreSQL would end one."""
    from datetime import date

    db.session.commit()
    user_id = world.users["town_reviewer"].id
    written = threading.Barrier(2)
    opened, failed = [], []

    def after(conn, cursor, statement, *args):
        if statement.startswith("INSERT INTO rounds "):
            try:
                written.wait(timeout=2)  # the other opening may be waiting for its turn
            except threading.BrokenBarrierError:
                pass

    def open_one(quarter: int):
        with app.app_context():
            try:
                actor = Actor.of(db.session.get(User, user_id))
                rnd = rounds.open_round(db.session, actor, rounds.RoundSpec(
                    **{**SPEC, "name": f"2026年第{quarter}季度常规排查"},
                    starts_on=date(2026, 3 * quarter - 2, 1), due_on=date(2026, 12, 31),
                    area_codes=[world.town_a]))
                opened.append(rnd.id)
            except Exception as error:  # noqa: BLE001 - the test reports what went wrong
                failed.append(repr(error))
            finally:
                db.session.remove()

    event.listen(db.engine, "after_cursor_execute", after)
    try:
        threads = [threading.Thread(target=open_one, args=(q,)) for q in (3, 4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        event.remove(db.engine, "after_cursor_execute", after)
    assert failed == [] and len(opened) == 2
    for round_id in opened:
        report = rounds.progress(db.session, reviewer(db, world), round_id)
        assert shown(report) == recount(db, round_id) and report.totals.total >= 6


def test_an_opening_that_cannot_attach_in_time_stores_nothing(
        app, client, db, world, monkeypatch):
    """A write under way on households holds up the attach; past the wait the opening is
    refused with 409 and neither the round, its rows nor its tallies remain."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("partitions and their attach are PostgreSQL's")
    monkeypatch.setattr(partitions, "ATTACH_LOCK_WAIT", "200ms")
    db.session.commit()
    with db.engine.connect() as other:
        other.execute(text("UPDATE households SET name = name WHERE id = (SELECT min(id) "
                           "FROM households)"))
        r = open_round(client, world)
        other.rollback()
    assert r.status_code == 409, r.get_json()
    assert r.get_json()["error"]["code"] == "conflict"
    assert "请稍后再试" in r.get_json()["error"]["message"]
    db.session.expire_all()
    assert db.session.query(Round).count() == 0
    assert db.session.query(RoundHousehold).count() == 0
    assert db.session.query(RoundTally).count() == 0
    assert open_round(client, world).status_code == 201
