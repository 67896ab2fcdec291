"""When a county's periodic reports are due (报送时限), from its county file: each report with
its day of the following month and the sentence that sets it. Pure Python.

郯城: the monthly progress forms by the 3rd of the next month (004 §五(五), 附件1 填表说明 4);
屯留: the year's task progress by the 20th and the list of newly appraised households by the
5th (002 §四(二), 第二阶段).
"""

from dataclasses import dataclass
from datetime import date

from backend.services.workflow.calendar import add_months

# What the system itself produces for a report code; others are reminders of a paper return.
MONTHLY_PROGRESS = "monthly_progress"


@dataclass(frozen=True)
class ReportDue:
    code: str
    label: str
    day: int  # of the month after the period reported
    source: str

    def due_on(self, period: date) -> date:
        """The due date of the report for the month starting `period`."""
        return add_months(period, 1).on.replace(day=self.day)


def parse_schedule(items, path: str, errors: list[str]) -> tuple[ReportDue, ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        errors.append(f"{path}: a list of reports")
        return ()
    found = []
    for i, item in enumerate(items):
        where = f"{path}[{i}]"
        if not isinstance(item, dict) or not item.get("code") or not item.get("label") \
                or not item.get("source"):
            errors.append(f"{where}: code, label and source (the seed's sentence) are needed")
            continue
        day = item.get("day")
        if not isinstance(day, int) or isinstance(day, bool) or not 1 <= day <= 28:
            errors.append(f"{where}.day: a day of the month from 1 to 28")
            continue
        found.append(ReportDue(item["code"], item["label"], day, item["source"]))
    return tuple(found)


def last_period(today: date) -> date:
    """The month a report due this month covers: the one before today's."""
    return add_months(today.replace(day=1), -1).on
