"""The demo's weekly ranking (000 武乡 一周一通报): the year's task of each 山阴 town (003 §八
五到乡镇), works that make 玉井镇 fall behind 岱岳镇 on both 开工率 and 竣工率 two weeks ago,
and the two past weeks' snapshots taken by the county admin, naming 玉井镇 twice in a row
(全县通报批评, then 媒体曝光); this week's ranking names it a third time (诫勉谈话).

Made through the services' own functions, so the demo obeys the rules it shows. Before the
burst of two weeks ago each town leads one rate, so no earlier week names anyone."""

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from backend.models import Appraisal, Case, Household, User
from backend.models.base import china_today
from backend.rules import current_rules
from backend.services.policy import Actor
from backend.services.reports import ranking, tasks
from backend.services.workflow.engine import place_at

COUNTY = "140621000000"
LEADING, LAGGING = "140621100000", "140621101000"  # 岱岳镇, 玉井镇
TASKS = {LEADING: 40, LAGGING: 30}
SIGNERS = [{"role": "民主监督员", "name": "刘永福"}, {"role": "村委负责人", "name": "赵长青"},
           {"role": "乡镇负责人", "name": "王志强"}]


def seed_reports(session, admin: User, today: date | None = None) -> None:
    """Set the towns' tasks, record the works, take the two past weeks' snapshots."""
    today = today or china_today()  # the week a user in China is in
    actor = Actor.of(admin)
    this_week = ranking.week_of(today)
    two_ago = this_week - timedelta(weeks=2)
    early, burst = two_ago - timedelta(weeks=5), two_ago + timedelta(days=1)
    tasks.set_tasks(session, actor, today.year, TASKS)
    free = _free_households(session)
    # 岱岳镇 started ten five weeks earlier and completed eight of them two weeks ago;
    # 玉井镇 started and completed two before that, and nothing since.
    for i, household in enumerate(free[LEADING][:10]):
        _works(session, household, today.year, started=early,
               completed=burst if i < 8 else None)
    for household in free[LAGGING][:2]:
        _works(session, household, today.year, started=early - timedelta(weeks=1),
               completed=early)
    session.commit()
    for week in (two_ago, two_ago + timedelta(weeks=1)):
        ranking.take_snapshot(session, actor, COUNTY, week, today)


def _free_households(session) -> dict[str, list[Household]]:
    """Target households of each town with no case yet, in a stable order."""
    with_case = select(Case.household_id)
    rows = session.scalars(select(Household).where(Household.category != "ordinary",
                                                   Household.id.not_in(with_case))
                           .order_by(Household.id))
    found = {LEADING: [], LAGGING: []}
    for household in rows:
        town = household.village_code[:9].ljust(12, "0")
        if town in found:
            found[town].append(household)
    return found


def _works(session, household: Household, year: int, *, started: date,
           completed: date | None) -> None:
    appraised = started - timedelta(days=60)
    appraisal = Appraisal(household=household, grade="D", appraised_on=appraised,
                          appraiser="山阴县房屋鉴定站", notes="墙体严重开裂，屋面漏雨",
                          signatures=SIGNERS, filed_on=appraised + timedelta(days=5))
    session.add(appraisal)
    case = Case(household=household, village_code=household.village_code, year=year,
                method="拆除重建", build_mode="自建", appraisal=appraisal,
                subsidy_yuan=Decimal(25232), subsidy_central_yuan=Decimal(25232),
                planned_area_m2=Decimal("50.00"), started_on=started)
    session.add(case)
    session.flush()
    if completed:
        place_at(session, case, "completed", completed, photo_rules=current_rules().photos,
                 note="演示数据：此前环节系统外办理")
    else:
        place_at(session, case, "in_progress", started, photo_rules=current_rules().photos,
                 note="演示数据：此前环节系统外办理")
