"""A round's results as an XLSX workbook: 明细 (one row per household) and 汇总 (per village)."""

import io

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select

from backend import display
from backend.models import Household, Region, RoundHousehold, User
from backend.models.base import CHINA_TZ
from backend.services import policy
from backend.services.policy import Actor
from backend.services.rounds.progress import get_round, progress
from backend.vocabulary import CATEGORIES, OUTCOME_LABELS

DETAIL_HEADERS = ["乡镇", "村", "村民小组", "户主姓名", "身份证号", "重点对象类别", "检查员",
                  "排查时间", "排查结果", "需复查", "以房找人新发现", "未排查原因"]


def workbook(session, actor: Actor, round_id: int) -> tuple[str, bytes]:
    rnd = get_round(session, actor, round_id)
    book = Workbook()
    detail = book.active
    detail.title = "明细"
    detail.append(DETAIL_HEADERS)
    rows = session.execute(
        select(RoundHousehold, Household, Region.name, Region.parent_code, User.name)
        .join(Household, Household.id == RoundHousehold.household_id)
        .join(Region, Region.code == RoundHousehold.village_code)
        .outerjoin(User, User.id == RoundHousehold.inspector_id)
        .where(RoundHousehold.round_id == rnd.id,
               policy.in_scope(actor, RoundHousehold.village_code))
        .order_by(RoundHousehold.village_code, Household.group_name, Household.name)).all()
    towns = {code: name for code, name in session.execute(
        select(Region.code, Region.name).where(Region.level == "town"))}
    for entry, household, village_name, town_code, inspector in rows:
        detail.append([
            towns.get(town_code, ""), village_name, household.group_name or "", household.name,
            display.id_number(household.id_number, actor),
            CATEGORIES[household.category], inspector or "",
            entry.visited_at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")
            if entry.visited_at else "",
            OUTCOME_LABELS.get(entry.outcome, "未排查"), "是" if entry.revisit_needed else "",
            "是" if entry.found_in_round else "", entry.skip_reason or ""])
    summary = book.create_sheet("汇总")
    summary.append(["村", "应排查", "已排查", "未排查", "需复查", "新发现",
                    *OUTCOME_LABELS.values()])
    report = progress(session, actor, round_id, unvisited_limit=0)
    for v in report.villages:
        summary.append([v.village_name, *v.counts(), *v.outcomes.values()])
    summary.append(["合计", *report.totals.counts(),
                    *(report.outcome_total(c) for c in OUTCOME_LABELS)])
    for sheet in (detail, summary):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return f"round-{rnd.id}.xlsx", buffer.getvalue()

