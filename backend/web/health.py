"""GET /healthz: does the database answer, and can the photo store be reached?"""

import logging

from flask import Blueprint, jsonify
from sqlalchemy import text

from backend.extensions import db, object_store

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz():
    parts = {"db": "ok", "storage": "ok"}
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any failure means not healthy; the log says which
        log.exception("health check: database")
        parts["db"] = "error"
        db.session.rollback()
    try:
        object_store().check()
    except Exception:
        log.exception("health check: storage")
        parts["storage"] = "error"
    ok = all(v == "ok" for v in parts.values())
    return jsonify({"status": "ok" if ok else "error", **parts}), 200 if ok else 503
