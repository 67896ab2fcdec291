"""The site root: send people to the inspector app; supervisors bookmark /review."""

from flask import Blueprint, redirect

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    return redirect("/app/", code=302)
