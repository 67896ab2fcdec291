"""The site root: send people to the inspector app; supervisors bookmark /review. Browsers ask
for /favicon.ico on every page that names no icon: answer it instead of logging a 404."""

from flask import Blueprint, redirect, url_for

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    return redirect("/app/", code=302)


@bp.get("/favicon.ico")
def favicon():
    return redirect(url_for("static", filename="review/favicon.svg"), code=301)
