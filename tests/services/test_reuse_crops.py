"""Issue 20: the same photo filed under another household after cropping up to a fifth from
any edge or corner is flagged, both ways round; distinct houses of one village style, drawn
from the same angle (tests/houses.py), are not."""

import pytest
from sqlalchemy import event

from tests import factories
from tests.api.test_photos import flag_codes, put_photo, set_photo_rules
from tests.houses import crop, draw_house, jpeg

EDGES = [{"left": 1}, {"right": 1}, {"top": 1}, {"bottom": 1},
         {"left": 1, "top": 1}, {"right": 1, "top": 1}, {"left": 1, "bottom": 1},
         {"right": 1, "bottom": 1}]


@pytest.fixture
def world(db):
    return factories.world(db.session)


def cropped(seed: int, edges: dict, amount: float) -> bytes:
    return jpeg(crop(draw_house(seed), **{k: v * amount for k, v in edges.items()}), 70)


def reuse_matches(response) -> list[dict]:
    flag = next((f for f in response.get_json()["flags"] if f["code"] == "reused_elsewhere"),
                None)
    return flag["details"]["matches"] if flag else []


@pytest.mark.parametrize("amount", [0.05, 0.12, 0.2])
@pytest.mark.parametrize("edges", EDGES, ids=lambda e: "+".join(e))
def test_a_cropped_copy_under_another_household_is_flagged(client, world, edges, amount):
    seed = 100 + EDGES.index(edges)
    first = put_photo(client, world, jpeg(draw_house(seed)), village=world.village_a1)
    copy = put_photo(client, world, cropped(seed, edges, amount), village=world.village_a2)
    [match] = reuse_matches(copy)
    assert match["photo_id"] == first.get_json()["id"]
    # A fifth cut away moves the whole-frame hash too far: only the windows find it.
    assert match.get("cropped") is (True if amount == 0.2 else match.get("cropped"))
    again = client.get(f"/api/v1/photos/{first.get_json()['id']}",
                       headers=world.headers("inspector"))
    [back] = reuse_matches(again)
    assert back["photo_id"] == copy.get_json()["id"]
    assert back.get("cropped") == match.get("cropped")  # both sides say how
    if match.get("cropped"):
        assert match["distance"] <= match["limit"] == 4


@pytest.mark.parametrize("edges", EDGES[::3], ids=lambda e: "+".join(e))
def test_the_original_filed_after_its_crop_is_flagged(client, world, edges):
    seed = 120 + EDGES.index(edges)
    copy = put_photo(client, world, cropped(seed, edges, 0.18), village=world.village_a1)
    original = put_photo(client, world, jpeg(draw_house(seed), 90), village=world.village_a2)
    [match] = reuse_matches(original)
    assert match["photo_id"] == copy.get_json()["id"] and match["cropped"] is True


def test_a_crop_under_the_same_household_is_not_reuse(client, world):
    put_photo(client, world, jpeg(draw_house(130)))
    assert "reused_elsewhere" not in flag_codes(
        put_photo(client, world, cropped(130, {"left": 1}, 0.1)))


def test_distinct_houses_of_one_style_and_angle_are_not_flagged(client, world):
    # 13 houses under one household and 13 under another: 169 pairs of distinct photos of
    # similar scenes across households, none of them the same picture.
    responses = [put_photo(client, world, jpeg(draw_house(seed)),
                           village=world.village_a1 if seed % 2 else world.village_a2)
                 for seed in range(200, 226)]
    assert [r.status_code for r in responses] == [201] * 26
    flagged = [r.get_json()["id"] for r in responses if reuse_matches(r)]
    assert flagged == []


def test_window_distances_count_every_bit_of_hashes_of_either_sign():
    # Stored hashes are signed 64-bit: the top bit (the DC term) differs between a dark and a
    # light window, and numpy counts an int64's bits by its absolute value.
    import numpy as np

    from backend.services.photos.crops import nearest
    from backend.services.photos.perceptual import hamming

    family = (0, 1, -1, -(1 << 63) | 7, (1 << 63) - 1, 0x0123456789ABCDEF)
    stored = [-(1 << 63) | 7, -1, 0, 5, -0x0123456789ABCDEF, (1 << 62) | 3]
    assert nearest(np.array(stored, dtype=np.int64), family).tolist() == \
        [min(hamming(s, f) for f in family) for s in stored]
    assert nearest(np.array([-(1 << 63) | 7], dtype=np.int64), (7,)).tolist() == [1]


def test_the_flag_names_each_look_alike_with_its_numbers_and_how_it_was_copied():
    from types import SimpleNamespace

    from backend.display import flag_detail
    from backend.services.photos.flags import PhotoRef

    flag = SimpleNamespace(code="reused_elsewhere", details={"matches": [
        {"photo_id": "a", "distance": 3, "limit": 4, "cropped": True},
        {"photo_id": "b", "distance": 0, "limit": 6, "mirrored": True},
        {"photo_id": "c", "distance": 2, "cropped": True}]})  # stored before the limit was
    refs = {"a": PhotoRef("a", "王建国", 3), "b": PhotoRef("b", "李秀英", 1)}
    assert flag_detail(flag, refs) == (
        "与其他农户的 3 张照片高度近似，疑为同一张照片用于多户。"
        "王建国户 3号照片：画面特征（64 位）相差 3 位，在 4 位以内即列为疑似重复；"
        "两张之一裁去了部分边缘。"
        "李秀英户 1号照片：画面特征（64 位）相差 0 位，在 6 位以内即列为疑似重复；左右镜像翻转。"
        "辖区以外农户的照片：画面特征（64 位）相差 2 位；两张之一裁去了部分边缘")
    assert "另一农户的照片：" in flag_detail(flag)  # no names to hand: no outside-area claim


