import base64
import hashlib
import json

from backend.extensions import object_store
from backend.models import (
    ApiToken,
    ChecklistTemplate,
    Household,
    Photo,
    Round,
    RoundHousehold,
    User,
    Visit,
)
from backend.storage.keys import original_key
from tests import factories, images
from tests.api.test_photos import put_photo


def test_seed_demo_builds_a_county_once(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "county_admin" in result.output and "inspector" in result.output
    assert db.session.query(Household).filter(Household.village_code.like("140621%")).count() \
        == 300
    assert_money_examples(db)
    assert_ranking_examples(db)
    assert {u.role for u in db.session.query(User)} == {
        "inspector", "village_cadre", "town_reviewer", "county_admin", "auditor", "finance",
        "department"}
    # This quarter's routine survey of 岱岳镇 is open, its target households assigned.
    rnd = db.session.query(Round).one()
    assert rnd.status == "open" and rnd.kind == "routine" and "季度常规排查" in rnd.name
    rows = db.session.query(RoundHousehold).filter_by(round_id=rnd.id).all()
    inspector = db.session.query(User).filter_by(role="inspector").one()
    assert rows and {r.inspector_id for r in rows} == {inspector.id}
    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "not seeded" in again.output
    assert db.session.query(Household).count() == 303  # and three in the 郯城 village


def test_seed_demo_refuses_a_county_too_small_for_its_examples(app, db):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--households", "40"])
    assert result.exit_code == 2 and "60<=x" in result.output
    assert db.session.query(Household).count() == 0


def assert_ranking_examples(db):
    """The two past weeks' snapshots name 玉井镇 twice in a row; this week a third time."""
    from backend.models import RankingSnapshot
    from backend.models.base import china_today
    from backend.services.policy import Actor
    from backend.services.reports import ranking

    taken = db.session.query(RankingSnapshot).filter(RankingSnapshot.taken_by.is_not(None)) \
        .order_by(RankingSnapshot.week_start).all()
    assert [[(r["town_name"], r["consecutive"]) for r in s.rows if r["named"]]
            for s in taken] == [[("玉井镇", 1)], [("玉井镇", 2)]]
    admin = Actor.of(db.session.query(User).filter_by(username="admin").one())
    now = ranking.ranking(db.session, admin, "140621000000", china_today(), china_today())
    assert [(r["town_name"], r["consequence"]) for r in now.named] == [("玉井镇", "admonition")]


def assert_money_examples(db):
    """The demo shows a justified area, an advance, an overdue balance and a recovery."""
    from datetime import date

    from backend.models import CaseStep, Payment, Recovery
    from backend.services.policy import Actor
    from backend.services.subsidies import ledger

    justified = [s for s in db.session.query(CaseStep).filter_by(action="approve")
                 if any(p.get("justification") for p in s.data.get("policy", []))]
    assert justified and justified[0].data["policy"][0]["rule"] == "per_person_area_floor"
    assert {p.tranche for p in db.session.query(Payment)} >= {"advance", "recovery"}
    recovery = db.session.query(Recovery).one()
    assert recovery.amount_yuan == 12500 and recovery.outstanding_yuan == 7500
    finance = Actor.of(db.session.query(User).filter_by(role="finance").one())
    late = [i for i in ledger.due_items(db.session, finance, date.today())
            if i.overdue(date.today())]
    assert any(i.due.tranche.code == "balance" for i in late)


def test_create_user_and_bad_region(app, db):
    factories.world(db.session)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["create-user", "zhang", "--name", "张工", "--role", "inspector",
                             "--region", "140621100000", "--password", "long-enough-1"])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(args=["create-user", "li", "--name", "李工", "--role", "inspector",
                              "--region", "999999999999", "--password", "long-enough-1"])
    assert bad.exit_code != 0 and "区划" in bad.output


