"""Supervisor review pages under /review: log in with a cookie, judge cases, work the flags.

Pages authenticate from an HttpOnly cookie holding the same bearer token the API issues; every
POST form carries a CSRF token derived from that cookie. Photo bytes go through the same
scope check as the API.
"""

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlencode

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from backend.extensions import db, object_store
from backend.models.base import CHINA_TZ, china_today
from backend.models.case import METHODS, STATUSES
from backend.models.household import CATEGORIES, GRADES
from backend.models.photo import PHASES
from backend.models.user import ROLE_LABELS
from backend.models.visit import REVIEW_STATES
from backend.services import accounts, case_reviews, ids, photos, plots, policy, review, visits
from backend.services.checklist_specs import OUTCOME_LABELS, RESULT_LABELS, VISIT_KIND_LABELS
from backend.services.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    TooManyAttempts,
    Unauthenticated,
)
from backend.services.overdue import Deadlines, overdue_items
from backend.services.photo_checks import FLAG_LABELS
from backend.services.policy import Actor

bp = Blueprint("review", __name__, url_prefix="/review")
COOKIE = "review_token"
LOGIN_COOKIE = "review_login"
NOTICES = {
    "approved": "已通过该检查记录",
    "returned": "已退回该检查记录",
    "confirmed": "已确认该标记",
    "dismissed": "已排除该标记，理由已记录",
}
ERRORS = {
    "comment_required": "退回时须填写意见",
    "reason_required": "排除标记时须填写理由",
    "already_approved": "该检查记录已通过审核，不能再审核",
    "forbidden": "您没有审核权限",
    "invalid": "提交的内容有误",
}


# --- authentication and CSRF -------------------------------------------------------------
@bp.before_request
def load_reviewer():
    g.pop("review_user", None)
    g.pop("review_actor", None)
    if request.endpoint in ("review.login", "review.static"):
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


def to_login():
    target = request.full_path.rstrip("?") if request.method == "GET" else url_for(
        "review.overview")
    response = redirect(url_for("review.login", next=target))
    response.delete_cookie(COOKIE, path="/review")
    return response


def csrf_for(value: str) -> str:
    key = current_app.secret_key.encode()
    return hmac.new(key, b"review-csrf:" + value.encode(), hashlib.sha256).hexdigest()


def valid_csrf(sent: str, value: str) -> bool:
    return bool(sent) and hmac.compare_digest(sent, csrf_for(value))


@bp.app_template_global()
def review_csrf() -> str:
    return csrf_for(request.cookies.get(COOKIE, ""))


def actor() -> Actor:
    return g.review_actor


def safe_next(target: str | None) -> str:
    """Only a path inside /review: never send someone off the site after a form."""
    if target and target.startswith("/review") and "//" not in target and "\\" not in target:
        return target
    return url_for("review.overview")


def today():
    return china_today()


@bp.route("/login", methods=["GET", "POST"])
def login():
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(16)
    error = None
    next_url = safe_next(request.values.get("next"))
    if request.method == "POST":
        if not valid_csrf(request.form.get("csrf", ""), "login:" + nonce):
            error = "页面已过期，请重新提交"
        else:
            config = current_app.config
            policy_ = accounts.LoginPolicy(
                max_failures=config["LOGIN_MAX_FAILURES"],
                lockout=timedelta(minutes=config["LOGIN_LOCKOUT_MINUTES"]),
                token_ttl=timedelta(days=config["TOKEN_TTL_DAYS"]))
            try:
                token, row = accounts.login(db.session, request.form.get("username", "").strip(),
                                            request.form.get("password", ""),
                                            remote_addr=request.remote_addr, policy=policy_)
            except TooManyAttempts:
                error = "登录失败次数过多，请稍后再试"
            except DomainError:
                error = "用户名或密码错误"
            else:
                response = redirect(next_url)
                response.set_cookie(COOKIE, token, httponly=True, samesite="Lax",
                                    secure=request.is_secure, path="/review",
                                    expires=row.expires_at)
                response.delete_cookie(LOGIN_COOKIE, path="/review")
                return response
    response = current_app.make_response((render_template(
        "review/login.html", csrf=csrf_for("login:" + nonce), error=error, next_url=next_url,
        username=request.form.get("username", "")), 200 if error is None else 401))
    response.set_cookie(LOGIN_COOKIE, nonce, httponly=True, samesite="Lax",
                        secure=request.is_secure, path="/review")
    return response


@bp.post("/logout")
def logout():
    accounts.logout(db.session, request.cookies[COOKIE])
    response = redirect(url_for("review.login"))
    response.delete_cookie(COOKIE, path="/review")
    return response


# --- errors as pages ---------------------------------------------------------------------
@bp.errorhandler(DomainError)
def domain_error(error: DomainError):
    if isinstance(error, Unauthenticated):
        return to_login()
    status = 404 if isinstance(error, NotFound) else 403 if isinstance(error, Forbidden) \
        else 409 if isinstance(error, Conflict) else 422 if isinstance(error, InvalidInput) \
        else 400
    return render_template("review/error.html", status=status, message=error.message), status


