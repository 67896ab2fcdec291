"""Benchmark: the monthly progress report (004 附件1) over a county of 100,000 households.

A county (郯城) of 20 towns × 10 villages, 100,000 households over every category, 1,500 cases
over every stage of the procedure with their dates through the year, subsidies, a few thousand
payments (each with its voucher) and the county's fund allocations; then the report for
November as a county admin: the service, `GET /api/v1/reports/monthly` and its `.xlsx`. Then
the same county again with 5 towns. Aim (issue): ≤ 2 s on SQLite and on PostgreSQL, and the
same number of SQL statements whatever the number of towns.

    .venv/bin/python bench/monthly_report.py [--households 100000] [--cases 1500]
        [--towns 20 5] [--db postgresql://...]
"""

import argparse
import random
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from common import HEADER, bench_app, engine_name, measure, row
from sqlalchemy import insert, select, text

from backend.extensions import db
from backend.models import (
    Attachment,
    Case,
    FundAllocation,
    Household,
    Payment,
    Recovery,
    Region,
    User,
)
from backend.services.ids import check_char
from backend.services.policy import Actor
from backend.services.reports import monthly
from backend.services.workflow.templates import county_workflow, load_workflows
from backend.vocabulary import CATEGORIES, METHODS, STATUSES
from tests import factories

PROVINCE, CITY, COUNTY = "370000000000", "371300000000", "371322000000"
YEAR = 2026
MONTH = "2026-11"
AIM_MS = 2000
# The procedure's stages in order; the exits are reached from anywhere.
PROCEDURE = [s for s in STATUSES if s not in monthly.EXITS]
STEP = {s: i for i, s in enumerate(PROCEDURE)}
# Most households are ordinary; the eight target groups share the rest.
CATEGORY_WEIGHTS = [3 if c == "ordinary" else 1 for c in CATEGORIES]
LEVELS = ("central", "provincial", "below_provincial")
SHARES = (Decimal("0.60"), Decimal("0.25"), Decimal("0.15"))  # of the subsidy, per level
# The furthest stage an exit is reached from: only a cancelled case may have begun its works.
EXIT_FROM = {"rejected": "approval", "deferred": "agreement_signed", "cancelled": "in_progress"}
CENT = Decimal("0.01")


def day_between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, (last - first).days))


def half(amount: Decimal) -> Decimal:
    return (amount / 2).quantize(CENT)


def later(rng: random.Random, after: date, low: int, high: int) -> date:
    return after + timedelta(days=rng.randint(low, high))


def build_regions(session, towns: int, villages_per_town: int) -> list[str]:
    factories.region(session, PROVINCE, "山东省", "province")
    factories.region(session, CITY, "临沂市", "prefecture", PROVINCE)
    factories.region(session, COUNTY, "郯城县", "county", CITY)
    villages = []
    for t in range(towns):
        town = f"{COUNTY[:6]}{100 + t:03d}000"
        session.add(Region(code=town, name=f"{t + 1}号镇", level="town", parent_code=COUNTY))
        for v in range(villages_per_town):
            code = f"{town[:9]}{200 + v:03d}"
            session.add(Region(code=code, name=f"{t + 1}镇{v + 1}村", level="village",
                               parent_code=town))
            villages.append(code)
    session.commit()
    return villages


def household_rows(rng: random.Random, villages: list[str], n: int, now: datetime) -> list:
    rows = []
    for i in range(n):
        body = f"37{i:06d}19{rng.randint(40, 99)}0{rng.randint(1, 9)}1{rng.randint(0, 9)}" \
               f"{rng.randint(0, 9)}"
        number = body + check_char(body)
        category = rng.choices(list(CATEGORIES), CATEGORY_WEIGHTS)[0]
        rows.append({"village_code": villages[i % len(villages)], "name": f"户主{i}",
                     "id_number": number, "id_tail": number[-4:], "group_name": f"{i % 6 + 1}组",
                     "category": category,
                     "identities": [] if category == "ordinary" else [category],
                     "created_at": now, "updated_at": now})
    return rows