def test_import_households_command(app, db, tmp_path):
    factories.world(db.session)
    path = tmp_path / "ledger.csv"
    path.write_text(f"户主姓名,身份证号,村\n张三,{factories.id_number()},东坪村\n"
                    "李四,110105194912310021,东坪村\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["import-households", str(path),
                                                "--as-user", "county_admin"])
    assert result.exit_code == 0, result.output
    assert "1 of 2 rows imported, 1 rejected" in result.output
    assert "校验位" in result.output


def test_load_checklists_is_idempotent(app, db):
    runner = app.test_cli_runner()
    loaded = runner.invoke(args=["load-checklists"]).output
    assert "rebuild v1" in loaded and "appraisal v1" in loaded
    assert "up to date" in runner.invoke(args=["load-checklists"]).output
    assert db.session.query(ChecklistTemplate).count() == 5


def test_storage_check_finds_orphans_and_missing_objects(app, client, db):
    w = factories.world(db.session)
    kept = images.make_jpeg(seed=50)
    put_photo(client, w, kept)
    lost = images.make_jpeg(seed=51)
    put_photo(client, w, lost)
    store = object_store()
    store.delete(original_key(hashlib.sha256(lost).hexdigest()))
    orphan = factories.store_orphan(store, images.make_jpeg(seed=52))
    result = app.test_cli_runner().invoke(args=["storage-check"])
    assert result.exit_code == 1
    assert f"object without row: {orphan}" in result.output
    assert "row without object" in result.output and hashlib.sha256(lost).hexdigest() in \
        result.output


def test_storage_check_deletes_orphans_past_the_grace_period(app, client, db):
    w = factories.world(db.session)
    kept = images.make_jpeg(seed=53)
    put_photo(client, w, kept)
    store = object_store()
    orphan = factories.store_orphan(store, images.make_jpeg(seed=54))
    runner = app.test_cli_runner()
    young = runner.invoke(args=["storage-check", "--delete-orphans"])
    assert young.exit_code == 0, young.output
    assert f"object without row: {orphan}" in young.output
    assert "1 orphan objects (0 deleted)" in young.output and store.exists(orphan)
    swept = runner.invoke(args=["storage-check", "--delete-orphans", "--grace-hours", "0"])
    assert f"deleted: {orphan}" in swept.output
    assert "1 orphan objects (1 deleted)" in swept.output
    assert not store.exists(orphan)
    assert store.exists(original_key(hashlib.sha256(kept).hexdigest()))
    assert "0 orphan objects" in runner.invoke(args=["storage-check"]).output


def exported_outbox(w, round_id: int, *, id_number: str) -> dict:
    """What the phone's 导出待上传数据 writes: a house found on the spot, its photo, its survey."""
    ref = "new-5b0c6a0e-1f7e-4f57-9d43-6a1d3c1c2b11"
    photo = images.make_jpeg(seed=901)
    visit_id = "0f4b1c7e-8a3d-4e56-b1a2-c3d4e5f60718"
    photo_id = "7d9e8f10-2b3c-4d5e-8f60-718293a4b5c6"
    started = "2026-11-20T09:00:00+08:00"
    return {"exported_at": "2026-11-20T10:00:00Z",
            "user": {"id": w.users["inspector"].id, "username": "inspector", "name": "测试用户"},
            "items": [
                {"id": visit_id, "type": "visit", "household_id": ref, "status": "pending",
                 "created_at": "2026-11-20T01:20:00Z",
                 "body": {"household_id": ref, "kind": "routine_survey", "phase": "before",
                          "template": {"code": "routine_survey", "version": 1},
                          "round_id": round_id, "outcome": "new_found", "danger_points": [],
                          "started_at": started, "ended_at": "2026-11-20T09:20:00+08:00",
                          "results": [], "photos": [photo_id]}},
                {"id": photo_id, "type": "photo", "household_id": ref, "phase": "before",
                 "visit_id": visit_id, "captured_at": "2026-11-20T01:10:00Z", "lat": 39.52,
                 "lon": 112.81, "accuracy_m": 9, "fix_at": "2026-11-20T01:09:58Z",
                 "sha256": hashlib.sha256(photo).hexdigest(), "size": len(photo),
                 "bytes": base64.b64encode(photo).decode(), "created_at": "2026-11-20T01:10:00Z"},
                {"id": ref, "type": "discovery", "household_id": ref, "round_id": round_id,
                 "created_at": "2026-11-20T01:05:00Z",
                 "body": {"name": "孙有田", "id_number": id_number, "category": "dibao_edge",
                          "village_code": w.village_a2, "lat": 39.52, "lon": 112.81}},
            ]}


