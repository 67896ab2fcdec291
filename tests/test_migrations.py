import pytest
from alembic.script import ScriptDirectory

NOW = "2026-10-01 08:00:00"
TALLIES = "SELECT visited, households FROM round_tallies ORDER BY visited"


def migrating_app(url: str, tmp_path):
    """An app of its own on `url`, for a migration to run through step by step."""
    from backend import create_app

    return create_app({"TESTING": True, "SECRET_KEY": "x", "INSTANCE_DIR": str(tmp_path),
                       "SQLALCHEMY_DATABASE_URI": url,
                       "STORAGE_LOCAL_ROOT": str(tmp_path / "photos")})


def test_migrations_have_a_single_head(app):
    with app.app_context():
        migrate = app.extensions["migrate"]
        config = migrate.migrate.get_config(migrate.directory)
        heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"several Alembic heads: {heads}"


def test_migrations_match_the_models(app, db):
    """Autogenerate against the migrated database finds nothing left to do."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from backend.models.search import compared_by_autogenerate

    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": False, "include_name": compared_by_autogenerate})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_existing_cases_keep_their_stage_and_their_changes_become_outside_steps(tmp_path):
    """0005: a case recorded before the procedure existed stays at its stage; its recorded
    status changes become steps marked as done outside the system (系统外办理), nothing more
    is invented, and the procedure then applies from where it stands."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from backend.extensions import db

    app = migrating_app(f"sqlite:///{tmp_path / 'old.db'}", tmp_path)
    with app.app_context():
        upgrade(revision="0004")
        now = "2026-03-01 08:00:00"
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO regions (code, name, level) VALUES ('140621100201', '东坪村', "
                "'village')"))
            conn.execute(text(
                "INSERT INTO households (id, village_code, name, id_number, id_tail, category, "
                "created_at, updated_at) VALUES (1, '140621100201', '王建国', "
                "'14062119620315001X', '001X', 'dibao', :now, :now)"), {"now": now})
            conn.execute(text(
                "INSERT INTO cases (id, household_id, village_code, year, method, build_mode, "
                "status, started_on, created_at, updated_at) VALUES (1, 1, '140621100201', "
                "2026, '拆除重建', '自建', 'in_progress', '2026-04-02', :now, :now)"), {"now": now})
            for status, day in (("planned", "2026-03-10"), ("in_progress", "2026-04-02")):
                conn.execute(text(
                    "INSERT INTO case_status_changes (case_id, status, effective_on, changed_at) "
                    "VALUES (1, :status, :day, :now)"), {"status": status, "day": day, "now": now})
        upgrade()
        with db.engine.connect() as conn:
            case = conn.execute(text("SELECT status, stage_entered_on, application FROM cases"))\
                .one()
            steps = conn.execute(text(
                "SELECT stage, action, to_stage, effective_on, outside_system FROM case_steps "
                "ORDER BY id")).all()
        db.engine.dispose()
    assert case[0] == "in_progress" and str(case[1]) == "2026-04-02"
    assert [(s[1], s[2], str(s[3]), bool(s[4])) for s in steps] == [
        ("migrated", "planned", "2026-03-10", True),
        ("migrated", "in_progress", "2026-04-02", True)]


