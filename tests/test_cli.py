import hashlib

from backend.extensions import object_store
from backend.models import ChecklistTemplate, Household, User
from backend.storage.keys import original_key
from tests import factories, images
from tests.api.test_photos import put_photo


def test_seed_demo_builds_a_county_once(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "county_admin" in result.output and "inspector" in result.output
    assert db.session.query(Household).count() == 300
    assert {u.role for u in db.session.query(User)} == {
        "inspector", "village_cadre", "town_reviewer", "county_admin", "auditor"}
    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "not seeded" in again.output
    assert db.session.query(Household).count() == 300


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
    orphan = images.make_jpeg(seed=52)
    sha = hashlib.sha256(orphan).hexdigest()
    store.put(original_key(sha), orphan, content_type="image/jpeg", sha256=sha)
    result = app.test_cli_runner().invoke(args=["storage-check"])
    assert result.exit_code == 1
    assert f"object without row: {original_key(sha)}" in result.output
    assert "row without object" in result.output and hashlib.sha256(lost).hexdigest() in \
        result.output