def test_import_outbox_replays_a_phone_export_once(app, db, templates, tmp_path):
    w = factories.world(db.session)
    admin = w.headers("county_admin")
    client = app.test_client()
    round_id = client.post("/api/v1/rounds", headers=admin, json={
        "kind": "routine", "name": "2026年第四季度常规排查", "starts_on": "2026-10-01",
        "due_on": "2026-12-31", "area_codes": [w.town_a]}).get_json()["id"]
    number = factories.id_number(seed=812, born="19600101")
    path = tmp_path / "outbox.json"
    path.write_text(json.dumps(exported_outbox(w, round_id, id_number=number)), "utf-8")
    runner = app.test_cli_runner()

    first = runner.invoke(args=["import-outbox", str(path)])
    assert first.exit_code == 0, first.output
    assert "3 of 3 items stored, 0 refused" in first.output
    house = db.session.query(Household).filter_by(id_number=number).one()
    visit = db.session.query(Visit).filter_by(household_id=house.id).one()
    assert visit.outcome == "new_found" and visit.inspector_id == w.users["inspector"].id
    assert db.session.query(Photo).filter_by(household_id=house.id, visit_id=visit.id).count() == 1
    row = db.session.query(RoundHousehold).filter_by(round_id=round_id,
                                                     household_id=house.id).one()
    assert row.found_in_round and row.outcome == "new_found"

    again = runner.invoke(args=["import-outbox", str(path)])
    assert again.exit_code == 0 and again.output.count("服务器已有") == 2, again.output
    assert db.session.query(Photo).filter_by(household_id=house.id).count() == 1
    assert db.session.query(Visit).filter_by(household_id=house.id).count() == 1
    # The import's own token does not outlive it.
    assert db.session.query(ApiToken).filter(ApiToken.revoked_at.is_(None)).count() == len(w.tokens)


def test_import_outbox_reports_refused_items_and_keeps_the_rest(app, db, templates, tmp_path):
    w = factories.world(db.session)
    client = app.test_client()
    round_id = client.post("/api/v1/rounds", headers=w.headers("county_admin"), json={
        "kind": "routine", "name": "应急排查", "starts_on": "2026-10-01", "due_on": "2026-12-31",
        "area_codes": [w.town_a]}).get_json()["id"]
    exported = exported_outbox(w, round_id, id_number="110105194912310021")  # bad check digit
    exported["items"].append({**exported["items"][1], "id": "8e9f0a1b-2c3d-4e5f-8a6b-7c8d9e0f1a2b",
                              "household_id": w.households[w.village_a1].id,
                              "bytes": base64.b64encode(b"not a photo").decode(),
                              "sha256": hashlib.sha256(b"not a photo").hexdigest(),
                              "visit_id": None})
    path = tmp_path / "outbox.json"
    path.write_text(json.dumps(exported), "utf-8")
    result = app.test_cli_runner().invoke(args=["import-outbox", str(path),
                                                "--as-user", "inspector"])
    assert result.exit_code == 1
    assert "校验位" in result.output and "所属新发现农户未能登记" in result.output
    assert "0 of 4 items stored, 4 refused" in result.output
    assert db.session.query(Photo).count() == 0

    for text in ("[1, 2]", '{"items": [1]}', '{"items": [{"type": "visit", "body": null}]}',
                 "not json"):
        bad = tmp_path / "not-an-export.json"
        bad.write_text(text, "utf-8")
        refused = app.test_cli_runner().invoke(args=["import-outbox", str(bad)])
        assert refused.exit_code == 1 and "不是手机导出的待上传数据文件" in refused.output, text
