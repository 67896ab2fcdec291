"""Hostile input (issue 19): exports never hold a formula or break on a stored control
character; text with control characters, ids and numbers beyond a database integer, page sizes
out of range, non-finite numbers and implausible dates are refused with a 4xx, never a 500."""

import io
import uuid
from datetime import date
from decimal import Decimal
from urllib.parse import quote_from_bytes

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from backend.models import Household, Payment, Region, Round, RoundHousehold
from backend.models.spot_check import SpotCheck
from tests import factories, images
from tests.api.test_authorization import world as authorization_world
from tests.web import login_as

FORMULAS = ["=1+1", '=HYPERLINK("http://x.example","y")', "=cmd|' /C calc'!A0",
            "\t=1+1", "\t=HYPERLINK(\"http://x.example\",\"y\")", "\t=cmd|' /C calc'!A0",
            "+1+1", "-2+3", "@SUM(A1:A2)"]
STORED_NOISE = ["王\u0018五", "李\x7f四\x85", "张\ufffe三"]  # accepted before input was checked
EXPORTS = [
    "/api/v1/rounds/{round}/export.xlsx",
    "/api/v1/payments/ledger.xlsx?year=2026",
    "/api/v1/spot-checks/{check}/sample.xlsx",
    "/api/v1/reports/monthly.xlsx?month=2026-11",
    "/api/v1/ranking.xlsx?date=2026-11-04",
    "/review/rounds/{round}/export.xlsx",
    "/review/payments/ledger.xlsx?year=2026",
    "/review/spot-checks/{check}/sample.xlsx",
    "/review/reports/monthly.xlsx?month=2026-11",
    "/review/ranking.xlsx?date=2026-11-04",
]


def store_text(db, w, value: str) -> None:
    """Put `value` straight into every stored text an export shows: names of households,
    villages and towns, a group, an address, a round, a skip reason, a draw, a payee."""
    db.session.execute(update(Household).values(name=value, group_name=value, address=value))
    db.session.execute(update(Region).where(Region.level.in_(("village", "town")))
                       .values(name=value))
    db.session.execute(update(Round).values(name=value))
    db.session.execute(update(RoundHousehold).values(skip_reason=value))
    db.session.execute(update(SpotCheck).values(purpose=value))
    db.session.execute(update(Payment).values(payee_name=value, note=value))
    db.session.commit()


def pay_once(db, w) -> None:
    case = w.paying[w.village_a1]
    db.session.add(Payment(id=str(uuid.uuid4()), case_id=case.id, village_code=w.village_a1,
                           tranche="full", fund_level="central", amount_yuan=Decimal("100.00"),
                           paid_on=date(2026, 11, 3), payee_kind="household", payee_name="王",
                           voucher_id=w.vouchers[w.village_a1],
                           recorded_by=w.users["finance"].id))
    db.session.commit()


def cells(data: bytes):
    book = load_workbook(io.BytesIO(data))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


@pytest.mark.parametrize("url", EXPORTS)
def test_exports_hold_no_formula_and_survive_stored_control_characters(client, db, templates,
                                                                        url):
    w = authorization_world.__wrapped__(db, templates)  # data in every export
    pay_once(db, w)
    url = url.format(round=w.rounds[w.village_a1], check=w.spot_checks[w.village_a1])
    headers = w.headers("county_admin")
    if url.startswith("/review"):
        login_as(client, db, w.users["county_admin"])
        headers = {}
    for value in FORMULAS + STORED_NOISE:
        store_text(db, w, value)
        r = client.get(url, headers=headers)
        assert r.status_code == 200, (value, r.status_code)
        shown = cells(r.data)
        assert [c.coordinate for c in shown if c.data_type == "f"] == []
        texts = [c.value for c in shown if isinstance(c.value, str)]
        if value in FORMULAS:  # kept visibly, behind the quote that marks it as text
            assert any("'" + value.replace("\t", "") in t.replace("\t", "") for t in texts), value
        else:
            assert any(value[0] in t and ("\\x" in t or "\\u" in t) for t in texts), value


# --- control characters in input ------------------------------------------------------------
CONTROL = ["王\u0018五", "a\x00b", "a\x7fb", "a\x85b", "a\ud800b", "a\ufffeb", "a\U0001ffffb"]