def case_row(rng: random.Random, status: str, household: tuple[int, str], workflow_id: int,
             now: datetime) -> dict:
    """A case at `status` with the dates and money its stage implies."""
    method = rng.choices(METHODS, [3, 5, 2, 1, 1, 1, 3])[0]
    values = {"household_id": household[0], "village_code": household[1], "year": YEAR,
              "method": method, "build_mode": "统建" if method == "统建" else "自建",
              "status": status, "workflow_id": workflow_id, "application": {},
              "created_at": now, "updated_at": now}
    exited = status in monthly.EXITS
    # How far the case got before it left, for an exit.
    reached = STEP[status] if not exited else rng.randint(0, STEP[EXIT_FROM[status]])
    entered = day_between(rng, date(YEAR, 1, 5), date(YEAR, 12, 20))
    if reached >= STEP["in_progress"]:
        started = day_between(rng, date(YEAR, 2, 15), date(YEAR, 12, 10))
        values["started_on"] = entered = started
        if reached >= STEP["completed"]:
            values["completed_on"] = entered = later(rng, started, 30, 150)
        for stage in ("town_accepted", "accepted", "paid", "archived"):
            if reached >= STEP[stage]:
                values[f"{stage}_on"] = entered = later(rng, entered, 3, 20)
        if exited:
            entered = later(rng, entered, 5, 60)
    values["stage_entered_on"] = entered
    if reached >= STEP["approval"]:
        subsidy = Decimal(rng.choice((14000, 16000, 18000, 20000, 25000)))
        split = [(subsidy * share).quantize(CENT) for share in SHARES]
        values.update(subsidy_central_yuan=split[0], subsidy_provincial_yuan=split[1],
                      subsidy_below_yuan=split[2], subsidy_yuan=sum(split),
                      loan_yuan=Decimal(rng.choice((0, 0, 20000))),
                      own_funds_yuan=Decimal(rng.randint(10, 40) * 1000),
                      planned_area_m2=Decimal(rng.randint(40, 90)),
                      estimated_cost_yuan=Decimal(rng.randint(40, 90) * 1000))
    return values


def build(towns: int, villages_per_town: int, households: int, cases: int) -> dict:
    """The county, its data and a county admin's token; returns what the calls need."""
    session = db.session
    rng = random.Random(2026)
    now = datetime.now(UTC)
    load_workflows(session)  # the XLSX reads the county's report schedule from its workflow
    villages = build_regions(session, towns, villages_per_town)
    admin = factories.user(session, "county_admin", [COUNTY], username="admin")
    finance = factories.user(session, "finance", [COUNTY], username="finance")
    session.execute(insert(Household), household_rows(rng, villages, households, now))
    session.commit()

    workflow_id = county_workflow(session, COUNTY).id
    pool = session.execute(select(Household.id, Household.village_code)
                           .order_by(Household.id)).all()
    statuses = list(STATUSES)
    chosen = rng.sample(pool, cases)
    session.execute(insert(Case), [case_row(rng, statuses[i % len(statuses)], h, workflow_id, now)
                                   for i, h in enumerate(chosen)])
    session.commit()

    # Payments: an advance per fund level at the start, the balance after acceptance; a
    # case cancelled after its advance has the money recovered (a negative payment).
    started = session.execute(select(
        Case.id, Case.village_code, Case.status, Case.started_on, Case.accepted_on,
        Case.stage_entered_on, Case.subsidy_central_yuan, Case.subsidy_provincial_yuan,
        Case.subsidy_below_yuan).where(Case.started_on.is_not(None),
                                       Case.subsidy_yuan.is_not(None))).all()
    recoveries = {}
    for c in started:
        if c.status == "cancelled":
            advance = sum(half(s) for s in c[6:9])
            recovery = Recovery(case_id=c.id, village_code=c.village_code,
                                amount_yuan=advance, recovered_yuan=advance,
                                reason="改造不到位，取消补助", opened_on=c.stage_entered_on,
                                closed_on=later(rng, c.stage_entered_on, 5, 30),
                                opened_by=finance.id)
            session.add(recovery)
            recoveries[c.id] = recovery
    session.flush()
    attachments, payments = [], []

    def pay(c, tranche, level, amount, on, recovery_id=None):
        voucher = str(uuid.uuid4())
        attachments.append({"id": voucher, "case_id": c.id, "village_code": c.village_code,
                            "kind": "payment_voucher", "filename": "拨付凭证.pdf",
                            "mime": "application/pdf", "sha256": "0" * 64, "size_bytes": 20480,
                            "uploaded_by": finance.id, "uploaded_at": now})
        payments.append({"id": str(uuid.uuid4()), "case_id": c.id,
                         "village_code": c.village_code, "tranche": tranche, "fund_level": level,
                         "amount_yuan": amount, "paid_on": on, "payee_kind": "household",
                         "payee_name": "户主", "payee_account": "6230" + "1" * 15,
                         "voucher_id": voucher, "recovery_id": recovery_id,
                         "recorded_by": finance.id, "recorded_at": now})

    for c in started:
        split = dict(zip(LEVELS, c[6:9], strict=True))
        advance_on = later(rng, c.started_on, 3, 20)
        for level, subsidy in split.items():
            pay(c, "advance", level, half(subsidy), advance_on)
            if c.accepted_on is not None:
                pay(c, "balance", level, subsidy - half(subsidy),
                    later(rng, c.accepted_on, 5, 30))
            if c.id in recoveries:
                pay(c, "recovery", level, -half(subsidy), recoveries[c.id].closed_on,
                    recoveries[c.id].id)
    session.execute(insert(Attachment), attachments)
    session.execute(insert(Payment), payments)

    # The county's funds: confirmed in spring, received in three batches through the year.
    total = {level: sum(c[6 + i] for c in started) * 2 for i, level in enumerate(LEVELS)}
    allocations = []
    for level in LEVELS:
        allocations.append({"kind": "confirmed", "on": date(YEAR, 3, 15),
                            "amount_yuan": total[level]})
        for month in (4, 8, 12):
            allocations.append({"kind": "received", "on": date(YEAR, month, 10),
                                "amount_yuan": (total[level] / 3).quantize(CENT)})
        for a in allocations[-4:]:
            a.update(county_code=COUNTY, year=YEAR, fund_level=level,
                     document_no=f"郯财农〔{YEAR}〕{len(allocations)}号", recorded_by=finance.id,
                     recorded_at=now)
    session.execute(insert(FundAllocation), allocations)
    session.commit()
    if db.engine.dialect.name == "postgresql":  # a live database has statistics; so should this
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    return {"admin_id": admin.id, "token": factories.token_for(session, admin),
            "payments": len(payments), "allocations": len(allocations)}