def test_a_negative_crop_distance_turns_the_cropped_copy_lookup_off(app, client, world, db,
                                                                     monkeypatch):
    set_photo_rules(app, monkeypatch, crop_distance=-1)
    put_photo(client, world, jpeg(draw_house(140)), village=world.village_a1)
    statements = []
    listen = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        copy = put_photo(client, world, cropped(140, {"left": 1, "top": 1}, 0.2),
                         village=world.village_a2)
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    assert copy.status_code == 201 and reuse_matches(copy) == []
    lookups = [s for s in statements if s.lstrip().startswith("SELECT") and "photo_windows" in s]
    assert lookups == []
    assert any(s.lstrip().startswith("INSERT INTO photo_windows") for s in statements)


def test_the_window_lookup_reads_each_kinds_key_index_alone(client, world, db):
    """Each of the twelve branches of the key lookup looks its keys up in its kind's partial
    index (models.window_key_index) and reads nothing else: a kind bound as a parameter, an
    index without the kind on SQLite, or a key test SQLAlchemy writes as `... = 1` would each
    leave a branch scanning an index or the table instead."""
    import random
    import re
    from types import SimpleNamespace

    from sqlalchemy import insert, text

    from backend.models import PhotoWindow
    from backend.models.photo import WINDOW_KINDS
    from backend.services.photos import reuse
    from backend.services.photos.crops import CropHashes

    # A few thousand windows with their statistics, as a county has: on an empty or
    # unanalysed table every index costs the same, and PostgreSQL may pick any of them.
    photo = SimpleNamespace(id=put_photo(client, world, jpeg(draw_house(7))).get_json()["id"],
                            household_id=world.households[world.village_a1].id)
    pick = random.Random(20)
    signed = lambda: pick.getrandbits(64) - (1 << 63)  # noqa: E731
    db.session.execute(insert(PhotoWindow), [
        row for _ in range(1500)
        for row in reuse.window_rows(photo, CropHashes(centre=signed(), frame=signed()))])
    db.session.execute(text("ANALYZE photo_windows"))
    branches = [(kind, i) for kind in WINDOW_KINDS for i in range(6)]
    statement = reuse._KEYED.compile(dialect=db.engine.dialect)
    # Only the key lists are bound: the kinds are written into the statement.
    assert set(statement.params) == {f"{kind}_k{i}" for kind, i in branches}
    keys = {name: reuse._Keys().process_bind_param([1, 2, 3], db.engine.dialect)
            for name in statement.params}
    connection = db.session.connection()
    if db.engine.dialect.name == "postgresql":
        # The rows are this transaction's own, so no page is all-visible yet and a bitmap
        # scan looks cheaper than it is on a vacuumed table: leave only the index scans.
        for setting in ("enable_seqscan", "enable_bitmapscan"):
            db.session.execute(text(f"SET LOCAL {setting} = off"))
        plan = "\n".join(connection.exec_driver_sql(f"EXPLAIN {statement}", keys).scalars())
        assert len(re.findall(r"Scan", plan)) == len(branches), plan
        for kind, i in branches:
            assert re.search(rf"Index (Only )?Scan using ix_photo_windows_{kind}_k{i} on "
                             rf"photo_windows.*\n\s+Index Cond: \(k{i} = ANY", plan), plan
    else:
        plan = "\n".join(row[3] for row in connection.exec_driver_sql(
            f"EXPLAIN QUERY PLAN {statement}", tuple(keys[n] for n in statement.positiontup)))
        assert "SCAN photo_windows" not in plan, plan
        for kind, i in branches:
            assert (f"SEARCH photo_windows USING COVERING INDEX ix_photo_windows_{kind}_k{i} "
                    f"(k{i}=?)") in plan, plan
    db.session.rollback()


def test_the_window_lookup_leaves_the_callers_transaction_as_it_was(db):
    """PostgreSQL runs the key lookup in one process (no parallel workers); the statements the
    caller runs after it in the same transaction may use them again."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("parallel query is PostgreSQL's")
    from types import SimpleNamespace

    from sqlalchemy import text

    from backend.services.photos.checks import PhotoRules
    from backend.services.photos.crops import crop_hashes
    from backend.services.photos.reuse import cropped_copies

    setting = text("SELECT current_setting('max_parallel_workers_per_gather')")
    before = db.session.scalar(setting)
    assert before != "0"
    seen = []
    listen = lambda conn, cursor, statement, *args: seen.append(  # noqa: E731
        conn.exec_driver_sql("SELECT current_setting('max_parallel_workers_per_gather')")
        .scalar() if "photo_windows" in statement and statement.startswith("SELECT") else None)
    event.listen(db.engine, "after_cursor_execute", listen)
    try:
        found = cropped_copies(db.session, SimpleNamespace(household_id=-1),
                               crop_hashes(draw_house(7)), PhotoRules())
    finally:
        event.remove(db.engine, "after_cursor_execute", listen)
    assert found == [] and [s for s in seen if s is not None] == ["0"]
    assert db.session.scalar(setting) == before
    db.session.rollback()