def test_the_trigram_revision_is_a_no_op_on_sqlite_and_indexes_names_on_postgresql(
        app, db, tmp_path):
    """0012 (issue 21): pg_trgm's GIN index on PostgreSQL; nothing at all on SQLite."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from backend.extensions import db as _db
    from backend.models.search import NAME_TRIGRAM_INDEX

    if db.engine.dialect.name == "postgresql":
        indexes = db.session.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = "
                                          ":name"), {"name": NAME_TRIGRAM_INDEX}).scalars().all()
        assert len(indexes) == 1 and "gin_trgm_ops" in indexes[0]
    lite = migrating_app(f"sqlite:///{tmp_path / 'lite.db'}", tmp_path)
    with lite.app_context():
        upgrade(revision="0011")
        schema = "SELECT type, name, sql FROM sqlite_master ORDER BY name"
        with _db.engine.connect() as conn:
            before = conn.execute(text(schema)).all()
        upgrade(revision="0012")
        with _db.engine.connect() as conn:
            assert conn.execute(text(schema)).all() == before
        _db.engine.dispose()


def test_0017_keeps_a_rounds_rows_and_its_tallies_on_sqlite(tmp_path):
    """0017 rebuilds round_households on SQLite to drop the village key: the rows stay, and the
    tally triggers made again by it still follow an outcome; the village is no longer checked."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from backend.extensions import db

    app = migrating_app(f"sqlite:///{tmp_path / 'r.db'}", tmp_path)
    with app.app_context():
        upgrade(revision="0016")
        with db.engine.begin() as conn:
            _one_round_of_one_household(conn)
        upgrade(revision="0017")
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM round_households")).scalar() == 1
            conn.execute(text("UPDATE round_households SET visited_at = :now, outcome = 'safe'"),
                         {"now": NOW})
            assert conn.execute(text(TALLIES)).all() == [(0, 0), (1, 1)]
            keys = conn.execute(text("PRAGMA foreign_key_list(round_households)")).all()
        assert "village_code" not in {key[3] for key in keys}
        downgrade(revision="0016")
        with db.engine.connect() as conn:
            keys = conn.execute(text("PRAGMA foreign_key_list(round_households)")).all()
        assert "village_code" in {key[3] for key in keys}
        db.engine.dispose()


def _one_round_of_one_household(conn) -> None:
    """A village, an admin, one household and an open round over it (schema 0016–0017)."""
    from sqlalchemy import text

    _one_household(conn)
    for sql in (
        "INSERT INTO rounds (id, kind, name, starts_on, due_on, region_code, area_codes, "
        "categories, status, opened_by, opened_at) VALUES (1, 'routine', 'r', '2026-10-01', "
        "'2026-12-31', '140621100201', '[]', '[]', 'open', 1, :now)",
        "INSERT INTO round_households (round_id, household_id, village_code, revisit_needed, "
        "found_in_round) VALUES (1, 1, '140621100201', :no, :no)"):
        conn.execute(text(sql), {"now": NOW, "no": False})


def _one_household(conn) -> None:
    """A village, an admin and one household (schema 0016 on)."""
    from sqlalchemy import text

    for sql in (
        "INSERT INTO regions (code, name, level) VALUES ('140621100201', '东坪村', 'village')",
        "INSERT INTO users (id, username, name, role, password_hash, active, created_at) "
        "VALUES (1, 'a', '管理员', 'county_admin', 'x', :yes, :now)",
        "INSERT INTO households (id, village_code, name, id_number, id_tail, id_tail6, "
        "category, identities, created_at, updated_at) VALUES (1, '140621100201', '王建国', "
        "'14062119620315001X', '001X', '15001X', 'dibao', '[\"dibao\"]', :now, :now)"):
        conn.execute(text(sql), {"now": NOW, "yes": True})


