"""Logging in to the desk and out: the cookie holds the same bearer token the API issues."""

import secrets

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from backend.client_address import client_address
from backend.extensions import db
from backend.rules import current_rules
from backend.services import accounts
from backend.services.errors import DomainError, TooManyAttempts
from backend.web.desk.base import COOKIE, LOGIN_ENDPOINT, csrf_for, safe_next, valid_csrf

bp = Blueprint("session", __name__)
LOGIN_COOKIE = "review_login"


@bp.route("/login", methods=["GET", "POST"])
def login():
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(16)
    error = None
    next_url = safe_next(request.values.get("next"))
    if request.method == "POST":
        if not valid_csrf(request.form.get("csrf", ""), "login:" + nonce):
            error = "页面已过期，请重新提交"
        else:
            try:
                token, row = accounts.login(
                    db.session, request.form.get("username", "").strip(),
                    request.form.get("password", ""), remote_addr=client_address(),
                    policy=current_rules().login)
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
    response = redirect(url_for(LOGIN_ENDPOINT))
    response.delete_cookie(COOKIE, path="/review")
    return response
