"""Desk pages of photos: one photo with its facts and flags, its bytes, the flag worklist,
reused pairs, and a reviewer's decision on a flag (confirm, or dismiss with a reason)."""

from flask import Blueprint, render_template, request

from backend import responses
from backend.extensions import db
from backend.services import accounts
from backend.services.cases import dossier
from backend.services.errors import Forbidden, InvalidInput
from backend.services.photos import flags as photo_flags
from backend.vocabulary import FLAG_LABELS, FLAG_STATUS_LABELS
from backend.web.desk.base import actor, form_action, notice_and_error, region_code

bp = Blueprint("photos", __name__)


@bp.get("/photos/<photo_id>")
def photo(photo_id: str):
    data = dossier.photo_detail(db.session, actor(), photo_id)
    return render_template("review/photo.html", d=data, p=data["view"].photo,
                           **notice_and_error())


@bp.get("/photos/<photo_id>/<any(thumb, large, original):variant>")
def photo_content(photo_id: str, variant: str):
    return responses.photo_content(actor(), photo_id, variant)


@bp.get("/flags")
def flags():
    code = request.args.get("code") if request.args.get("code") in FLAG_LABELS else None
    status = request.args.get("status", "open")
    status = status if status in (*FLAG_STATUS_LABELS, "all") else "open"
    rows = photo_flags.flagged_photos(db.session, actor(), code=code, status=status,
                                      village=region_code(request.args.get("village")))
    users = accounts.users_by_id(db.session, {r.flag.reviewed_by for r in rows})
    refs = photo_flags.photo_refs(db.session, actor(), [r.flag for r in rows])
    return render_template("review/flags.html", rows=rows, code=code, status=status,
                           users=users, refs=refs, **notice_and_error())


@bp.get("/reused")
def reused():
    include = request.args.get("all") == "1"
    pairs = photo_flags.reused_pairs(db.session, actor(), include_reviewed=include)
    return render_template("review/reused.html", pairs=pairs, include=include,
                           **notice_and_error())


@bp.post("/photos/<photo_id>/flags/<code>/review")
def decide_flag(photo_id: str, code: str):
    decision = request.form.get("decision")

    def error_code(error):
        if isinstance(error, InvalidInput):
            return "reason_required" if "reason" in error.fields else "invalid"
        return "forbidden" if isinstance(error, Forbidden) else None

    return form_action(
        lambda: photo_flags.decide_flag(db.session, actor(), photo_id, code, decision,
                                        request.form.get("reason")),
        notice="confirmed" if decision == "confirm" else "dismissed", error_code=error_code)
