"""The desk: server-rendered pages under /review for town and county staff.

One parent blueprint carries the cookie login, CSRF check, error pages and template words
(`base`); each concern is a child blueprint registered here: logging in (`session`), cases and
visit review (`cases`), the procedure's to-do list, actions, applications and publicity
lists (`workflow`), the review queue and suspected dangerous houses (`reviews`), a case's
subsidy, payments and the county's 拨付 page (`money`), the
monthly progress forms and their filing (`reports`), the towns' weekly ranking and annual
tasks (`ranking`), photos and flags (`photos`), survey rounds (`rounds`), random spot checks
(`spot_checks`).
"""

from flask import Blueprint

from backend.web.desk import (
    base,
    cases,
    households,
    money,
    photos,
    ranking,
    reports,
    reviews,
    rounds,
    session,
    spot_checks,
    users,
    workflow,
)


def blueprint() -> Blueprint:
    desk = Blueprint("desk", __name__, url_prefix="/review")
    base.install(desk)
    for child in (session.bp, cases.bp, workflow.bp, reviews.bp, money.bp, reports.bp,
                  ranking.bp, photos.bp, rounds.bp, spot_checks.bp, households.bp, users.bp):
        desk.register_blueprint(child)
    return desk
