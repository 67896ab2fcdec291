"""Benchmark: list and search the households of a 50,000-household county.

Through the real API stack (routing, token check, area scope, SQL, schema dump), as a county
admin (whole county) and as an inspector (one town). Aim (issues 2 and 21): p95 under 50 ms at
up to 1,000,000 households, also for the worst cases (a name that matches one household or
none, a 6-digit ID tail, a cursor page in the middle), a constant number of SQL statements per
request whatever the data, and the households loaded in under two minutes.

    .venv/bin/python bench/households.py [--households 50000] [--db postgresql://...]
"""

import argparse
import json
import random
import time
from datetime import date

from common import (
    HEADER,
    Phases,
    bench_app,
    bulk_insert,
    engine_name,
    measure,
    refresh_statistics,
    row,
    stored_now,
)
from sqlalchemy import func, insert, select

from backend.api.base import cursor_key
from backend.demo import GIVEN, SURNAMES
from backend.extensions import db
from backend.models import Appraisal, Case, Household, Region
from backend.models.region import code_range, level_of
from backend.services.households import SORT
from backend.services.ids import check_char
from backend.services.pagination import encode_cursor
from tests import factories

CATEGORIES = ["lifted_supported", "dibao", "tekun", "edge_at_risk", "dibao_edge", "ordinary",
              "ordinary", "ordinary"]


ONE_OF_A_KIND = "上官婉儿"  # a compound surname the generator never draws: one household
NOBODY = "欧阳修文"  # nobody is called this
IDENTITIES = {c: json.dumps([] if c == "ordinary" else [c]) for c in CATEGORIES}
COLUMNS = ["village_code", "name", "id_number", "id_tail", "id_tail6", "group_name", "category",
           "identities", "created_at", "updated_at"]


