"""Resident ID numbers (居民身份证号码, GB 11643-1999): validation and normalisation."""

from datetime import date

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"


def check_char(first17: str) -> str:
    """Return the ISO 7064 MOD 11-2 check character for the first 17 digits."""
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def normalise(raw: str) -> str:
    return raw.strip().replace(" ", "").upper()


def id_number_problem(raw: str, *, today: date | None = None) -> str | None:
    """Return why an ID number is invalid, in Chinese, or None when it is valid."""
    s = normalise(raw)
    if len(s) != 18:
        return f"身份证号应为18位，实为{len(s)}位"
    if not s[:17].isdigit() or s[17] not in "0123456789X":
        return "身份证号只能由数字和末位X组成"
    try:
        born = date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return "身份证号中的出生日期无效"
    if born.year < 1900 or born > (today or date.today()):
        return "身份证号中的出生日期无效"
    if check_char(s[:17]) != s[17]:
        return "身份证号校验位错误，请核对"
    return None