@pytest.mark.parametrize("bad", CONTROL)
def test_api_refuses_control_characters_in_text(client, db, bad):
    w = factories.world(db.session)
    before = db.session.scalar(select(Household.id).order_by(Household.id.desc()))
    body = {"village_code": w.village_a1, "name": bad, "id_number": factories.id_number()}
    r = client.post("/api/v1/households", json=body, headers=w.headers("county_admin"))
    assert r.status_code == 422 and "name" in r.get_json()["error"]["fields"]
    h = w.households[w.village_a1]
    for field in ("address", "notes", "group_name"):
        r = client.patch(f"/api/v1/households/{h.id}", json={field: bad},
                         headers=w.headers("county_admin"))
        assert r.status_code == 422 and field in r.get_json()["error"]["fields"], field
    # A URL carries UTF-8 bytes: half a surrogate pair arrives as U+FFFD, which is text.
    query = quote_from_bytes(bad.encode("utf-8", "surrogatepass"))
    r = client.get(f"/api/v1/households?q={query}", headers=w.headers("county_admin"))
    assert r.status_code == (200 if "\ud800" in bad else 422)
    assert db.session.scalar(select(Household.id).order_by(Household.id.desc())) == before


def test_every_schema_bounds_its_own_fields_once_however_often_it_is_made(app):
    """webargs makes an argument schema per request. Each instance bounds its own copy of a
    field; the copy shares the class's validator list, so appending to it grew every field by
    one validator a request for as long as the worker lived."""
    from backend.api.base import BaseSchema, refuse_implausible_date, refuse_unsafe_text

    def every(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from every(sub)

    def validators(schema):
        return {name: list((getattr(f, "inner", None) or f).validators)
                for name, f in schema.fields.items() if not f.dump_only}

    schemas = set(every(BaseSchema))
    assert len(schemas) > 20
    for cls in schemas:
        first = validators(cls())
        for _ in range(3):
            cls()
        assert validators(cls()) == first, cls
        for name, bound in first.items():
            assert bound.count(refuse_unsafe_text) + bound.count(refuse_implausible_date) <= 1, \
                (cls, name)


def test_line_breaks_and_tabs_stay_allowed_in_free_text(client, db):
    w = factories.world(db.session)
    h = w.households[w.village_a1]
    r = client.patch(f"/api/v1/households/{h.id}", json={"notes": "第一行\r\n第二行\t备注"},
                     headers=w.headers("county_admin"))
    assert r.status_code == 200 and r.get_json()["notes"] == "第一行\r\n第二行\t备注"


def test_desk_forms_refuse_control_characters(client, db):
    w = factories.world(db.session)
    csrf = login_as(client, db, w.users["county_admin"])
    r = client.post("/review/households/new", data={
        "csrf": csrf, "village_code": w.village_a1, "name": "王\u0018五",
        "id_number": factories.id_number(), "identities": "dibao"})
    assert r.status_code == 422 and "控制字符" in r.get_data(as_text=True)
    assert client.get("/review/households?q=%18").status_code == 422
    assert db.session.scalar(select(Household).where(Household.name == "王\u0018五")) is None


def test_import_refuses_control_characters(client, db):
    w = factories.world(db.session)
    rows = ["户主姓名,身份证号,村,村民小组",
            f"王\x18五,{factories.id_number()},{w.village_a1},一组",
            f"李四,{factories.id_number()},{w.village_a1},二\x7f组"]
    r = client.post("/api/v1/households/import", headers=w.headers("county_admin"),
                    data={"file": (io.BytesIO("\n".join(rows).encode()), "h.csv")})
    assert r.status_code == 200, r.get_json()
    result = r.get_json()
    assert result["created"] == 0 and result["rejected"] == 2
    assert [sorted(e["fields"]) for e in result["errors"]] == [["name"], ["group_name"]]


# --- integers beyond 64 bits ----------------------------------------------------------------
HUGE = "99999999999999999999"


@pytest.mark.parametrize("path", [
    f"/api/v1/households/{HUGE}", f"/api/v1/cases/{HUGE}", f"/api/v1/cases/{HUGE}/timeline",
    f"/api/v1/rounds/{HUGE}", f"/api/v1/rounds/{HUGE}/progress",
    f"/api/v1/spot-checks/{HUGE}", f"/api/v1/households/{2**31}",
    f"/review/cases/{HUGE}", f"/review/households/{HUGE}", f"/review/rounds/{HUGE}",
])
def test_ids_beyond_a_database_integer_are_not_found(client, db, path):
    w = factories.world(db.session)
    login_as(client, db, w.users["county_admin"])
    r = client.get(path, headers=w.headers("county_admin"))
    assert r.status_code == 404


def test_posts_to_huge_ids_are_not_found(client, db):
    w = factories.world(db.session)
    csrf = login_as(client, db, w.users["county_admin"])
    r = client.post(f"/api/v1/rounds/{HUGE}/close", json={}, headers=w.headers("county_admin"))
    assert r.status_code == 404
    r = client.post(f"/review/cases/{HUGE}/actions", data={"csrf": csrf, "action": "x"})
    assert r.status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/cases", "/api/v1/visits", "/api/v1/rectifications"])
def test_huge_integers_in_queries_are_refused(client, db, path):
    w = factories.world(db.session)
    names = ("household_id",) if path == "/api/v1/cases" else ("household_id", "case_id")
    for name in names:
        for value in (HUGE, "-" + HUGE, str(2**31), "-3e20"):
            r = client.get(path, query_string={name: value}, headers=w.headers("county_admin"))
            assert r.status_code == 422 and name in r.get_json()["error"]["fields"], (name, value)


@pytest.mark.parametrize("number", [1e20, -3e20, 2**63, 10**30])
def test_huge_integers_in_bodies_are_refused(client, db, number):
    w = factories.world(db.session)
    h = w.households[w.village_a1]
    r = client.post(f"/api/v1/households/{h.id}/cases", headers=w.headers("county_admin"),
                    json={"year": number, "method": "修缮加固", "build_mode": "自建"})
    assert r.status_code == 422 and "year" in r.get_json()["error"]["fields"]
    r = client.patch(f"/api/v1/households/{h.id}", json={"rooms": number},
                     headers=w.headers("county_admin"))
    assert r.status_code == 422


def test_desk_queries_with_huge_numbers_fall_back(client, db):
    w = factories.world(db.session)
    login_as(client, db, w.users["county_admin"])
    for path in (f"/review/?page={HUGE}", f"/review/payments?year={HUGE}",
                 f"/review/households?page={HUGE}"):
        assert client.get(path).status_code == 200, path


# --- page size ----------------------------------------------------------------------------
@pytest.mark.parametrize("limit", ["0", "-1", "501", "100000", HUGE, "1e3"])
def test_page_size_out_of_range_is_refused(client, db, limit):
    w = factories.world(db.session)
    for path in ("/api/v1/households", "/api/v1/cases"):
        r = client.get(path, query_string={"limit": limit}, headers=w.headers("county_admin"))
        assert r.status_code == 422 and "limit" in r.get_json()["error"]["fields"], path


def test_the_pager_itself_refuses_a_page_size_out_of_range(db):
    from backend.services.errors import InvalidInput
    from backend.services.pagination import page

    for limit in (0, -1, 100000):
        with pytest.raises(InvalidInput):
            page(db.session, select(Household), [Household.id], cursor=None, limit=limit,
                 key=b"k")


# --- numbers: one validation, strict JSON ---------------------------------------------------
@pytest.mark.parametrize("cell", ["1e400", "1e20", "nan", "inf", "-inf", "-3", "2.5"])
def test_import_refuses_numbers_the_api_refuses(client, db, cell):
    w = factories.world(db.session)
    rows = ["户主姓名,身份证号,村,家庭人口,建房年份",
            f"王五,{factories.id_number()},{w.village_a1},{cell},{cell}"]
    r = client.post("/api/v1/households/import", headers=w.headers("county_admin"),
                    data={"file": (io.BytesIO("\n".join(rows).encode()), "h.csv")})
    assert r.status_code == 200 and r.get_json()["created"] == 0
    assert set(r.get_json()["errors"][0]["fields"]) == {"family_size", "year_built"}
    h = w.households[w.village_a1]
    for field in ("family_size", "year_built"):
        r = client.patch(f"/api/v1/households/{h.id}", headers=w.headers("county_admin"),
                         data=f'{{"{field}": {cell}}}', content_type="application/json")
        assert r.status_code in (400, 422), (field, cell)


def test_a_stored_infinity_never_makes_invalid_json(client, db):
    import json

    w = factories.world(db.session)
    h = w.households[w.village_a1]
    db.session.execute(update(Household).where(Household.id == h.id)
                       .values(floor_area_m2=float("inf"), lat=float("nan")))
    db.session.commit()
    for path in ("/api/v1/households", f"/api/v1/households/{h.id}"):
        r = client.get(path, headers=w.headers("county_admin"))
        assert r.status_code == 200
        emitted = []
        json.loads(r.get_data(as_text=True), parse_constant=emitted.append)
        assert emitted == [], path


# --- plausible dates ------------------------------------------------------------------------
@pytest.mark.parametrize("day", ["0665-10-22", "9999-12-31", "1900-01-01"])
def test_implausible_dates_are_refused(client, db, day):
    w = factories.world(db.session)
    h = w.households[w.village_a1]
    r = client.post(f"/api/v1/households/{h.id}/appraisals", headers=w.headers("inspector"),
                    json={"grade": "D", "appraised_on": day, "appraiser": "鉴定站"})
    assert r.status_code == 422
    message = r.get_json()["error"]["fields"]["appraised_on"]
    assert "1949-10-01" in message
    r = client.post("/api/v1/rounds", headers=w.headers("county_admin"), json={
        "kind": "routine", "name": "排查", "period": "2026Q4", "starts_on": "2026-10-01",
        "due_on": day, "area_codes": [w.town_a], "categories": []})
    assert r.status_code == 422 and "due_on" in r.get_json()["error"]["fields"]
    r = client.put(f"/api/v1/visits/{uuid.uuid4()}", headers=w.headers("inspector"), json={
        "household_id": h.id, "kind": "routine_survey", "phase": "before",
        "template": {"code": "routine_survey"}, "outcome": "safe",
        "started_at": f"{day}T10:00:00+08:00", "ended_at": f"{day}T10:30:00+08:00"})
    assert r.status_code == 422


def test_desk_round_form_refuses_implausible_dates(client, db):
    w = factories.world(db.session)
    csrf = login_as(client, db, w.users["county_admin"])
    r = client.post("/review/rounds", data={
        "csrf": csrf, "kind": "routine", "name": "排查", "period": "2026Q4",
        "starts_on": "0665-10-22", "due_on": "9999-12-31", "area": w.town_a})
    assert r.status_code == 422 and "1949-10-01" in r.get_data(as_text=True)
    assert db.session.scalar(select(Round)) is None


# --- import: bounded reading ----------------------------------------------------------------
def test_import_over_the_row_cap_is_refused_while_reading_and_keeps_nothing(
        app, client, db, monkeypatch):
    w = factories.world(db.session)
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 5)
    before = db.session.query(Household).count()
    rows = ["户主姓名,身份证号,村"] + [f"户{i},{factories.id_number()},{w.village_a1}"
                                   for i in range(6)]
    r = client.post("/api/v1/households/import", headers=w.headers("county_admin"),
                    data={"file": (io.BytesIO("\n".join(rows).encode()), "h.csv")})
    assert r.status_code == 422 and r.get_json()["error"]["fields"] == {"file": "行数过多"}
    assert db.session.query(Household).count() == before


