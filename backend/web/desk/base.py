"""What every desk page shares: the cookie login and CSRF check, the caller, error pages in
the catalogue's statuses, the words templates use, and the redirect after a form.

Pages authenticate from an HttpOnly cookie holding the same bearer token the API issues; every
POST form carries a CSRF token derived from that cookie.
"""

import hashlib
import hmac
from collections.abc import Callable
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for

from backend import display
from backend.extensions import db
from backend.models.base import MAX_INTEGER, china_today
from backend.services import accounts, inputs, policy
from backend.services.checklists.names import UNFILED_LABEL
from backend.services.checklists.names import names as checklist_names
from backend.services.errors import DomainError, Unauthenticated, from_storage, status_of
from backend.services.policy import Actor
from backend.storage import StorageError
from backend.vocabulary import (
    ACTION_LABELS,
    ATTACHMENT_KINDS,
    BUILD_MODES,
    CATEGORIES,
    DEPARTMENT_RESULTS,
    DEPARTMENTS,
    FLAG_LABELS,
    FLAG_STATUS_LABELS,
    FUND_KINDS,
    FUND_LEVELS,
    GRADES,
    METHODS,
    OBJECTION_STATUSES,
    OUTCOME_LABELS,
    PAYEE_KINDS,
    PHASES,
    POLICY_LEVELS,
    POLICY_RESULTS,
    RECOVERY_STATUSES,
    RESULT_LABELS,
    REVIEW_STATES,
    ROLE_LABELS,
    ROUND_KINDS,
    STATUSES,
    STRUCTURE_TYPES,
    TRANCHES,
    VISIT_KIND_LABELS,
)

COOKIE = "review_token"
LOGIN_ENDPOINT = "desk.session.login"
# What a page says after a form sent the user back to it (`?notice=` / `?error=`).
NOTICES = {
    "approved": "已通过该检查记录",
    "returned": "已退回该检查记录",
    "confirmed": "已确认该标记",
    "dismissed": "已排除该标记，理由已记录",
    "opened": "已开启本轮排查，农户已分配给检查员",
    "reasons": "已保存未排查原因",
    "closed": "本轮排查已结束",
    "moved": "已改派所选农户",
    "acted": "已办理",
    "applied": "已登记改造申请",
    "uploaded": "附件已上传",
    "funded": "已保存核定补助",
    "paid": "已登记拨付",
    "paid_again": "该笔拨付此前已登记，未重复记录",
    "recovered": "已登记追回款",
    "allocated": "已登记资金",
    "filed": "已登记报送",
}
ERRORS = {
    "comment_required": "退回时须填写意见",
    "reason_required": "排除标记时须填写理由",
    "already_approved": "该检查记录已通过审核，不能再审核",
    "forbidden": "您没有审核权限",
    "invalid": "提交的内容有误",
}


def install(bp: Blueprint) -> None:
    """Put the login check, error pages, headers and template words on the desk blueprint."""
    bp.before_request(load_reviewer)
    bp.before_request(refuse_unsafe_text)
    bp.register_error_handler(DomainError, domain_error)
    bp.register_error_handler(StorageError, lambda error: domain_error(from_storage(error)))
    for status in (400, 404, 405):
        bp.register_error_handler(status, http_error)
    bp.after_request(no_store)
    bp.context_processor(template_words)
    bp.app_template_global("review_csrf")(review_csrf)


# --- authentication and CSRF -------------------------------------------------------------
def load_reviewer():
    g.pop("review_user", None)
    g.pop("review_actor", None)
    if request.endpoint == LOGIN_ENDPOINT:
        return None
    token = request.cookies.get(COOKIE)
    if not token:
        return to_login()
    try:
        user = accounts.authenticate(db.session, token)
    except Unauthenticated:
        return to_login()
    g.review_user = user
    g.review_actor = Actor.of(user)
    if request.method == "POST" and not valid_csrf(request.form.get("csrf", ""), token):
        abort(400, "页面已过期，请刷新后重试")
    return None


def refuse_unsafe_text():
    """A form or query holding a control character is refused whole, as the API refuses it
    (`backend.services.inputs`): one check for every page's fields, typed or hidden."""
    sent = [*request.args.items(multi=True), *request.form.items(multi=True)]
    if any(inputs.has_unsafe(key) or inputs.has_unsafe(value) for key, value in sent):
        return render_template("review/error.html", status=422,
                               message=f"提交的内容{inputs.UNSAFE_MESSAGE}，请删除后重试"), 422
    return None


def to_login():
    target = request.full_path.rstrip("?") if request.method == "GET" else url_for(
        "desk.cases.overview")
    response = redirect(url_for(LOGIN_ENDPOINT, next=target))
    response.delete_cookie(COOKIE, path="/review")
    return response


def csrf_for(value: str) -> str:
    key = current_app.secret_key.encode()
    return hmac.new(key, b"review-csrf:" + value.encode(), hashlib.sha256).hexdigest()


def valid_csrf(sent: str, value: str) -> bool:
    return bool(sent) and hmac.compare_digest(sent, csrf_for(value))


def review_csrf() -> str:
    return csrf_for(request.cookies.get(COOKIE, ""))


def actor() -> Actor:
    return g.review_actor


def today():
    return china_today()


def safe_next(target: str | None) -> str:
    """Only a path inside /review: never send someone off the site after a form."""
    if target and target.startswith("/review") and "//" not in target and "\\" not in target:
        return target
    return url_for("desk.cases.overview")


# --- errors as pages ---------------------------------------------------------------------
def domain_error(error: DomainError):
    if isinstance(error, Unauthenticated):
        return to_login()
    status = status_of(error)
    return render_template("review/error.html", status=status, message=error.message), status


