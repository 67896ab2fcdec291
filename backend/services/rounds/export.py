"""A round's results as an XLSX workbook: 明细 (one row per household: its outcome, danger
points, note, the visit's position and a link to its photos) and 汇总 (per village, counted
as the desk counts: 已查 leaves out UNCHECKED_OUTCOMES)."""

from sqlalchemy import func, select

from backend import display
from backend.models import Household, Photo, Region, RoundHousehold, User, Visit
from backend.services import policy, xlsx
from backend.services.checklists.names import names
from backend.services.policy import Actor
from backend.services.rounds.progress import get_round, progress
from backend.vocabulary import CATEGORIES, OUTCOME_LABELS

DETAIL_HEADERS = ["乡镇", "村", "村民小组", "户主姓名", "身份证号", "重点对象类别", "检查员",
                  "排查时间", "排查结果", "需复查", "以房找人新发现", "未排查原因", "危险点",
                  "备注", "纬度（WGS-84）", "经度（WGS-84）", "照片"]
# 新发现 as an outcome is the same house as the 以房找人 column: counted once, as on the desk.
SUMMARY_OUTCOMES = [code for code in OUTCOME_LABELS if code != "new_found"]
SUMMARY_HEADERS = ["村", "应查", "已查", "未查", "需复查", "新发现（以房找人）",
                   *(OUTCOME_LABELS[c] for c in SUMMARY_OUTCOMES)]


def workbook(session, actor: Actor, round_id: int, *, base_url: str = ""
             ) -> tuple[str, bytes]:
    """`base_url` (the site's address) makes the photo links absolute."""
    rnd = get_round(session, actor, round_id)
    detail = xlsx.Sheet("明细", DETAIL_HEADERS,
                        _detail_rows(session, actor, rnd.id, base_url.rstrip("/")))
    report = progress(session, actor, round_id, unvisited_limit=0)
    summary = xlsx.Sheet("汇总", SUMMARY_HEADERS, [
        *([v.village_name, *v.counts(), *(v.outcomes[c] for c in SUMMARY_OUTCOMES)]
          for v in report.villages),
        ["合计", *report.totals.counts(), *(report.outcome_total(c) for c in SUMMARY_OUTCOMES)],
    ])
    return f"round-{rnd.id}.xlsx", xlsx.workbook([detail, summary], actor)


def _detail_rows(session, actor: Actor, round_id: int, base_url: str):
    rows = session.execute(
        select(RoundHousehold, Household, Region.name, Region.parent_code, User.name, Visit)
        .join(Household, Household.id == RoundHousehold.household_id)
        .join(Region, Region.code == RoundHousehold.village_code)
        .outerjoin(User, User.id == RoundHousehold.inspector_id)
        .outerjoin(Visit, Visit.id == RoundHousehold.visit_id)
        .where(RoundHousehold.round_id == round_id,
               policy.in_scope(actor, RoundHousehold.village_code))
        .order_by(RoundHousehold.village_code, Household.group_name, Household.name)).all()
    towns = {code: name for code, name in session.execute(
        select(Region.code, Region.name).where(Region.level == "town"))}
    counts = dict(session.execute(
        select(Photo.visit_id, func.count()).where(Photo.visit_id.in_(
            [v.id for *_, v in rows if v is not None])).group_by(Photo.visit_id)).all())
    words = names()
    for entry, household, village_name, town_code, inspector, visit in rows:
        yield [towns.get(town_code, ""), village_name, household.group_name or "",
               household.name, xlsx.IdNumber(household.id_number),
               CATEGORIES[household.category], inspector or "",
               display.local_time(entry.visited_at) if entry.visited_at else "",
               OUTCOME_LABELS.get(entry.outcome, "未排查"), entry.revisit_needed,
               entry.found_in_round, entry.skip_reason or "",
               *_visit_cells(visit, words, counts.get(visit.id, 0) if visit else 0,
                             f"{base_url}/review/households/{household.id}")]


def _visit_cells(visit: Visit | None, words, photos: int, page: str) -> list:
    """危险点, 备注, the visit's own position, and its photos as a link to the household's page."""
    if visit is None:
        return ["", "", None, None, ""]
    return ["；".join(words.danger_point(c) for c in visit.danger_points or []),
            visit.note or "", visit.device_lat, visit.device_lon,
            xlsx.Link(f"{photos} 张照片", f"{page}#visit-{visit.id}") if photos else ""]
