"""A spot check's sample as an XLSX workbook for the checkers: 抽查样本 (one row per household,
headed by the draw's seed and population fingerprint) and 分层 (the allocation per town)."""

from backend import display
from backend.models import User
from backend.services import xlsx
from backend.services.policy import Actor
from backend.services.spot_checks.draws import get_draw, sample_rows, town_shares
from backend.vocabulary import CATEGORIES, STATUSES

SAMPLE_HEADERS = ["序号", "乡镇", "村", "村民小组", "户主姓名", "身份证号", "重点对象类别",
                  "改造方式", "项目状态", "农户编号", "实地复核结果"]
TOWN_HEADERS = ["乡镇", "乡镇代码", "总体（户）", "抽取（户）"]


def workbook(session, actor: Actor, check_id: int) -> tuple[str, bytes]:
    check = get_draw(session, actor, check_id)
    drawer = session.get(User, check.drawn_by)
    asked = (f"{check.requested_count} 户" if check.requested_count is not None
             else f"{check.requested_percent}%")
    preamble = [
        f"{check.year}年度农村危房改造随机抽查样本",
        f"抽查目的：{check.purpose}；抽取：{asked}，实抽 {check.size} 户",
        f"总体：{check.population_size} 户，SHA-256 {check.population_sha256}",
        f"随机种子：{check.seed}；抽取人：{drawer.name if drawer else ''}，"
        f"{display.local_time(check.drawn_at)}",
    ]
    rows = ([r.number, r.town_name, r.village_name, r.household.group_name or "",
             r.household.name, xlsx.IdNumber(r.household.id_number),
             CATEGORIES.get(r.household.category, r.household.category),
             r.case.method if r.case else "",
             STATUSES.get(r.case.status, r.case.status) if r.case else "",
             r.household.id, ""] for r in sample_rows(session, check))
    sample = xlsx.Sheet("抽查样本", SAMPLE_HEADERS, rows, preamble=preamble)
    strata = xlsx.Sheet("分层", TOWN_HEADERS, [
        *([t.town_name, t.town_code, t.population, t.drawn]
          for t in town_shares(session, check)),
        ["合计", "", check.population_size, check.size]])
    return f"spot-check-{check.id}.xlsx", xlsx.workbook([sample, strata], actor)
