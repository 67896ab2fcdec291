"""Benchmark: open a survey round over 20,000 households, then compute its progress.

Aims (issue 7): opening under 2 s, progress under 100 ms. Runs on a fresh SQLite database
built by the migrations (or PostgreSQL with --db URL); prints figures and whether the aims hold.

    .venv/bin/python bench/rounds.py [--households 20000] [--db postgresql://...]
"""

import argparse
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta

from common import bench_app, engine_name
from sqlalchemy import insert, update

from backend.extensions import db
from backend.models import Household, Region, RoundHousehold, User
from backend.services import rounds
from backend.services.ids import check_char
from backend.services.policy import Actor

COUNTY = "140621000000"


def build_county(session, households: int, villages_per_town: int = 50) -> list[str]:
    session.add(Region(code=COUNTY, name="山阴县", level="county"))
    villages = []
    for t in range(2):
        town = f"140621{100 + t:03d}000"
        session.add(Region(code=town, name=f"镇{t}", level="town", parent_code=COUNTY))
        for v in range(villages_per_town):
            code = f"{town[:9]}{200 + v:03d}"
            session.add(Region(code=code, name=f"村{t}-{v}", level="village", parent_code=town))
            villages.append(code)
    session.flush()
    admin = User(username="admin", name="管理员", role="county_admin", password_hash="x",
                 regions=[session.get(Region, COUNTY)])
    session.add(admin)
    for t in range(2):
        for i in range(3):
            session.add(User(username=f"insp{t}{i}", name="检查员", role="inspector",
                             password_hash="x",
                             regions=[session.get(Region, f"140621{100 + t:03d}000")]))
    rng = random.Random(7)
    rows = []
    for n in range(households):
        body = f"14{n:06d}195001{n % 28 + 1:02d}0"  # unique per n; only the check digit matters
        number = body + check_char(body)
        rows.append({"village_code": villages[n % len(villages)], "name": f"户主{n}",
                     "id_number": number, "id_tail": number[-4:],
                     "category": rng.choice(["dibao", "tekun", "lifted_supported", "ordinary"]),
                     "created_at": datetime.now(UTC), "updated_at": datetime.now(UTC)})
    session.execute(insert(Household), rows)
    session.commit()
    return villages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    with bench_app(args.db) as app:
        engine = engine_name(app)
        build_county(db.session, args.households)
        admin = Actor.of(db.session.query(User).filter_by(username="admin").one())
        spec = rounds.RoundSpec(kind="routine", name="2026年第四季度常规排查",
                                starts_on=date(2026, 10, 1), due_on=date(2026, 12, 31),
                                area_codes=[COUNTY], categories=[], period="2026Q4")
        started = time.perf_counter()
        rnd = rounds.open_round(db.session, admin, spec)
        open_s = time.perf_counter() - started
        assigned = db.session.query(RoundHousehold).filter_by(round_id=rnd.id).count()

        # Mark about 60% visited so progress has real work to count.
        db.session.execute(update(RoundHousehold).where(
            RoundHousehold.round_id == rnd.id, RoundHousehold.id % 5 < 3).values(
            visited_at=datetime.now(UTC) - timedelta(days=1), outcome="safe"))
        db.session.commit()
        timings = []
        for _ in range(args.repeat):
            db.session.expire_all()
            started = time.perf_counter()
            report = rounds.progress(db.session, admin, rnd.id)
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        p50 = statistics.median(timings)
        p95 = timings[max(0, int(len(timings) * 0.95) - 1)]

    print(f"survey round over {assigned:,} households ({engine})")
    print(f"  open round (select, assign, bulk insert): {open_s * 1000:8.0f} ms   "
          f"aim < 2000 ms  {'OK' if open_s < 2 else 'MISSED'}")
    print(f"  progress per village, p50:                {p50:8.1f} ms")
    print(f"  progress per village, p95:                {p95:8.1f} ms   "
          f"aim < 100 ms   {'OK' if p95 < 100 else 'MISSED'}")
    print(f"  villages {len(report.villages)}, visited {report.totals.visited:,}, "
          f"unvisited listed {len(report.unvisited)}")


if __name__ == "__main__":
    main()
