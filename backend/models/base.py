"""Column types and defaults shared by the models."""

from datetime import UTC, date, datetime, timedelta, timezone

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

# Users' dates and camera clocks are China time; everything is stored in UTC.
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")
# The largest id or whole number a column holds (PostgreSQL's `integer`): a larger one in a
# path, a query or a body is refused before it reaches the database, which would overflow.
MAX_INTEGER = 2**31 - 1


def utc_now() -> datetime:
    return datetime.now(UTC)


def china_date(moment: datetime) -> date:
    """The calendar day in China at an aware moment: what deadlines and forms count in."""
    return moment.astimezone(CHINA_TZ).date()


def china_today() -> date:
    return china_date(utc_now())


class UTCDateTime(TypeDecorator):
    """A timestamp stored as naive UTC and read back as an aware UTC datetime.

    SQLite has no time zones; storing naive UTC everywhere keeps both databases alike.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)
