"""Users and their areas, for the county administrator: list, create, edit role and regions,
deactivate and reactivate, reset a password. A new password is shown once, on the page that
answers the form, and never stored or logged in the clear."""

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from backend import display
from backend.extensions import db
from backend.services import accounts, policy, regions
from backend.services.accounts import UserFields
from backend.services.errors import Conflict, InvalidInput, status_of
from backend.vocabulary import LEVEL_LABELS, ROLES
from backend.web.desk.base import actor, describe

bp = Blueprint("users", __name__)
NOTICES = {"saved": "已保存用户信息",
           "deactivated": "已停用该用户，其所有登录已失效",
           "reactivated": "已重新启用该用户"}


@bp.before_request
def require_user_manager():
    actor().require(policy.USER_MANAGE)


@bp.context_processor
def user_words() -> dict:
    return {"ROLES": ROLES, "LEVEL_LABELS": LEVEL_LABELS,
            "show_phone": lambda number: display.phone(number, actor()) or display.EMPTY}


@bp.get("/users", endpoint="users")
def user_list():
    found = accounts.list_users(db.session, actor())
    return render_template("review/users.html", users=found,
                           notice=NOTICES.get(request.args.get("notice")))


@bp.route("/users/new", methods=["GET", "POST"], endpoint="new_user")
def new_user():
    if request.method == "GET":
        return _form_page(None, {"username": "", "name": "", "phone": "", "role": "inspector",
                                 "regions": []})
    form = _typed(request.form)
    typed = request.form.get("password") or None
    try:
        user, password = accounts.add_user(db.session, actor(), form["username"], _fields(form),
                                           password=typed, hash_method=_hash_method())
    except (InvalidInput, Conflict) as refusal:
        db.session.rollback()
        return _form_page(None, form, problems=refusal.fields, error=_message(refusal),
                          status=status_of(refusal))
    return _form_page(user, _shown(user), password=None if typed else password,
                      notice=f"已创建用户 {user.username}")


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"], endpoint="edit_user")
def edit_user(user_id: int):
    user = accounts.managed_user(db.session, actor(), user_id)
    if request.method == "GET":
        return _form_page(user, _shown(user), notice=NOTICES.get(request.args.get("notice")))
    form = {**_typed(request.form), "username": user.username}
    try:
        accounts.update_user(db.session, actor(), user_id, _fields(form))
    except InvalidInput as refusal:
        db.session.rollback()
        return _form_page(user, form, problems=refusal.fields, error=_message(refusal),
                          status=status_of(refusal))
    return redirect(url_for("desk.users.edit_user", user_id=user_id, notice="saved"), 303)


@bp.post("/users/<int:user_id>/active", endpoint="set_active")
def set_active(user_id: int):
    active = request.form.get("active") == "1"
    try:
        accounts.set_active(db.session, actor(), user_id, active)
    except InvalidInput as refusal:
        db.session.rollback()
        user = accounts.managed_user(db.session, actor(), user_id)
        return _form_page(user, _shown(user), error=describe(refusal), status=422)
    return redirect(url_for("desk.users.edit_user", user_id=user_id,
                            notice="reactivated" if active else "deactivated"), 303)


@bp.post("/users/<int:user_id>/password", endpoint="reset_password")
def reset_password(user_id: int):
    try:
        password = accounts.reset_password(db.session, actor(), user_id,
                                           hash_method=_hash_method())
    except InvalidInput as refusal:
        db.session.rollback()
        user = accounts.managed_user(db.session, actor(), user_id)
        return _form_page(user, _shown(user), error=describe(refusal), status=422)
    user = accounts.managed_user(db.session, actor(), user_id)
    return _form_page(user, _shown(user), password=password,
                      notice="已重置密码，该用户原有的登录已全部失效")


def _typed(form) -> dict:
    return {"username": form.get("username", "").strip(), "name": form.get("name", "").strip(),
            "phone": form.get("phone", "").strip(), "role": form.get("role", ""),
            "department": form.get("department", ""),
            "regions": list(dict.fromkeys(form.getlist("regions")))}


def _shown(user) -> dict:
    return {"username": user.username, "name": user.name, "phone": user.phone or "",
            "role": user.role, "department": user.department or "",
            "regions": [r.code for r in user.regions]}


def _fields(form: dict) -> UserFields:
    return UserFields(name=form["name"], role=form["role"], phone=form["phone"] or None,
                      region_codes=tuple(form["regions"]),
                      department=form.get("department") or None)


def _message(refusal) -> str:
    return "请按提示修改标红的项目" if refusal.fields else refusal.message


def _hash_method() -> str:
    return current_app.config["PASSWORD_HASH_METHOD"]


def _form_page(user, form: dict, *, problems: dict | None = None, error: str | None = None,
               notice: str | None = None, password: str | None = None, status: int = 200):
    me = actor()
    return render_template(
        "review/user_form.html", user=user, form=form, problems=problems or {}, error=error,
        notice=notice, password=password, is_me=user is not None and user.id == me.user_id,
        tree=regions.region_tree(db.session, me)), status
