"""Benchmark: list and search the households of a 50,000-household county.

Through the real API stack (routing, token check, area scope, SQL, schema dump), as a county
admin (whole county) and as an inspector (one town). Aim (issue 2): p95 under 50 ms, and a
constant number of SQL statements per request whatever the data.

    .venv/bin/python bench/households.py [--households 50000] [--db postgresql://...]
"""

import argparse
import random
from datetime import UTC, date, datetime

from common import HEADER, bench_app, engine_name, measure, row
from sqlalchemy import insert, select, text

from backend.demo import GIVEN, SURNAMES
from backend.extensions import db
from backend.models import Appraisal, Case, Household, Region
from backend.services.ids import check_char
from tests import factories

CATEGORIES = ["lifted_supported", "dibao", "tekun", "edge_at_risk", "dibao_edge", "ordinary",
              "ordinary", "ordinary"]


def build(households: int, villages_per_town: int = 60) -> tuple[list[str], list[str]]:
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
    now = datetime.now(UTC)
    names, rows = [], []
    for n in range(households):
        body = f"14{n:06d}19{rng.randint(40, 99)}0{rng.randint(1, 9)}1{rng.randint(0, 9)}" \
               f"{rng.randint(0, 9)}"
        number = body + check_char(body)
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
        names.append(name)
        rows.append({"village_code": villages[n % len(villages)], "name": name,
                     "id_number": number, "id_tail": number[-4:], "group_name": f"{n % 6 + 1}组",
                     "category": rng.choice(CATEGORIES), "created_at": now, "updated_at": now})
    session.execute(insert(Household), rows)
    session.commit()
    ids = session.scalars(select(Household.id).order_by(Household.id)).all()
    for hid in rng.sample(ids, households * 3 // 100):  # ~3% have a renovation case
        appraisal = Appraisal(household_id=hid, grade="D", appraised_on=date(2026, 3, 1),
                              appraiser="鉴定站")
        session.add(appraisal)
        session.flush()
        village = session.get(Household, hid).village_code
        session.add(Case(household_id=hid, village_code=village, year=2026, method="拆除重建",
                         build_mode="自建", status="in_progress", appraisal_id=appraisal.id))
    session.commit()
    if db.engine.dialect.name == "postgresql":  # a live database has statistics; so should this
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    return names, [r["id_number"][-4:] for r in rows[:50]], w


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=50_000)
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--repeat", type=int, default=60)
    args = parser.parse_args()

    with bench_app(args.db) as app:
        names, tails, w = build(args.households)
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
            (f"name search, common ({common_surname})", f"/api/v1/households?q={common_surname}"),
            (f"name search, rare ({rare})", f"/api/v1/households?q={rare}"),
            ("ID-number tail search", f"/api/v1/households?q={tails[7]}"),
            ("one village", f"/api/v1/households?region={village}"),
            ("category filter (特困)", "/api/v1/households?category=tekun"),
        ]
        print(f"households list and search: {args.households:,} households "
              f"({engine_name(app)}), {args.repeat} runs each, through the API")
        for role, scope in (("county_admin", "county admin, whole county"),
                            ("inspector", "inspector, one town")):
            print(f"\n{scope}\n{HEADER}")
            headers = w.headers(role)
            for label, url in requests:
                def call(url=url, headers=headers):
                    response = client.get(url, headers=headers)
                    assert response.status_code == 200, response.get_json()
                figures = measure(call, args.repeat)
                print(row(label, figures, aim_ms=50))


if __name__ == "__main__":
    main()
