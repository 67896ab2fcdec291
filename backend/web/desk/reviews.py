"""The 待办 page's review tabs: submitted visits awaiting review (待审核), by kind and village,
oldest first; and the suspected dangerous houses (疑似危房) with their clocks. Approving or
returning a visit goes through the cases blueprint's review form."""

from flask import Blueprint, render_template, request

from backend.extensions import db
from backend.rules import current_rules
from backend.services import regions
from backend.services.visits import reviewing
from backend.web.desk.base import actor, notice_and_error, region_code, today

bp = Blueprint("reviews", __name__)


@bp.get("/todo/reviews")
def queue():
    me = actor()
    kind = request.args.get("kind")
    kind = kind if kind in reviewing.QUEUE_KINDS else None
    village = region_code(request.args.get("village"))
    items = reviewing.review_queue(db.session, me, kind=kind, village=village)
    villages = regions.villages(db.session, me)
    return render_template("review/review_queue.html", items=items, kind=kind, village=village,
                           villages=villages, KINDS=reviewing.QUEUE_KINDS, today=today(),
                           **notice_and_error())


@bp.get("/todo/suspected")
def suspected():
    items = reviewing.suspected_houses(db.session, actor(), current_rules().deadlines)
    return render_template("review/suspected.html", items=items, today=today(),
                           rules=current_rules().deadlines, **notice_and_error())