def run(args, towns: int) -> dict:
    """Build a county of `towns` towns on a fresh database; time the three calls."""
    with bench_app(args.db) as app:
        started = time.perf_counter()
        built = build(towns, args.villages, args.households, args.cases)
        setup_s = time.perf_counter() - started
        client = app.test_client()
        headers = {"Authorization": f"Bearer {built['token']}"}
        first = monthly.parse_month(MONTH)

        def service():
            db.session.remove()  # a request's own session, nothing cached from the last call
            actor = Actor.of(db.session.get(User, built["admin_id"]))
            return monthly.monthly_report(db.session, actor, first, "renovation", None)

        def http(path):
            def call():
                db.session.remove()
                response = client.get(path, headers=headers, query_string={"month": MONTH})
                assert response.status_code == 200, response.get_data(as_text=True)[:500]
                return response
            return call

        report = service()
        counted = {"towns": len(report.rows), "started": sum(report.total.started),
                   "completed": sum(report.total.completed),
                   "paid": sum(report.total.paid), "investment": report.total.investment}
        calls = [("service monthly_report()", service),
                 ("GET /api/v1/reports/monthly", http("/api/v1/reports/monthly")),
                 ("GET /api/v1/reports/monthly.xlsx", http("/api/v1/reports/monthly.xlsx"))]
        figures = {label: measure(call, args.repeat) for label, call in calls}
        return {"engine": engine_name(app), "setup_s": setup_s, "built": built,
                "counted": counted, "figures": figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--cases", type=int, default=1_500)
    parser.add_argument("--towns", type=int, nargs="+", default=[20, 5])
    parser.add_argument("--villages", type=int, default=10, help="villages per town")
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    results = {towns: run(args, towns) for towns in args.towns}
    engine = next(iter(results.values()))["engine"]
    print(f"monthly report {MONTH} (004 附件1): {args.households:,} households, "
          f"{args.cases:,} cases over {len(STATUSES)} stages ({engine}), "
          f"{args.repeat} runs each, as a county admin")
    for towns, result in results.items():
        c, b = result["counted"], result["built"]
        print(f"\n{towns} towns × {args.villages} villages (set-up {result['setup_s']:.1f} s; "
              f"{b['payments']:,} payments, {b['allocations']} fund allocations)")
        print(f"  form: {c['towns']} town rows; started {c['started']}, completed "
              f"{c['completed']}, paid {c['paid']} 万元, investment {c['investment']} 万元")
        print(HEADER)
        for label, figures in result["figures"].items():
            print(row(label, figures, aim_ms=AIM_MS))

    labels = list(next(iter(results.values()))["figures"])
    counts = {label: {towns: r["figures"][label][3] for towns, r in results.items()}
              for label in labels}
    fast = all(f[1] <= AIM_MS for r in results.values() for f in r["figures"].values())
    constant = all(len(set(by_towns.values())) == 1 for by_towns in counts.values())
    print(f"\n  p95 ≤ {AIM_MS} ms everywhere: {'OK' if fast else 'MISSED'}")
    for label, by_towns in counts.items():
        shown = ", ".join(f"{n} with {towns} towns" for towns, n in by_towns.items())
        print(f"  SQL statements, {label}: {shown}")
    print(f"  same SQL count whatever the number of towns: {'OK' if constant else 'MISSED'}")


if __name__ == "__main__":
    main()
