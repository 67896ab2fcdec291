"""The towns' ranking as of a day as XLSX, through the shared writer: one row per town as
ranked, and a sheet saying what the figures are and which rule names a town (000)."""

from datetime import date
from decimal import Decimal

from backend.services import xlsx
from backend.services.policy import Actor
from backend.services.reports.ranking import ranking, unranked_note
from backend.vocabulary import NAMING_CONSEQUENCES

HEADERS = ("开工率排名", "竣工率排名", "乡镇", "年度任务（户）", "开工（户）", "开工率（%）",
           "竣工（户）", "竣工率（%）", "开工率后三位", "竣工率后三位", "同时后三位（通报）",
           "连续周数", "处理", "说明")
RULE = ("对农村危房改造开工率和竣工率同时排名后三位的乡镇，第一次全县通报批评，连续两次排名后三位的"
        "在媒体上公开曝光，连续三次排名后三位的进行诫勉谈话（武乡“一天一汇总，一周一通报”）")


def _rate(text: str | None) -> float | None:
    return float(Decimal(text)) if text is not None else None


def ranking_workbook(session, actor: Actor, county_code: str | None, on: date, today: date
                     ) -> tuple[str, bytes]:
    result = ranking(session, actor, county_code, on, today)
    body = [(r["start_rank"], r["completion_rank"], r["town_name"], r["task"], r["started"],
             _rate(r["start_rate"]), r["completed"], _rate(r["completion_rate"]),
             r["start_bottom"], r["completion_bottom"], r["named"], r["consecutive"] or None,
             NAMING_CONSEQUENCES.get(r["consequence"], ""), unranked_note(r) or "")
            for r in result.rows]
    about = [("县", result.county.name), ("统计截至", result.as_of),
             ("年度", result.year),
             ("所在周", f"{result.week_start} 至 {result.week_end}"),
             ("开工、竣工", "本年度改造项目中开工（竣工）日期不晚于统计日、且当时未退出程序"
                          "（未通过、已取消、转下一年度）的户数"),
             ("开工率、竣工率", "开工（竣工）户数 ÷ 乡镇年度任务户数；未下达任务或任务为 0 的乡镇"
                              "不参与排名"),
             ("后三位", "比本乡镇低的乡镇不足三个（并列按后三位计），且至少有一个乡镇高于本乡镇"),
             ("通报规则", RULE)]
    name = f"乡镇排名通报_{result.county.name}_{result.as_of}.xlsx"
    return name, xlsx.workbook([xlsx.Sheet(f"{result.as_of}排名", HEADERS, body),
                                xlsx.Sheet("说明", ("项目", "内容"), about)], actor)
