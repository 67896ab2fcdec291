"""One JSON error shape for the whole API; statuses come from the catalogue's table.

Every error leaves as `{"error": {"code", "message", "fields"}}`; extra numbers behind a
refusal go in `error.details`.
"""

import logging

from flask import jsonify, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from backend.services import errors as e
from backend.services.errors import status_of
from backend.storage import StorageError

log = logging.getLogger(__name__)

# Werkzeug's own errors (routing, size limit, bad JSON) in the same shape and in Chinese.
HTTP_CODES = {
    400: ("bad_request", "请求格式有误"),
    401: ("unauthenticated", "请先登录"),
    403: ("forbidden", "没有权限执行此操作"),
    404: ("not_found", "找不到该资源"),
    405: ("method_not_allowed", "不支持该请求方法"),
    409: ("conflict", "与已保存的记录冲突"),
    413: ("request_too_large", "上传内容过大"),
    415: ("unsupported_media_type", "不支持的内容类型"),
    422: ("invalid_input", "提交的内容有误"),
    429: ("too_many_requests", "请求过于频繁，请稍后再试"),
}


def error_response(status: int, code: str, message: str, fields=None, details=None,
                   retry_after: int | None = None):
    body = {"code": code, "message": message, "fields": fields or {}}
    if details:
        body["details"] = details
    response = jsonify({"error": body})
    response.status_code = status
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def handle_domain_error(error: e.DomainError):
    retry_after = error.details.get("retry_after") or error.retry_after
    return error_response(status_of(error), error.code, error.message, error.fields,
                          error.details, retry_after)


def handle_http_exception(error: HTTPException):
    code, message = HTTP_CODES.get(error.code, ("http_error", error.name))
    if error.code == 413 and request.path.startswith("/api/v1/photos"):
        return handle_domain_error(e.PhotoTooLarge())
    fields = {}
    data = getattr(error, "data", None) or {}
    if error.code == 422 and "messages" in data:
        # webargs/flask-smorest validation: {"json": {"field": ["msg"]}, "query": {...}}
        for location in data["messages"].values():
            fields.update({name: _first_message(msgs) for name, msgs in location.items()})
        message = "提交的内容有误：" + "、".join(fields) if fields else message
    elif error.code == 400 and request.is_json is False and request.method in ("POST", "PUT"):
        message = "请求格式有误"
    response = error_response(error.code or 500, code, message, fields)
    if error.code == 405 and hasattr(error, "valid_methods"):
        response.headers["Allow"] = ", ".join(error.valid_methods or [])
    return response


def handle_database_error(error: OperationalError):
    """A database that is down or gave up waiting is 503 with Retry-After, as the store is,
    so phones try again; PostgreSQL's operational errors are all of that kind (connection,
    resources, locks, shutdown), while SQLite names every failure so and only its lock wait is."""
    if not (error.connection_invalidated or _postgresql(error.orig)
            or "database is locked" in str(error.orig)):
        return handle_unexpected(error)
    log.warning("database unavailable on %s %s: %s", request.method, request.path, error.orig)
    return handle_domain_error(e.DatabaseUnavailable())


def _postgresql(error: BaseException | None) -> bool:
    return type(error).__module__.startswith("psycopg")


def handle_unexpected(error: Exception):
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, "internal_error", "服务器内部错误，请稍后重试")


def _first_message(messages) -> str:
    if isinstance(messages, dict):  # nested schema: name the first inner problem
        inner = next(iter(messages.values()), "")
        return _first_message(inner)
    if isinstance(messages, list):
        return _first_message(messages[0]) if messages else ""
    return str(messages)


def register_error_handlers(app) -> None:
    """Register the handlers; the catch-all goes last so specific ones win."""
    app.register_error_handler(e.DomainError, handle_domain_error)
    app.register_error_handler(StorageError,
                               lambda error: handle_domain_error(e.from_storage(error)))
    app.register_error_handler(OperationalError, handle_database_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
