"""Visits: record one from the phone (idempotent), review it, and derive what follows from it.

A visit's results open rectifications (整改) for failed items and close (销号) earlier ones that
now pass with a photo; construction and acceptance visits move the case along, dated by the
visits themselves, so progress is never typed twice; an appraisal (鉴定) visit records the
household's graded appraisal.
"""

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import timedelta

from sqlalchemy import select

from backend.models import Case, Household, Photo, Rectification, User, Visit, VisitResult
from backend.models.base import china_date, utc_now
from backend.services import audit, checklists, households, policy, rounds
from backend.services.checklists.rules import (
    check_appraisal_after,
    check_outcome,
    check_result,
    missing_signoffs,
)
from backend.services.errors import InvalidInput, VisitConflict, VisitRejected
from backend.services.locking import insert_or_winner
from backend.services.photos.checks import PhotoRules
from backend.services.photos.flagging import refresh_own_flags
from backend.services.policy import Actor
from backend.services.visits.inputs import RectificationInput, VisitInput
from backend.services.visits.review import check_answer
from backend.services.workflow import engine as workflow  # the module: it imports visits too
from backend.vocabulary import PHASES, VISIT_KIND_LABELS

CLOCK_SLACK = timedelta(minutes=10)  # phones' clocks run a little ahead


@dataclass(frozen=True)
class VisitRules:
    rectification_days: int = 15
    photos: PhotoRules = field(default_factory=PhotoRules)  # flags of photos it ties to itself


