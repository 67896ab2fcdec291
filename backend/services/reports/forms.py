"""The monthly progress form as a workbook, laid out as the seed prints it (004 附件1/附件2):
title, 填报单位, 填报人, 联系电话; the merged two-level header over 27 numbered columns with their
units; one row per town and the total; the 填表说明 under the table. Through the shared XLSX
writer, so no text becomes a formula."""

from backend.models import User
from backend.services import xlsx
from backend.services.policy import Actor
from backend.services.reports.monthly import FORMS, MonthlyReport
from backend.services.reports.schedule import ReportDue

# The eight groups as the form's header names them (004 附件1), in its order.
GROUPS = ("脱贫享受政策户", "脱贫不稳定户", "边缘易致贫户", "低保户", "分散供养特困人员",
          "严重困难户", "低保边缘家庭", "其他脱贫户")
TOP = ["单位", "开工户数", *[None] * 8, "竣工户数", *[None] * 8,
       "已落实的地方各级补助资金数额", None, "已下达到县的各级补助资金数额", None, None,
       "县级财政已支付各级补助资金数额", None, None, "完成投资总额"]
SUB = [None, *GROUPS, "小计", *GROUPS, "小计", "合计（省、市、县）", "其中：省级补助资金",
       "中央补助资金", "省级补助资金", "省级以下补助资金",
       "中央补助资金", "省级补助资金", "省级以下补助资金", None]
UNITS = [None, *["户"] * 18, *["万元"] * 9]
NUMBERS = ["栏次", *[str(n) for n in range(1, 28)]]
# (first row, first column, last row, last column) within the header; column 1 is 单位.
MERGES = ((1, 1, 3, 1), (1, 2, 1, 10), (1, 11, 1, 19), (1, 20, 1, 21), (1, 22, 1, 24),
          (1, 25, 1, 27), (1, 28, 2, 28))
NOTES = (
    "填表说明：",
    "1. 统计时间截至统计月度月底；",
    "2. 具有多重身份的同一农户仅统计一次，优先顺序为：脱贫享受政策户、脱贫不稳定户、边缘易致贫户、"
    "农村低保户、农村分散供养特困人员、严重困难家庭、低保边缘家庭和未享受过农村住房保障政策支持且"
    "依靠自身力量无法解决住房安全问题的其他脱贫户。",
    "3. 第 19 栏包括已落实的省、市、县等各级补助资金之和；",
)
WAN = "#,##0.0000"


def header_rows() -> list[list[str | None]]:
    """The header as the preview page draws it too."""
    return [TOP, SUB, UNITS, NUMBERS]


def html_header() -> list[list[tuple[str, int, int]]]:
    """The header's cells as a page draws them: (text, colspan, rowspan), merged cells once."""
    rows = header_rows()
    spans = {(r1, c1): (c2 - c1 + 1, r2 - r1 + 1) for r1, c1, r2, c2 in MERGES}
    covered = {(r, c) for r1, c1, r2, c2 in MERGES for r in range(r1, r2 + 1)
               for c in range(c1, c2 + 1)} - set(spans)
    return [[(text or "", *spans.get((r, c), (1, 1)))
             for c, text in enumerate(row, start=1) if (r, c) not in covered]
            for r, row in enumerate(rows, start=1)]


def notes(due: ReportDue | None) -> list[str]:
    lines = list(NOTES)
    if due is not None:
        lines.append(f"4. 填写本表后，请于次月 {due.day} 日前报至市住房和城乡建设局、财政局、"
                     "民政局、乡村振兴局。")
    return lines


def workbook(report: MonthlyReport, filer: User, due: ReportDue | None,
             actor: Actor) -> tuple[str, bytes]:
    number, name = FORMS[report.form]
    rows = [[row.name, *row.cells()] for row in report.rows]
    if report.total is not None:
        rows.append([report.total.name, *report.total.cells()])
    sheet = xlsx.Sheet(
        title=f"{number} {report.month:%Y年%m月}", headers=NUMBERS, rows=rows,
        preamble=[report.title, f"填报单位（盖章）：{report.region.name}",
                  f"填报人：{filer.name}", f"联系电话：{filer.phone or ''}"],
        header_above=[TOP, SUB, UNITS], merges=MERGES, footer=notes(due), money_format=WAN)
    filename = f"{report.region.name}_{report.month:%Y-%m}_{name}.xlsx"
    return filename, xlsx.workbook([sheet], actor)
