"""What a typed value may be, said once for the API, the desk's forms, the import and exports.

Text: nothing a person types contains a control character (C0 other than tab and line breaks,
DEL, C1), half of a surrogate pair or a Unicode noncharacter (U+FFFE …): they come from a
broken client, a pasted binary or a fuzzer, and a database, an XML file (XLSX) or a strict JSON
parser may choke on them. Input refuses them; output escapes what was stored before.

Dates: every date a user types (an appraisal, an action, a payment, a deadline, a photo's or a
visit's time) falls between the founding of the state, before any record of this programme,
and a few years ahead, room for the furthest plan or deadline: "0665-10-22" or "9999-12-31"
is a typo.
"""

import re
from datetime import date, datetime

from backend.models.base import china_today

_NONCHARACTERS = "".join(f"{chr(plane + 0xFFFE)}{chr(plane + 0xFFFF)}"
                         for plane in range(0, 0x110000, 0x10000))
UNSAFE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef"
                    f"{_NONCHARACTERS}]")
UNSAFE_MESSAGE = "不能包含控制字符或无效字符"
EARLIEST_DATE = date(1949, 10, 1)
YEARS_AHEAD = 5


def has_unsafe(value: str) -> bool:
    return UNSAFE.search(value) is not None


def escape_unsafe(value: str) -> str:
    """Show each unsafe character as its code (`\\x18`, `\\ufffe`), keeping the rest."""
    return UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                      else f"\\u{ord(m.group()):04x}", value)


def latest_date() -> date:
    """The last date a user may type: `YEARS_AHEAD` years from today (29 Feb → 28 Feb)."""
    today = china_today()
    return today.replace(year=today.year + YEARS_AHEAD,
                         day=min(today.day, 28) if today.month == 2 else today.day)


def date_problem(value: date | datetime) -> str | None:
    """Why a typed date or time is implausible, or None."""
    day = value.date() if isinstance(value, datetime) else value
    if EARLIEST_DATE <= day <= latest_date():
        return None
    return f"日期应在 {EARLIEST_DATE} 至 {latest_date()} 之间"