def body_hash(body: dict) -> str:
    """Hash the phone's body canonically, so a replay is recognised whatever its key order."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                           default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def record_visit(session, actor: Actor, visit_id: str, body: VisitInput, *, rules: VisitRules,
                 digest: str) -> tuple[Visit, bool]:
    """Create a visit from the phone's body, or recognise its replay; return (visit, created).

    `digest` is `body_hash` of the JSON the phone sent: a replay must match it exactly.
    """
    actor.require(policy.VISIT_RECORD)
    existing = session.get(Visit, visit_id)
    if existing is not None:
        return _replayed(existing, actor, digest), False
    if body.kind == "appraisal":
        # An appraisal grades the house, and C/D makes it eligible for renovation money.
        actor.require(policy.APPRAISAL_WRITE)

    household = policy.get_in_scope(session, Household, body.household_id, actor)
    case = _case_of(session, household, body.case_id)
    check_answer(session, household.id, body.answers_visit_id)
    template = checklists.find_template(session, body.template_code, body.template_version)
    spec = checklists.spec_of(template)
    _check_kind_and_times(body, spec)
    photo_ids = _referenced_photos(body)
    problems = {**_check_results(body, spec), **_check_form(body, spec)}
    if problems:
        raise VisitRejected(fields=problems)

    visit = _new_visit(visit_id, body, household, case, template, spec, actor, digest)
    if winner := insert_or_winner(session, visit, Visit, visit_id):
        return _replayed(winner, actor, digest), False  # a replay, or 409
    _link_photos(session, visit, photo_ids, household, rules.photos)
    rounds.record_outcome(session, visit)
    if visit.kind == "appraisal":
        # Its failed items are the house's danger points: they grade the house for
        # renovation (C/D) instead of opening a builder's 15-day rectifications.
        _record_appraisal(session, actor, visit, household, spec)
    else:
        _open_and_close_rectifications(
            session, actor, visit, spec, rules,
            {r.item: r.rectification for r in body.results if r.rectification})
    if case is not None:
        _advance_case(session, case, visit, actor, rules.photos)
    audit.record(session, actor, "create", "visit", visit.id,
                 {"household_id": household.id, "kind": visit.kind, "results": len(visit.results)})
    session.commit()
    return visit, True


def _replayed(existing: Visit, actor: Actor, digest: str) -> Visit:
    if not actor.covers(existing.village_code):
        raise policy.OutsideScope()
    if existing.body_sha256 != digest:
        raise VisitConflict()
    return existing


def _new_visit(visit_id: str, body: VisitInput, household: Household, case: Case | None,
               template, spec, actor: Actor, digest: str) -> Visit:
    visit = Visit(
        id=visit_id, household_id=household.id, village_code=household.village_code,
        case_id=case.id if case else None, round_id=body.round_id,
        template_id=template.id, kind=body.kind,
        phase=body.phase, started_at=body.started_at, ended_at=body.ended_at,
        device_lat=body.position and body.position.lat,
        device_lon=body.position and body.position.lon,
        device_accuracy_m=body.position and body.position.accuracy_m,
        device_fix_at=body.position and body.position.fix_at,
        inspector_id=actor.user_id, note=body.note, outcome=body.outcome,
        danger_points=body.danger_points, signoffs=_plain([asdict(s) for s in body.signoffs]),
        appraisal_after=body.appraisal_after, body_sha256=digest, received_at=utc_now(),
        answers_visit_id=body.answers_visit_id,
    )
    for result in body.results:
        visit.results.append(VisitResult(
            node_code=spec.node_of(result.item).code, item_code=result.item,
            result=result.result, value=result.value, note=result.note,
            photo_ids=list(result.photos)))
    return visit


def _case_of(session, household: Household, case_id) -> Case | None:
    if case_id is None:
        return None
    case = session.get(Case, case_id)
    if case is None or case.household_id != household.id:
        raise InvalidInput(fields={"case_id": "该项目不属于此农户"})
    return case


def _check_kind_and_times(body: VisitInput, spec) -> None:
    problems = {}
    if body.kind not in VISIT_KIND_LABELS:
        problems["kind"] = "未知的检查类型"
    elif body.kind not in spec.kinds:
        problems["kind"] = f"检查表“{spec.name}”不适用于{VISIT_KIND_LABELS[body.kind]}"
    if body.phase not in PHASES:
        problems["phase"] = "应为 before、during 或 after"
    now = utc_now()
    if body.started_at > now + CLOCK_SLACK:
        problems["started_at"] = "开始时间晚于当前时间"
    if body.ended_at > now + CLOCK_SLACK:
        problems["ended_at"] = "结束时间晚于当前时间"
    if body.ended_at < body.started_at:
        problems["ended_at"] = "结束时间早于开始时间"
    if problems:
        raise VisitRejected(fields=problems)


def _referenced_photos(body: VisitInput) -> list[str]:
    return [p for r in body.results for p in r.photos] + list(body.photos)


def _check_results(body: VisitInput, spec) -> dict:
    problems, seen = {}, set()
    for result in body.results:
        code = result.item
        field = f"results.{code}"
        if code in seen:
            problems[field] = "同一检查项重复填写"
            continue
        seen.add(code)
        try:
            item = spec.item(code)
        except KeyError:
            problems[field] = f"检查表“{spec.name}”没有此检查项"
            continue
        found = check_result(item, result.result, result.value, result.note,
                             len(result.photos))
        if found:
            problems[field] = "；".join(p.message for p in found)
    return problems


def _check_form(body: VisitInput, spec) -> dict:
    problems = {}
    if spec.outcomes:
        found = check_outcome(spec, body.outcome, body.danger_points, len(body.photos))
        if found:
            problems["outcome"] = "；".join(p.message for p in found)
    elif body.outcome:
        problems["outcome"] = "该检查表不记录排查结果"
    if found := check_appraisal_after(spec, body.appraisal_after):
        problems["appraisal_after"] = "；".join(p.message for p in found)
    signed = {s.role for s in body.signoffs if (s.name or "").strip()}
    if missing := missing_signoffs(spec, signed):
        problems["signoffs"] = "缺少签字：" + "、".join(s.label for s in missing)
    return problems


def _link_photos(session, visit: Visit, photo_ids: list[str], household: Household,
                 photo_rules: PhotoRules) -> None:
    """Tie photos that arrived before the visit to it (later ones carry the visit's id) and
    recompute their own flags: what the visit says (its kind, its position) changes some."""
    item_of = {p: r for r in visit.results for p in r.photo_ids}
    photos = session.scalars(select(Photo).where(
        (Photo.id.in_(photo_ids)) | (Photo.visit_id == visit.id))).all() if photo_ids else \
        session.scalars(select(Photo).where(Photo.visit_id == visit.id)).all()
    for photo in photos:
        if photo.household_id != household.id:
            raise InvalidInput(fields={"photos": f"照片 {photo.id} 属于另一农户"})
        photo.visit_id = visit.id
        photo.case_id = photo.case_id or visit.case_id
        if photo.id in item_of:
            result = item_of[photo.id]
            photo.node = photo.node or result.node_code
            photo.item = photo.item or result.item_code
        case = session.get(Case, photo.case_id) if photo.case_id else None
        refresh_own_flags(session, photo, household, case, photo_rules)


def _open_and_close_rectifications(session, actor: Actor, visit: Visit, spec,
                                   rules: VisitRules,
                                   details: dict[str, RectificationInput]) -> None:
    """Open one rectification per newly failed item; close open ones the visit now passes.

    `details` maps an item code to what the inspector set on the spot (任务, 措施, 责任人, 时限).
    """
    failing = [r for r in visit.results if r.result == "fail"]
    passing = {r.item_code for r in visit.results if r.result == "pass" and r.photo_ids}
    if passing:
        open_ones = session.scalars(select(Rectification).where(
            Rectification.household_id == visit.household_id,
            Rectification.status == "open", Rectification.item_code.in_(passing))).all()
        for rect in open_ones:
            rect.status = "closed"
            rect.closed_by_visit_id = visit.id
            rect.closed_by = actor.user_id
            rect.closed_at = visit.ended_at
            audit.record(session, actor, "close", "rectification", rect.id, {"visit": visit.id})
    already_open = set(session.scalars(select(Rectification.item_code).where(
        Rectification.household_id == visit.household_id, Rectification.status == "open")))
    default_due = china_date(visit.ended_at) + timedelta(days=rules.rectification_days)
    for result in failing:
        if result.item_code in already_open:
            continue  # still failing: the open one stands, with its original deadline
        item = spec.item(result.item_code)
        given = details.get(result.item_code) or RectificationInput()
        session.add(Rectification(
            household_id=visit.household_id, village_code=visit.village_code,
            case_id=visit.case_id, node_code=result.node_code, item_code=result.item_code,
            problem=result.note,
            task=given.task or f"整改“{item.name}”，达到：{item.criterion}",
            measure=given.measure or "返工整改，完成后拍照报检查员复查销号",
            responsible=given.responsible or "施工方",
            due_on=given.due_on or default_due, opened_by_visit_id=visit.id))


def _record_appraisal(session, actor: Actor, visit: Visit, household: Household, spec) -> None:
    """Add the appraisal a 鉴定 visit makes: its grade, its China date, the inspector's name.

    Called only when the visit is new, so a replay of the same visit id adds nothing.
    """
    failed = [f"{spec.item(r.item_code).name}：{r.note}" for r in visit.results
              if r.result == "fail"]
    notes = [visit.note, "不合格项：" + "；".join(failed) if failed else None,
             f"检查记录 {visit.id}"]
    households.record_appraisal(session, actor, household, {
        "grade": visit.appraisal_after,
        "appraised_on": china_date(visit.started_at),
        "appraiser": session.get(User, actor.user_id).name,
        "notes": "\n".join(n for n in notes if n),
    }, visit_id=visit.id)


def _advance_case(session, case: Case, visit: Visit, actor: Actor,
                  photo_rules: PhotoRules) -> None:
    """The first construction visit starts the works; a completion visit completes them, each
    through the workflow's own action, when the case waits for it."""
    day = china_date(visit.started_at)
    if visit.kind == "construction":
        workflow.advance_by_visit(session, actor, case, "start", day,
                                  f"首次施工巡查（检查记录 {visit.id}）", photo_rules=photo_rules)
    elif visit.kind == "completion":
        workflow.advance_by_visit(session, actor, case, "complete", day,
                                  f"竣工验收（检查记录 {visit.id}）", photo_rules=photo_rules)


def _plain(value):
    return json.loads(json.dumps(value or [], default=str))