def http_error(error):
    message = {404: "找不到该页面或记录", 405: "不支持该请求方法"}.get(
        error.code, error.description if error.code == 400 else "请求有误")
    return render_template("review/error.html", status=error.code, message=message), error.code


def no_store(response):
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Frame-Options"] = "DENY"
    return response


def template_words() -> dict:
    return {"PHASES": PHASES, "FLAG_LABELS": FLAG_LABELS, "FLAG_STATUS": FLAG_STATUS_LABELS,
            "STATUSES": STATUSES, "METHODS": METHODS, "REVIEW_STATES": REVIEW_STATES,
            "KIND_LABELS": VISIT_KIND_LABELS, "RESULT_LABELS": RESULT_LABELS,
            "OUTCOME_LABELS": OUTCOME_LABELS, "CATEGORIES": CATEGORIES, "GRADES": GRADES,
            "ROLE_LABELS": ROLE_LABELS, "ROUND_KINDS": ROUND_KINDS,
            "STRUCTURE_TYPES": STRUCTURE_TYPES, "BUILD_MODES": BUILD_MODES,
            "UNFILED_LABEL": UNFILED_LABEL, "danger_point": checklist_names().danger_point,
            "me": g.get("review_user"),
            "can_review": g.get("review_actor") is not None
            and g.review_actor.can(policy.VISIT_REVIEW),
            "can_manage_users": g.get("review_actor") is not None
            and g.review_actor.can(policy.USER_MANAGE),
            "can_read_reports": g.get("review_actor") is not None
            and g.review_actor.can(policy.REPORT_READ),
            "can_read_spot_checks": g.get("review_actor") is not None
            and g.review_actor.can(policy.SPOT_CHECK_READ),
            "show_id": show_id, "show_account": show_account, "yuan": display.yuan,
            "local": display.local_time, "metres": display.metres,
            "camera_time": display.camera_time,
            "overdue_words": display.overdue_words, "flag_detail": display.flag_detail,
            "flag_photo_ids": display.flag_photo_ids, "match_measure": display.match_measure,
            "OUTSIDE_AREA_PHOTO": display.OUTSIDE_AREA_PHOTO,
            "due_words": display.due_words, "public_id": display.masked_id_number,
            "ACTION_LABELS": ACTION_LABELS, "ATTACHMENT_KINDS": ATTACHMENT_KINDS,
            "DEPARTMENTS": DEPARTMENTS, "DEPARTMENT_RESULTS": DEPARTMENT_RESULTS,
            "OBJECTION_STATUSES": OBJECTION_STATUSES, "FUND_LEVELS": FUND_LEVELS,
            "FUND_KINDS": FUND_KINDS, "TRANCHES": TRANCHES, "PAYEE_KINDS": PAYEE_KINDS,
            "POLICY_LEVELS": POLICY_LEVELS, "POLICY_RESULTS": POLICY_RESULTS,
            "RECOVERY_STATUSES": RECOVERY_STATUSES,
            "answers_by": answers_by, "today_date": today()}


def answers_by(visits) -> dict:
    """The visits (or reviewed items) that answer a returned one, by the returned one's id."""
    visits = [getattr(v, "visit", v) for v in visits]
    return {v.answers_visit_id: v for v in visits if v.answers_visit_id}


def show_id(number: str | None) -> str:
    return display.id_number(number, actor()) or display.EMPTY


def show_account(number: str | None) -> str:
    return display.account(number, actor()) or display.EMPTY


# --- forms -------------------------------------------------------------------------------
def notice_and_error() -> dict:
    """The message a redirect after a form asked this page to show."""
    return {"notice": NOTICES.get(request.args.get("notice")),
            "error": ERRORS.get(request.args.get("error"))}


def redirect_back(target: str, *, anchor: str | None = None, **params):
    """303 to the page the form came from, with its own notice or error replaced."""
    path, _, query = target.partition("?")
    kept = [p for p in query.split("&") if p and not p.startswith(("notice=", "error="))]
    kept += [urlencode({k: v}) for k, v in params.items()]
    url = path + ("?" + "&".join(kept) if kept else "")
    return redirect(url + (f"#{anchor}" if anchor else ""), 303)


def form_action(action: Callable[[], object], *, notice: str,
                error_code: Callable[[DomainError], str | None], anchor: str | None = None):
    """Run a form's service call; on a refusal roll back and send the user back with its
    message (`error_code` names it; None shows the error page instead), else back with the
    notice. The page the form came from is its `next` field."""
    back = safe_next(request.form.get("next"))
    try:
        action()
    except DomainError as error:
        db.session.rollback()
        code = error_code(error)
        if code is None:
            raise
        return redirect_back(back, error=code)
    return redirect_back(back, notice=notice, anchor=anchor)


def describe(error: DomainError) -> str:
    """The field messages of a refusal, or its message when it names no field."""
    if error.fields:
        return "；".join(str(message) for message in error.fields.values())
    return error.message


def region_code(value: str | None) -> str | None:
    return value if value and len(value) == 12 and value.isdigit() else None


def is_id(typed: str) -> bool:
    """A row id as typed in a form: ASCII digits (isdigit() alone passes "²") a database
    integer can hold."""
    return typed.isascii() and typed.isdigit() and 0 < int(typed) <= MAX_INTEGER


def whole_number(typed: str | None, default: int | None = None) -> int | None:
    """A whole number typed in a query or a form (a page, a year, a scale); `default` when it
    is missing, not a number or more than a database integer holds."""
    typed = (typed or "").strip()
    number = int(typed) if typed.isascii() and typed.lstrip("-").isdigit() else None
    return number if number is not None and abs(number) <= MAX_INTEGER else default