def test_import_of_an_xlsx_with_entities_is_refused(client, db):
    from tests.services.test_tables import LAUGHS, with_part, xlsx_bytes

    w = factories.world(db.session)
    data = with_part(xlsx_bytes([["户主姓名", "身份证号", "村"]]), "xl/worksheets/sheet1.xml",
                     lambda body: LAUGHS + body[body.find(b"?>") + 2:])
    r = client.post("/api/v1/households/import", headers=w.headers("county_admin"),
                    data={"file": (io.BytesIO(data), "h.xlsx")})
    assert r.status_code == 422 and "DTD" in r.get_json()["error"]["fields"]["file"]


# --- broken images (the idea of Pillow's corpus, generated here) -------------------------------
def _png_with_bad_crc() -> bytes:
    data = bytearray(images.make_png(64, 48, seed=3))
    data[29] ^= 0xFF  # the IHDR chunk's CRC
    return bytes(data)


def _png_bomb() -> bytes:
    """A small PNG that declares 20,000 × 20,000 pixels of zeros (400 MP, a few hundred KB)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    width = height = 20_000
    rows = zlib.compressobj(9)
    idat = b"".join(rows.compress(b"\0" * (width + 1)) for _ in range(height)) + rows.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0,
                                                                0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


BROKEN_IMAGES = {
    "zero-bytes": b"",
    "wrong-magic": b"\x89PNX\r\n\x1a\n" + b"\0" * 64,
    "jpeg-truncated": images.make_jpeg(800, 600, seed=9)[:5000],
    "jpeg-50000x50000": images.jpeg_header(50_000, 50_000),
    # A whole file (EOI and all) whose header claims far more than its 16x16 of data:
    # libjpeg would fill the rest with grey and only warn.
    "jpeg-640x480-over-16x16": images.jpeg_header(640, 480),
    "png-50000x50000": images.png_header(50_000, 50_000),
    "png-bad-crc": _png_with_bad_crc(),
    "png-truncated": images.make_png(320, 240, seed=4)[:300],
    "png-bomb": _png_bomb(),
}


@pytest.mark.parametrize("name", list(BROKEN_IMAGES))
def test_broken_images_are_refused_and_nothing_is_stored(client, db, name):
    from backend.extensions import object_store
    from backend.models import Photo
    from tests.api.test_photos import put_photo

    w = factories.world(db.session)
    r = put_photo(client, w, BROKEN_IMAGES[name])
    assert 400 <= r.status_code < 500, (name, r.status_code, r.get_json())
    if "truncated" in name or "over" in name:
        assert (r.status_code, r.get_json()["error"]["code"]) == (422, "corrupt_image")
    assert db.session.query(Photo).count() == 0
    assert list(object_store().list("photos/")) == []