def build(households: int, phases: Phases, villages_per_town: int = 60):
    """Two towns of villages (world() adds its own four), then bulk households and cases."""
    session = db.session
    w = factories.world(session)
    villages = []
    for town in (w.town_a, w.town_b):
        for v in range(villages_per_town):
            code = f"{town[:9]}{300 + v:03d}"
            session.add(Region(code=code, name=f"{v}号村", level="village", parent_code=town))
            villages.append(code)
    session.commit()
    rng = random.Random(11)
    names = []
    with phases("generate"):
        rows = list(_households(households, villages, rng, names))
    bulk_insert("households", COLUMNS, rows, phases)
    with phases("cases"):
        add_cases(session, rng, households * 3 // 100)  # ~3% have a renovation case
    with phases("statistics"):
        refresh_statistics()  # a live database has statistics; so should this
    return names, [r[2] for r in rows[:50]], w


def _households(households: int, villages: list[str], rng: random.Random, names: list[str]):
    """Rows as stored: ID numbers unique by their running number, names drawn from the demo's
    surnames and given names (one compound surname drawn by nobody else)."""
    now = stored_now()
    for n in range(households):
        born = rng.randrange(60 * 9 * 100)  # year 1940-99, month 01-09, day 10-19, and one digit
        body = f"14{n:06d}19{40 + born // 900}0{1 + born // 100 % 9}1{born % 100:02d}"
        number = body + check_char(body)
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
        if n == households // 2:
            name = ONE_OF_A_KIND
        names.append(name)
        category = rng.choice(CATEGORIES)
        yield (villages[n % len(villages)], name, number, number[-4:], number[-6:],
               f"{n % 6 + 1}组", category, IDENTITIES[category], now, now)


def add_cases(session, rng: random.Random, count: int) -> None:
    """Appraisals and cases for `count` random households, inserted in bulk."""
    villages = dict(session.execute(select(Household.id, Household.village_code)).all())
    first = (session.scalar(select(func.max(Appraisal.id))) or 0) + 1
    chosen = rng.sample(sorted(villages), count)
    session.execute(insert(Appraisal), [
        {"id": first + i, "household_id": hid, "grade": "D", "appraised_on": date(2026, 3, 1),
         "appraiser": "鉴定站"} for i, hid in enumerate(chosen)])
    session.execute(insert(Case), [
        {"household_id": hid, "village_code": villages[hid], "year": 2026, "method": "拆除重建",
         "build_mode": "自建", "status": "in_progress", "appraisal_id": first + i}
        for i, hid in enumerate(chosen)])
    session.commit()


def middle_cursor(app, low: str, high: str) -> str:
    """The cursor of the row halfway through an area's list, as the API would sign it."""
    between = Household.village_code.between(low, high)
    count = db.session.scalar(select(func.count()).where(between))
    mid = db.session.execute(select(*SORT).where(between).order_by(*SORT)
                             .offset(count // 2).limit(1)).one()
    with app.test_request_context():
        return encode_cursor(list(mid), cursor_key())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=50_000)
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--repeat", type=int, default=60)
    args = parser.parse_args()

    with bench_app(args.db) as app:
        started, phases = time.perf_counter(), Phases()
        names, numbers, w = build(args.households, phases)
        load_s = time.perf_counter() - started
        client = app.test_client()
        common_surname = max(SURNAMES, key=lambda s: sum(n.startswith(s) for n in names[:5000]))
        rare = names[12345 % len(names)]
        village = f"{w.town_a[:9]}{300:03d}"
        first = client.get("/api/v1/households?limit=50", headers=w.headers("county_admin"))
        cursor = first.get_json()["next_cursor"]
        for _ in range(20):  # a deep page: twenty pages in
            cursor = client.get(f"/api/v1/households?limit=50&cursor={cursor}",
                                headers=w.headers("county_admin")).get_json()["next_cursor"]
        requests = [
            ("first page, 50 rows", "/api/v1/households?limit=50"),
            ("21st page via cursor", f"/api/v1/households?limit=50&cursor={cursor}"),
            ("cursor page in the middle", "/api/v1/households?limit=50&cursor={middle}"),
            (f"name search, common ({common_surname})", f"/api/v1/households?q={common_surname}"),
            (f"name search, rare ({rare})", f"/api/v1/households?q={rare}"),
            (f"name search, no match ({NOBODY})", f"/api/v1/households?q={NOBODY}"),
            (f"name search, one match ({ONE_OF_A_KIND})",
             f"/api/v1/households?q={ONE_OF_A_KIND}"),
            ("ID-number tail search (4)", f"/api/v1/households?q={numbers[7][-4:]}"),
            ("ID tail, 6 digits", f"/api/v1/households?q={numbers[7][-6:]}"),
            ("one village", f"/api/v1/households?region={village}"),
            ("category filter (特困)", "/api/v1/households?category=tekun"),
        ]
        print(f"households list and search: {args.households:,} households "
              f"({engine_name(app)}), {args.repeat} runs each, through the API")
        print(f"  loading the households and cases: {load_s:.1f} s   aim < 120 s  "
              f"{'OK' if load_s < 120 else 'MISSED'}\n    ({phases})")
        bounded = True
        for role, scope, area in (("county_admin", "county admin, whole county", w.county),
                                  ("inspector", "inspector, one town", w.town_a)):
            print(f"\n{scope}\n{HEADER}")
            headers = w.headers(role)
            middle = middle_cursor(app, *code_range(area, level_of(area)))
            full_page = None
            probe = engine_name(app) == "SQLite"  # SQLite counts a short prefix's names first
            for label, template in requests:
                def call(url=template.replace("{middle}", middle), headers=headers):  # noqa: B008
                    response = client.get(url, headers=headers)
                    assert response.status_code == 200, response.get_json()
                figures = measure(call, args.repeat)
                full_page = full_page or figures[3]
                bounded = bounded and figures[3] <= full_page + probe
                print(row(label, figures, aim_ms=50))
        # A page loads its households, then their cases and the cases' history only when there
        # are any: never more statements than a full first page (and SQLite's one count of a
        # short prefix's names), whatever the data.
        print(f"\nSQL statements per request at most a full page's: "
              f"{'OK' if bounded else 'MISSED'}")


if __name__ == "__main__":
    main()