@bp.errorhandler(400)
@bp.errorhandler(404)
@bp.errorhandler(405)
def http_error(error):
    message = {404: "找不到该页面或记录", 405: "不支持该请求方法"}.get(
        error.code, error.description if error.code == 400 else "请求有误")
    return render_template("review/error.html", status=error.code, message=message), error.code


@bp.after_request
def no_store(response):
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Frame-Options"] = "DENY"
    return response


@bp.context_processor
def labels():
    return {"PHASES": PHASES, "FLAG_LABELS": FLAG_LABELS, "FLAG_STATUS": review.FLAG_STATUS_LABELS,
            "STATUSES": STATUSES, "METHODS": METHODS, "REVIEW_STATES": REVIEW_STATES,
            "KIND_LABELS": VISIT_KIND_LABELS, "RESULT_LABELS": RESULT_LABELS,
            "OUTCOME_LABELS": OUTCOME_LABELS, "CATEGORIES": CATEGORIES, "GRADES": GRADES,
            "ROLE_LABELS": ROLE_LABELS, "me": g.get("review_user"),
            "can_review": g.get("review_actor") is not None
            and g.review_actor.can(policy.VISIT_REVIEW),
            "show_id": show_id, "local": local_time, "metres": metres,
            "flag_detail": flag_detail, "today_date": today()}


TIME_PROBLEMS = {
    "exif_vs_capture": "相机时间与手机时间相差 {minutes} 分钟",
    "capture_in_future": "手机时间比上传时间晚 {minutes} 分钟",
    "exif_in_future": "相机时间比上传时间晚 {minutes} 分钟",
    "late_upload": "拍摄 {days} 天后才上传",
}


def flag_detail(flag) -> str:
    """The numbers behind a flag, in words."""
    d = flag.details or {}
    if flag.code == "far_from_house":
        source = "相机GPS" if d.get("source") == "exif" else "手机定位"
        return f"按{source}距房屋 {metres(d.get('distance_m'))}（限 {metres(d.get('limit_m'))}）"
    if flag.code == "low_accuracy":
        return f"定位精度 {metres(d.get('accuracy_m'))}（限 {metres(d.get('limit_m'))}）"
    if flag.code == "exif_phone_mismatch":
        return f"相机GPS与手机定位相距 {metres(d.get('distance_m'))}"
    if flag.code == "time_skew":
        return "；".join(TIME_PROBLEMS.get(p.get("kind"), "时间异常").format_map(
            {"minutes": p.get("minutes"), "days": p.get("days")}) for p in d.get("problems", []))
    if flag.code == "phase_order":
        if d.get("before_photo_taken_at"):
            return "改造后照片的拍摄时间早于改造前照片"
        return f"改造后照片拍摄于开工日期（{d.get('works_started_on')}）之前"
    if flag.code == "edited":
        return f"EXIF软件：{d.get('software')}"
    if flag.code == "reused_elsewhere":
        return f"与其他农户的 {len(d.get('matches', []))} 张照片近似"
    if flag.code == "exif_unreadable":
        return f"原因：{d.get('reason')}"
    if flag.code == "no_position":
        return "照片没有手机定位，也没有相机GPS"
    return ""


def show_id(number: str | None) -> str:
    if not number:
        return "—"
    return number if actor().can(policy.PII) else ids.mask(number)


