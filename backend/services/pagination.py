"""Keyset pagination with signed cursors: a page is "rows after this sort key", never an offset."""

import base64
import hashlib
import hmac
import json

from sqlalchemy import Select, tuple_

from backend.services.errors import InvalidCursor, InvalidInput

MAX_PAGE_SIZE = 500


def encode_cursor(values: list, key: bytes) -> str:
    body = base64.urlsafe_b64encode(json.dumps(values, ensure_ascii=False).encode()).decode()
    sig = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()[:24]
    return f"{body}.{sig}"


def decode_cursor(cursor: str, key: bytes, arity: int) -> list:
    """Return the sort key a cursor encodes; refuse one that was altered or is malformed."""
    body, _, sig = cursor.rpartition(".")
    expected = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()[:24]
    if not body or not hmac.compare_digest(sig, expected):
        raise InvalidCursor(fields={"cursor": "分页参数已被修改或已失效"})
    values = json.loads(base64.urlsafe_b64decode(body.encode()))
    if not isinstance(values, list) or len(values) != arity:
        raise InvalidCursor(fields={"cursor": "分页参数格式错误"})
    return values


def page(session, stmt: Select, sort_columns: list, *, cursor: str | None, limit: int,
         key: bytes) -> tuple[list, str | None]:
    """Run one page of `stmt` ordered by `sort_columns`; return the rows and the next cursor."""
    if not 1 <= limit <= MAX_PAGE_SIZE:  # 0 or less breaks the next cursor; more is a dump
        raise InvalidInput(fields={"limit": f"每页条数应在 1 至 {MAX_PAGE_SIZE} 之间"})
    if cursor:
        after = decode_cursor(cursor, key, len(sort_columns))
        stmt = stmt.where(tuple_(*sort_columns) > tuple_(*after))
    rows = session.scalars(stmt.order_by(*sort_columns).limit(limit + 1)).unique().all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor([getattr(last, c.key) for c in sort_columns], key)
    return rows, next_cursor
