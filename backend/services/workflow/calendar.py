"""Deadlines: calendar days where the seeds say 日, working days where they say 工作日.

Working days follow China's official calendar with its 调休 make-up days (PyPI
`chinese-calendar`; never hand-written holidays). Past the years the package knows, Monday to
Friday stands in, and the deadline says it is an estimate so the page can say so.
"""

from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar


@dataclass(frozen=True)
class Deadline:
    on: date
    estimated: bool = False  # counted Monday–Friday past the official calendar's years

    def words(self) -> str:
        return self.on.isoformat() + ("（按周一至周五估算，节假日安排公布后以其为准）"
                                      if self.estimated else "")


def is_working_day(day: date) -> tuple[bool, bool]:
    """(working, estimated) for one day."""
    try:
        return chinese_calendar.is_workday(day), False
    except NotImplementedError:
        return day.weekday() < 5, True


def add_working_days(start: date, days: int) -> Deadline:
    """The day by which something received on `start` is due within `days` working days:
    the `days`-th working day after `start`."""
    day, counted, estimated = start, 0, False
    while counted < days:
        day += timedelta(days=1)
        working, guessed = is_working_day(day)
        estimated |= guessed
        counted += working
    return Deadline(day, estimated)


def add_days(start: date, days: int) -> Deadline:
    return Deadline(start + timedelta(days=days))


def deadline(start: date, days: int, *, working: bool) -> Deadline:
    return add_working_days(start, days) if working else add_days(start, days)