def local_time(moment, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if moment is None:
        return "—"
    if isinstance(moment, datetime):
        return moment.astimezone(CHINA_TZ).strftime(fmt)
    return moment.isoformat()


def metres(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value / 1000:.1f} 公里" if value >= 1000 else f"{value:.0f} 米"


# --- pages -------------------------------------------------------------------------------
def deadlines() -> Deadlines:
    return Deadlines.from_config(current_app.config)


@bp.get("/")
def overview():
    args = request.args
    filters = review.OverviewFilters(
        town=_code(args.get("town")), village=_code(args.get("village")),
        status=args.get("status") if args.get("status") in STATUSES else None,
        method=args.get("method") if args.get("method") in METHODS else None,
        flag=args.get("flag") if args.get("flag") in (*FLAG_LABELS, "any") else None,
        returned=args.get("returned") == "1", overdue=args.get("overdue") == "1")
    page = max(1, args.get("page", 1, type=int))
    data = review.overview(db.session, actor(), filters, deadlines(), today(), limit=100,
                           offset=(page - 1) * 100)
    query = {k: v for k, v in args.items() if v and k != "page"}
    return render_template("review/overview.html", data=data, filters=filters, page=page,
                           query=query, urlencode=urlencode)


def _code(value: str | None) -> str | None:
    return value if value and len(value) == 12 and value.isdigit() else None


@bp.get("/cases/<int:case_id>")
def case(case_id: int):
    data = case_reviews.case_review(db.session, actor(), case_id)
    plot = plots.position_plot(data, **tile_settings())
    return render_template("review/case.html", r=data, plot=plot,
                           notice=NOTICES.get(request.args.get("notice")),
                           error=ERRORS.get(request.args.get("error")))


@bp.get("/cases/<int:case_id>/plot")
def case_plot(case_id: int):
    data = case_reviews.case_review(db.session, actor(), case_id)
    extent = request.args.get("r", type=int)
    plot = plots.position_plot(data, extent=extent, **tile_settings())
    return render_template("review/plot.html", r=data, plot=plot, zoom=extent)


def tile_settings() -> dict:
    return {"tile_url": current_app.config.get("MAP_TILE_URL") or None,
            "tile_crs": current_app.config.get("MAP_TILE_CRS") or "WGS-84"}


@bp.get("/photos/<photo_id>")
def photo(photo_id: str):
    data = case_reviews.photo_detail(db.session, actor(), photo_id)
    return render_template("review/photo.html", d=data, p=data["view"].photo,
                           notice=NOTICES.get(request.args.get("notice")),
                           error=ERRORS.get(request.args.get("error")))


@bp.get("/photos/<photo_id>/<any(thumb, large, original):variant>")
def photo_content(photo_id: str, variant: str):
    store = object_store()
    key, mime, url = photos.content_location(
        db.session, store, actor(), photo_id, variant,
        expires_in=current_app.config["S3_PRESIGN_EXPIRES"])
    if url:
        return redirect(url, 302)
    response = send_file(store.local_path(key) or store.open(key), mimetype=mime,
                         conditional=True, etag=key.rsplit("/", 1)[-1], max_age=86400)
    response.headers["Cache-Control"] = "private, max-age=86400, immutable"
    return response


@bp.get("/flags")
def flags():
    code = request.args.get("code") if request.args.get("code") in FLAG_LABELS else None
    status = request.args.get("status", "open")
    status = status if status in (*review.FLAG_STATUS_LABELS, "all") else "open"
    rows = review.flagged_photos(db.session, actor(), code=code, status=status,
                                 village=_code(request.args.get("village")))
    users = accounts.users_by_id(db.session, {r.flag.reviewed_by for r in rows})
    return render_template("review/flags.html", rows=rows, code=code, status=status,
                           users=users, notice=NOTICES.get(request.args.get("notice")),
                           error=ERRORS.get(request.args.get("error")))


@bp.get("/reused")
def reused():
    include = request.args.get("all") == "1"
    pairs = review.reused_pairs(db.session, actor(), include_reviewed=include)
    return render_template("review/reused.html", pairs=pairs, include=include,
                           notice=NOTICES.get(request.args.get("notice")),
                           error=ERRORS.get(request.args.get("error")))


@bp.get("/overdue")
def overdue():
    open_only = request.args.get("all") != "1"
    items = overdue_items(db.session, actor(), deadlines(), today(), open_only=open_only)
    return render_template("review/overdue.html", items=items, open_only=open_only,
                           today=today(), rules=deadlines())


# --- actions -----------------------------------------------------------------------------
@bp.post("/visits/<visit_id>/review")
def review_visit(visit_id: str):
    back = safe_next(request.form.get("next"))
    decision = request.form.get("decision")
    if decision not in ("approve", "return"):
        return _back(back, error="invalid")
    try:
        visits.review_visit(db.session, actor(), visit_id, decision,
                            request.form.get("comment", "").strip() or None, today=today())
    except InvalidInput:
        db.session.rollback()
        return _back(back, error="comment_required")
    except Conflict:
        db.session.rollback()
        return _back(back, error="already_approved")
    except Forbidden:
        return _back(back, error="forbidden")
    return _back(back, notice="approved" if decision == "approve" else "returned",
                 anchor=f"visit-{visit_id}")


@bp.post("/photos/<photo_id>/flags/<code>/review")
def review_flag(photo_id: str, code: str):
    back = safe_next(request.form.get("next"))
    decision = request.form.get("decision")
    try:
        review.review_flag(db.session, actor(), photo_id, code, decision,
                           request.form.get("reason"))
    except InvalidInput as error:
        db.session.rollback()
        return _back(back, error="reason_required" if "reason" in error.fields else "invalid")
    except Forbidden:
        return _back(back, error="forbidden")
    return _back(back, notice="confirmed" if decision == "confirm" else "dismissed")


def _back(target: str, *, anchor: str | None = None, **params):
    path, _, query = target.partition("?")
    kept = [p for p in query.split("&") if p and not p.startswith(("notice=", "error="))]
    kept += [urlencode({k: v}) for k, v in params.items()]
    url = path + ("?" + "&".join(kept) if kept else "")
    return redirect(url + (f"#{anchor}" if anchor else ""), 303)
