"""Work past the seeds' deadlines: hazards reported or appraised late, works started late,
subsidies paid late, rectifications not closed in time.

Every function takes the session and the caller (`Actor`) and reads only inside the caller's
area; each costs a constant number of queries however many cases there are.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from backend.models import Appraisal, Case, Household, Rectification, Visit
from backend.models.base import china_date
from backend.services import policy
from backend.services.policy import Actor
from backend.services.subsidies import payments
from backend.services.subsidies.plan import AFTER_LABELS
from backend.services.workflow.templates import workflow_of
from backend.vocabulary import OVERDUE_LABELS, SURVEY_KINDS


@dataclass(frozen=True)
class Deadlines:
    """The seeds' deadlines in days, from settings."""

    hazard_report: int = 5
    hazard_appraise: int = 7
    works_start: int = 30
    # Payments are due by each county's payment plan (its workflow file, subsidies/plan.py).

    @classmethod
    def from_config(cls, config) -> "Deadlines":
        return cls(config["HAZARD_REPORT_DAYS"], config["HAZARD_APPRAISE_DAYS"],
                   config["WORKS_START_DAYS"])


@dataclass
class OverdueItem:
    kind: str
    household: Household
    case_id: int | None
    due_on: date
    done_on: date | None  # None: still not done
    detail: str
    ref: str | None = None  # visit id or rectification id

    @property
    def label(self) -> str:
        return OVERDUE_LABELS[self.kind]

    def days_over(self, today: date) -> int:
        return ((self.done_on or today) - self.due_on).days


def overdue_items(session, actor: Actor, rules: Deadlines, today: date, *,
                  open_only: bool = False) -> list[OverdueItem]:
    """Work past the seeds' deadlines in the actor's area, most overdue first."""
    items = _hazard_items(session, actor, rules, today)
    items += _case_items(session, actor, rules, today)
    items += _rectification_items(session, actor, today)
    if open_only:
        items = [i for i in items if i.done_on is None]
    items.sort(key=lambda i: (i.done_on is not None, -i.days_over(today)))
    return items


def _hazard_items(session, actor, rules: Deadlines, today: date) -> list[OverdueItem]:
    rows = session.execute(policy.scoped(
        select(Visit, Household).join(Household, Household.id == Visit.household_id)
        .where(Visit.kind.in_(SURVEY_KINDS.values()), Visit.outcome == "suspected_danger"),
        actor, Visit)
        .order_by(Visit.started_at)).all()
    if not rows:
        return []
    appraised: dict[int, list[date]] = defaultdict(list)
    for hid, day in session.execute(select(Appraisal.household_id, Appraisal.appraised_on)
                                    .where(Appraisal.household_id.in_({h.id for _, h in rows}))):
        appraised[hid].append(day)
    items = []
    for visit, household in rows:
        c = hazard_clocks(visit, appraised[household.id], rules)
        if c.reported_on > c.report_due:
            items.append(OverdueItem("hazard_report", household, visit.case_id,
                                     c.report_due, c.reported_on,
                                     f"{c.found_on} 排查发现疑似危房，{c.reported_on} 才上报",
                                     visit.id))
        if c.appraised_on and c.appraised_on <= c.appraise_due:
            continue
        if c.appraised_on or today > c.appraise_due:
            items.append(OverdueItem("hazard_appraise", household, visit.case_id,
                                     c.appraise_due, c.appraised_on,
                                     f"{c.found_on} 排查发现疑似危房，应于 {c.appraise_due} "
                                     "前完成鉴定", visit.id))
    return items


@dataclass(frozen=True)
class HazardClocks:
    """A suspected danger's two clocks, in calendar days from the day it was found (004 §二(四):
    发现住房安全隐患后……原则上要在 5 日内通过乡镇报送县住建局。县住建局一周内进行鉴定评估).
    It is reported when its record reaches the county's system; appraised by the first
    appraisal of the house on or after that day."""

    found_on: date
    report_due: date
    reported_on: date
    appraise_due: date
    appraised_on: date | None


def hazard_clocks(visit: Visit, appraisal_days: list[date], rules: Deadlines) -> HazardClocks:
    found_on = china_date(visit.started_at)
    days = sorted(d for d in appraisal_days if d >= found_on)
    return HazardClocks(found_on, found_on + timedelta(days=rules.hazard_report),
                        china_date(visit.received_at),
                        found_on + timedelta(days=rules.hazard_appraise),
                        days[0] if days else None)


def _case_items(session, actor, rules: Deadlines, today: date) -> list[OverdueItem]:
    rows = session.execute(policy.scoped(
        select(Case, Household).join(Household, Household.id == Case.household_id)
        .where(Case.status != "cancelled")
        .where((Case.agreement_signed_on.is_not(None)) | (Case.accepted_on.is_not(None))),
        actor, Case)).all()
    paid = payments.payments_of(session, [c.id for c, _ in rows if c.subsidy_yuan is not None])
    items = []
    for case, household in rows:
        if case.agreement_signed_on:
            due = case.agreement_signed_on + timedelta(days=rules.works_start)
            started = case.started_on
            if (started is None and today > due) or (started and started > due):
                items.append(OverdueItem("works_start", household, case.id, due, started,
                                         f"{case.agreement_signed_on} 签订协议，应于 {due} "
                                         "前开工"))
        if case.id in paid:
            items += _payment_items(session, case, household, paid[case.id], today)
    return items


def _payment_items(session, case: Case, household: Household, paid: list, today: date
                   ) -> list[OverdueItem]:
    """Tranches not paid by the county's deadline, or paid after it (004 §四(三))."""
    _, spec = workflow_of(session, case)
    items = []
    for due in payments.dues(case, spec.payments, paid):
        if due.due_on is None:
            continue
        done = payments.completed_on(due, paid)
        if (done is None and today > due.due_on) or (done and done > due.due_on):
            items.append(OverdueItem(
                "payment", household, case.id, due.due_on, done,
                f"{due.available_on} {AFTER_LABELS[due.tranche.after].removesuffix('后')}，"
                f"{due.tranche.label}应于 {due.due_on} 前拨付（{due.tranche.source}）"))
    return items


def _rectification_items(session, actor, today: date) -> list[OverdueItem]:
    rows = session.execute(policy.scoped(
        select(Rectification, Household).join(Household,
                                              Household.id == Rectification.household_id)
        .where(((Rectification.status == "open") & (Rectification.due_on < today))
               | (Rectification.status == "closed")), actor, Rectification)).all()
    items = []
    for rect, household in rows:
        done = china_date(rect.closed_at) if rect.closed_at else None
        if rect.status == "closed" and (done is None or done <= rect.due_on):
            continue
        items.append(OverdueItem("rectification", household, rect.case_id, rect.due_on,
                                 done if rect.status == "closed" else None,
                                 f"{rect.task}（问题：{rect.problem or '—'}）", str(rect.id)))
    return items
