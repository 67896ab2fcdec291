"""Benchmark: open a survey round over a county's households, then compute its progress.

Aims (issues 7 and 21): opening under 2 s at up to 100,000 households and 20 s at 1,000,000;
progress p95 under 100 ms and 300 ms, equal to a recount of the rows. Runs on a fresh SQLite
database built by the migrations (or PostgreSQL with --db URL); prints figures and whether the
aims hold.

    .venv/bin/python bench/rounds.py [--households 100000] [--db postgresql://...]
"""

import argparse
import json
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta

from common import bench_app, bulk_insert, engine_name, refresh_statistics, stored_now
from sqlalchemy import select, update

from backend.extensions import db
from backend.models import Region, RoundHousehold, User
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
    session.commit()
    rng = random.Random(7)
    now = stored_now()
    rows = []
    for n in range(households):
        body = f"14{n:06d}195001{n % 28 + 1:02d}0"  # unique per n; only the check digit matters
        number = body + check_char(body)
        category = rng.choice(["dibao", "tekun", "lifted_supported", "ordinary"])
        rows.append((villages[n % len(villages)], f"户主{n}", number, number[-4:], number[-6:],
                     category, json.dumps([] if category == "ordinary" else [category]),
                     now, now))
    bulk_insert("households", ["village_code", "name", "id_number", "id_tail", "id_tail6",
                               "category", "identities", "created_at", "updated_at"], rows)
    refresh_statistics()
    return villages


def recount_matches(session, round_id: int, report) -> bool:
    """Progress per village equals a count of the round's rows in Python."""
    counts: dict[str, list[int]] = {}
    for village, visited_at, outcome, revisit, found in session.execute(
            select(RoundHousehold.village_code, RoundHousehold.visited_at,
                   RoundHousehold.outcome, RoundHousehold.revisit_needed,
                   RoundHousehold.found_in_round).where(RoundHousehold.round_id == round_id)):
        c = counts.setdefault(village, [0, 0, 0, 0])
        c[0] += 1
        c[1] += visited_at is not None and outcome == "safe"  # checked under any definition
        c[2] += bool(revisit)
        c[3] += bool(found)
    shown = {v.village_code: [v.total, v.visited, v.revisit_needed, v.found]
             for v in report.villages}
    return shown == counts and all(v.visited + v.unvisited == v.total for v in report.villages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    with bench_app(args.db) as app:
        engine = engine_name(app)
        started = time.perf_counter()
        build_county(db.session, args.households)
        load_s = time.perf_counter() - started
        admin = Actor.of(db.session.query(User).filter_by(username="admin").one())
        opening = []  # each quarter's round opens beside the ones before it
        for quarter, starts_on in ((3, date(2026, 7, 1)), (4, date(2026, 10, 1))):
            spec = rounds.RoundSpec(kind="routine", name=f"2026年第{quarter}季度常规排查",
                                    starts_on=starts_on, due_on=date(2026, 12, 31),
                                    area_codes=[COUNTY], categories=[], period=f"2026Q{quarter}")
            started = time.perf_counter()
            rnd = rounds.open_round(db.session, admin, spec)
            opening.append(time.perf_counter() - started)
        open_s = max(opening)
        assigned = db.session.query(RoundHousehold).filter_by(round_id=rnd.id).count()

        # Mark about 60% visited so progress has real work to count.
        db.session.execute(update(RoundHousehold).where(
            RoundHousehold.round_id == rnd.id, RoundHousehold.household_id % 5 < 3).values(
            visited_at=datetime.now(UTC) - timedelta(days=1), outcome="safe"))
        db.session.commit()
        refresh_statistics()  # after a bulk change, as open_round does after its insert
        timings = []
        for _ in range(args.repeat):
            db.session.expire_all()
            started = time.perf_counter()
            report = rounds.progress(db.session, admin, rnd.id)
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        p50 = statistics.median(timings)
        p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
        recounted = recount_matches(db.session, rnd.id, report)

    open_aim, progress_aim = (2, 100) if args.households <= 100_000 else (20, 300)

    print(f"survey round over {assigned:,} households ({engine})")
    print(f"  loading the households:                   {load_s * 1000:8.0f} ms")
    print(f"  open a round, the county's first:         {opening[0] * 1000:8.0f} ms")
    print(f"  open a round beside the first:            {opening[1] * 1000:8.0f} ms")
    print(f"  open a round, the slower:                 {open_s * 1000:8.0f} ms   "
          f"aim < {open_aim * 1000} ms  {'OK' if open_s < open_aim else 'MISSED'}")
    print(f"  progress per village, p50:                {p50:8.1f} ms")
    print(f"  progress per village, p95:                {p95:8.1f} ms   "
          f"aim < {progress_aim} ms   {'OK' if p95 < progress_aim else 'MISSED'}")
    print(f"  progress equals a recount of the rows:    {'OK' if recounted else 'MISSED'}")
    print(f"  villages {len(report.villages)}, visited {report.totals.visited:,}, "
          f"unvisited listed {len(report.unvisited)}")


if __name__ == "__main__":
    main()
