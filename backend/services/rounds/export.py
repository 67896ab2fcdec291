"""A round's results as an XLSX workbook: 明细 (one row per household) and 汇总 (per village)."""

from sqlalchemy import select

from backend import display
from backend.models import Household, Region, RoundHousehold, User
from backend.services import policy, xlsx
from backend.services.policy import Actor
from backend.services.rounds.progress import get_round, progress
from backend.vocabulary import CATEGORIES, OUTCOME_LABELS

DETAIL_HEADERS = ["乡镇", "村", "村民小组", "户主姓名", "身份证号", "重点对象类别", "检查员",
                  "排查时间", "排查结果", "需复查", "以房找人新发现", "未排查原因"]
SUMMARY_HEADERS = ["村", "应排查", "已排查", "未排查", "需复查", "新发现", *OUTCOME_LABELS.values()]


def workbook(session, actor: Actor, round_id: int) -> tuple[str, bytes]:
    rnd = get_round(session, actor, round_id)
    detail = xlsx.Sheet("明细", DETAIL_HEADERS, _detail_rows(session, actor, rnd.id))
    report = progress(session, actor, round_id, unvisited_limit=0)
    summary = xlsx.Sheet("汇总", SUMMARY_HEADERS, [
        *([v.village_name, *v.counts(), *v.outcomes.values()] for v in report.villages),
        ["合计", *report.totals.counts(), *(report.outcome_total(c) for c in OUTCOME_LABELS)],
    ])
    return f"round-{rnd.id}.xlsx", xlsx.workbook([detail, summary], actor)


def _detail_rows(session, actor: Actor, round_id: int):
    rows = session.execute(
        select(RoundHousehold, Household, Region.name, Region.parent_code, User.name)
        .join(Household, Household.id == RoundHousehold.household_id)
        .join(Region, Region.code == RoundHousehold.village_code)
        .outerjoin(User, User.id == RoundHousehold.inspector_id)
        .where(RoundHousehold.round_id == round_id,
               policy.in_scope(actor, RoundHousehold.village_code))
        .order_by(RoundHousehold.village_code, Household.group_name, Household.name)).all()
    towns = {code: name for code, name in session.execute(
        select(Region.code, Region.name).where(Region.level == "town"))}
    for entry, household, village_name, town_code, inspector in rows:
        yield [towns.get(town_code, ""), village_name, household.group_name or "",
               household.name, xlsx.IdNumber(household.id_number),
               CATEGORIES[household.category], inspector or "",
               display.local_time(entry.visited_at) if entry.visited_at else "",
               OUTCOME_LABELS.get(entry.outcome, "未排查"), entry.revisit_needed,
               entry.found_in_round, entry.skip_reason or ""]
