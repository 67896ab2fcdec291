"""Who may do what, and where: roles, permissions and the region scope of every query.

This is the one place that limits reads and writes to the caller's area. Every scoped
model carries a `village_code`; `in_scope` turns the caller's regions into code ranges.
"""

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, false, or_

from backend.models.region import code_range
from backend.services.errors import Forbidden, OutsideScope

READ = "read"
PII = "pii.read"
HOUSEHOLD_WRITE = "household.write"
HOUSEHOLD_IMPORT = "household.import"
HOUSEHOLD_LOCATE = "household.locate"
CASE_WRITE = "case.write"
CASE_APPLY = "case.apply"  # register an application (村委会 may apply on a household's behalf)
ATTACHMENT_WRITE = "attachment.write"
APPRAISAL_WRITE = "appraisal.write"
APPRAISAL_FILE = "appraisal.file"  # the county's filing (备案) of an appraisal report
VISIT_RECORD = "visit.record"
VISIT_REVIEW = "visit.review"
ROUND_MANAGE = "round.manage"
USER_MANAGE = "user.manage"
FUNDS_WRITE = "funds.write"  # the county's funds per level: 已落实, 已下达到县
# An area's reports: the monthly progress forms (004 附件1/2) and the payment ledger (台账)
REPORT_READ = "report.read"
TASK_SET = "task.set"  # a town's annual task (003 §八 五到乡镇: the county sets it)
RANKING_SNAPSHOT = "ranking.snapshot"  # the county's weekly 通报 of the towns' ranking (000)
# 随机抽查 (003 §七(三)): the county draws the sample for the checkers; auditors read the draws.
SPOT_CHECK_DRAW = "spot_check.draw"
SPOT_CHECK_READ = "spot_check.read"

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    # Inspectors include the technicians who appraise houses on site (鉴定); village cadres not.
    "inspector": frozenset({READ, HOUSEHOLD_LOCATE, APPRAISAL_WRITE, VISIT_RECORD,
                            ATTACHMENT_WRITE}),
    "village_cadre": frozenset({READ, HOUSEHOLD_WRITE, HOUSEHOLD_LOCATE, VISIT_RECORD,
                                CASE_APPLY, ATTACHMENT_WRITE}),
    "town_reviewer": frozenset(
        {READ, PII, HOUSEHOLD_WRITE, HOUSEHOLD_LOCATE, CASE_WRITE, CASE_APPLY, APPRAISAL_WRITE,
         VISIT_RECORD, VISIT_REVIEW, ROUND_MANAGE, ATTACHMENT_WRITE, REPORT_READ}
    ),
    "county_admin": frozenset(
        {READ, PII, HOUSEHOLD_WRITE, HOUSEHOLD_IMPORT, HOUSEHOLD_LOCATE, CASE_WRITE, CASE_APPLY,
         APPRAISAL_WRITE, APPRAISAL_FILE, VISIT_REVIEW, ROUND_MANAGE, USER_MANAGE, ATTACHMENT_WRITE,
         FUNDS_WRITE, TASK_SET, RANKING_SNAPSHOT, REPORT_READ, SPOT_CHECK_DRAW, SPOT_CHECK_READ}
    ),
    "auditor": frozenset({READ, REPORT_READ, SPOT_CHECK_READ}),
    # 财政: pays subsidies and co-signs the county's acceptance; sees payees' accounts.
    # Who records payments is each county's payment plan (subsidies/plan.py).
    "finance": frozenset({READ, PII, ATTACHMENT_WRITE, FUNDS_WRITE, REPORT_READ}),
    # A department's clerk enters its identity-check replies (部门比对) for the county.
    "department": frozenset({READ, PII, ATTACHMENT_WRITE}),
}


@dataclass(frozen=True)
class Actor:
    """The caller as the services see it: who, with which rights, over which code ranges."""

    user_id: int
    role: str
    ranges: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, user) -> "Actor":
        return cls(user.id, user.role, tuple(code_range(r.code, r.level) for r in user.regions))

    def can(self, permission: str) -> bool:
        return permission in ROLE_PERMISSIONS.get(self.role, frozenset())

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise Forbidden()

    def covers(self, code: str) -> bool:
        return any(low <= code <= high for low, high in self.ranges)


def in_scope(actor: Actor, column) -> ColumnElement[bool]:
    """Return a WHERE clause keeping rows whose region code lies in the actor's area."""
    if not actor.ranges:
        return false()
    return or_(*(column.between(low, high) for low, high in actor.ranges))


def scoped(stmt: Select, actor: Actor, model) -> Select:
    return stmt.where(in_scope(actor, model.village_code))


def get_in_scope(session, model, ident, actor: Actor, *, options=()):
    """Load one row of a scoped model; raise OutsideScope (a 404) if missing or elsewhere.
    `options` are loader options for the row (`session.get`)."""
    if isinstance(ident, int) and not 0 < ident < 2**31:
        raise OutsideScope()  # no such row, and the database would refuse the number
    row = session.get(model, ident, options=options)
    if row is None or not actor.covers(row.village_code):
        raise OutsideScope()
    return row