@pytest.fixture
def scratch_url(db, tmp_path):
    """An empty database of the kind the suite runs on, for a migration to run through."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    if db.engine.dialect.name != "postgresql":
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    url = make_url(db.engine.url)
    url = url.set(database=f"{url.database}_scratch")
    admin = create_engine(url.set(database=make_url(db.engine.url).database),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}"'))
        conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    yield url.render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    admin.dispose()


def test_0018_moves_rounds_into_partitions_and_back_keeping_rows_tallies_and_keys(
        scratch_url, tmp_path):
    """0018 gives each round a partition on PostgreSQL and the round and household as the
    key on both databases: the rows stay, the remade tally triggers follow an outcome, a
    missing household is still refused; the downgrade brings back the row number."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect, text
    from sqlalchemy.exc import IntegrityError

    from backend.extensions import db

    app = migrating_app(scratch_url, tmp_path)
    with app.app_context():
        upgrade(revision="0017")
        with db.engine.begin() as conn:
            _one_round_of_one_household(conn)
        upgrade(revision="0018")
        postgres = db.engine.dialect.name == "postgresql"
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM round_households")).scalar() == 1
            conn.execute(text("UPDATE round_households SET visited_at = :now, outcome = 'safe'"),
                         {"now": NOW})
            assert [tuple(map(int, t)) for t in conn.execute(text(TALLIES))] == [(0, 0), (1, 1)]
            assert inspect(conn).get_pk_constraint("round_households")["constrained_columns"] \
                == ["round_id", "household_id"]
            if postgres:
                assert conn.execute(text(
                    "SELECT count(*) FROM round_households_1")).scalar() == 1
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO round_households (round_id, household_id, village_code, "
                "revisit_needed, found_in_round) VALUES (1, 2, '140621100201', :no, :no)"),
                {"no": False})
        downgrade(revision="0017")
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT id, outcome FROM round_households")).all() \
                == [(1, "safe")]
            assert "id" in {c["name"] for c in inspect(conn).get_columns("round_households")}
            if postgres:
                assert not inspect(conn).has_table("round_households_1")
        db.engine.dispose()


def test_0020_computes_the_window_keys_in_sql_as_python_does_and_back(scratch_url, tmp_path):
    """0020 fills each window's six band keys with SQL shifts and masks: they equal
    crops.window_keys for hashes with the top bit set (stored negative) and at the bands'
    edges; the downgrade brings back the 16-bit bands hash_bands gives."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from backend.extensions import db
    from backend.services.photos.checks import hash_bands
    from backend.services.photos.crops import window_keys

    hashes = [0, 1, -1, -(1 << 63), (1 << 63) - 1, 0x0123456789ABCDEF, -0x0123456789ABCDEF,
              1 << 10, 1 << 11, 1 << 53, 1 << 54, -(1 << 54), 0x7FF, -0x7FF]
    app = migrating_app(scratch_url, tmp_path)
    with app.app_context():
        upgrade(revision="0019")
        with db.engine.begin() as conn:
            _one_household(conn)
            conn.execute(text(
                "INSERT INTO photos (id, household_id, village_code, number, phase, sha256, "
                "bytes, width, height, format, mime, phash, phash_b0, phash_b1, phash_b2, "
                "phash_b3, large_is_original, received_at, uploaded_by) VALUES ('p', 1, "
                "'140621100201', 1, 'before', 's', 1, 1, 1, 'jpeg', 'image/jpeg', 0, 0, 0, 0, "
                "0, :no, :now, 1)"), {"no": False, "now": NOW})
            conn.execute(text(
                "INSERT INTO photo_windows (id, photo_id, household_id, kind, phash, b0, b1, "
                "b2, b3) VALUES (:id, 'p', 1, 'centre', :phash, :b0, :b1, :b2, :b3)"),
                [{"id": i + 1, "phash": h, **{f"b{j}": b for j, b in enumerate(hash_bands(h))}}
                 for i, h in enumerate(hashes)])
        upgrade(revision="0020")
        keys = ", ".join(f"k{i}" for i in range(6))
        with db.engine.connect() as conn:
            stored = conn.execute(text(f"SELECT phash, {keys} FROM photo_windows ORDER BY id"))
            assert [(h, *k) for h, *k in stored] == [(h, *window_keys(h)) for h in hashes]
        downgrade(revision="0019")
        with db.engine.connect() as conn:
            stored = conn.execute(text("SELECT phash, b0, b1, b2, b3 FROM photo_windows "
                                       "ORDER BY id"))
            assert [(h, *b) for h, *b in stored] == [(h, *hash_bands(h)) for h in hashes]
        db.engine.dispose()
