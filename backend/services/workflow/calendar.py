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


def add_months(start: date, months: int) -> Deadline:
    """The same day `months` later, or that month's last day (一个月: 1 Jan → 1 Feb,
    31 Jan → 28/29 Feb)."""
    year, month = divmod(start.month - 1 + months, 12)
    year, month = start.year + year, month + 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return Deadline(date(year, month, min(start.day, last)))


def deadline(start: date, days: int, *, working: bool) -> Deadline:
    return add_working_days(start, days) if working else add_days(start, days)


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end`."""
    day, counted = start, 0
    while day < end:
        day += timedelta(days=1)
        counted += is_working_day(day)[0]
    return counted
