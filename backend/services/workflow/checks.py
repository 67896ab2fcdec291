"""The evidence an action needs: documents on the case, a qualifying appraisal, and what a
completed house must show before it is accepted."""

from dataclasses import dataclass

from sqlalchemy import select

from backend.models import Appraisal, Attachment, Case, Photo, Rectification, Visit
from backend.services import checklists
from backend.services.errors import AcceptanceBlocked
from backend.services.visits.queries import missing_over_visits
from backend.vocabulary import ATTACHMENT_KINDS, PHASES

# 003 §四(五)3(2): a household with no house of its own qualifies without an appraisal only if
# it is among the poorest: 分散供养五保户、低保户、贫困残疾人家庭或贫困边缘户.
NO_HOUSE_CATEGORIES = ("tekun", "dibao", "dibao_edge")
# 003 §四(五)2: the report is signed by at least three (民主监督员、村委负责人、乡镇负责人).
MIN_APPRAISAL_SIGNATURES = 3


def document_kinds(session, case: Case) -> set[str]:
    return set(session.scalars(select(Attachment.kind).where(Attachment.case_id == case.id)))


def missing_documents(stage, present: set[str]) -> list[str]:
    """The documents the stage needs that the case does not have (`present`: its kinds)."""
    return [ATTACHMENT_KINDS[k] for k in stage.documents if k not in present]


def appraisal_problems(session, case: Case, present: set[str]) -> list[str]:
    """Why the case may not be approved for want of an appraisal (003 §四(五)2, 3)."""
    application = case.application or {}
    if application.get("no_house"):
        if case.household.category not in NO_HOUSE_CATEGORIES \
                and not application.get("disabled_family"):
            return ["无房户仅限分散供养五保户、低保户、贫困残疾人家庭或贫困边缘户"
                    "（003 §四(五)3(2)）"]
        if "income_proof" not in present:  # a claim, until the certificate is on the case
            return ["无房户须附低保、五保或残疾人家庭证明（003 §四(五)3(2)、4(3)）"]
        return []
    appraisal = case.appraisal or session.scalar(
        select(Appraisal).where(Appraisal.household_id == case.household_id)
        .order_by(Appraisal.appraised_on.desc(), Appraisal.id.desc()).limit(1))
    if appraisal is None:
        return ["没有住房安全性鉴定；须鉴定为 C 级或 D 级（003 §四(五)3(1)）"]
    reasons = []
    if appraisal.grade not in ("C", "D"):
        reasons.append(f"鉴定为 {appraisal.grade} 级，不是 C、D 级危房，不能列为改造对象")
    signed = [s for s in appraisal.signatures or [] if (s.get("name") or "").strip()]
    if len(signed) < MIN_APPRAISAL_SIGNATURES:
        reasons.append(f"鉴定报告仅 {len(signed)} 人签字，须民主监督员、村委负责人、乡镇负责人等"
                       f" {MIN_APPRAISAL_SIGNATURES} 人以上签字（003 §四(五)2）")
    if appraisal.filed_on is None:
        reasons.append("鉴定报告尚未经县级认可备案（003 §四(五)2）")
    return reasons


@dataclass(frozen=True)
class Problem:
    """One reason a house may not be accepted: its kind, what it concerns, and in words."""

    kind: str  # completion_visit | failed_item | grade | rectification | photo | phase | document
    label: str
    ref: str | None = None  # the visit, item, rectification, phase or document kind concerned

    def as_dict(self) -> dict:
        return {"kind": self.kind, "ref": self.ref, "label": self.label}


def acceptance_blocker(session, case: Case, stage, present: set[str]
                       ) -> AcceptanceBlocked | None:
    problems = acceptance_problems(session, case, stage, present)
    if not problems:
        return None
    # Papers alone can be attached with the acceptance itself (the desk's form does).
    return AcceptanceBlocked(reasons=[p.label for p in problems],
                             items=[p.as_dict() for p in problems],
                             only_documents=all(p.kind == "document" for p in problems))


def acceptance_problems(session, case: Case, stage, present: set[str]) -> list[Problem]:
    """Each reason the house may not be accepted yet (003 §七(四): 档案管理不健全、不符合规定的，
    一律不予验收; 004 §五(四) the archive's documents)."""
    problems = _completion_problems(session, case)
    for rect in session.scalars(select(Rectification).where(
            Rectification.household_id == case.household_id, Rectification.status == "open")):
        problems.append(Problem("rectification", f"整改未销号：{rect.problem or rect.task}"
                                                 f"（时限 {rect.due_on}）", str(rect.id)))
    visits = list(session.scalars(select(Visit).where(Visit.case_id == case.id)))
    photos = list(session.scalars(select(Photo).where(Photo.case_id == case.id)))
    problems += [Problem("photo", f"缺少必拍照片：{PHASES[gap.phase]}“{gap.label}”", gap.item)
                 for gap in missing_over_visits(visits, photos)]
    taken = {p.phase for p in photos}
    problems += [Problem("phase", f"缺少{label}照片", phase) for phase, label in PHASES.items()
                 if phase not in taken]
    problems += [Problem("document", f"档案缺少：{ATTACHMENT_KINDS[kind]}", kind)
                 for kind in stage.documents if kind not in present]
    return problems


def _completion_problems(session, case: Case) -> list[Problem]:
    visit = session.scalar(select(Visit).where(Visit.case_id == case.id,
                                               Visit.kind == "completion")
                           .order_by(Visit.started_at.desc()).limit(1))
    if visit is None:
        return [Problem("completion_visit", "没有竣工验收检查记录")]
    if visit.review_state != "approved":
        return [Problem("completion_visit", "竣工验收检查记录尚未审核通过", visit.id)]
    spec = checklists.spec_of(visit.template)
    problems = [Problem("failed_item", f"竣工验收不合格项：{spec.item(r.item_code).name}",
                        r.item_code) for r in visit.results if r.result == "fail"]
    choice = spec.appraisal_after
    if choice is not None and visit.appraisal_after not in choice.passing:
        grade = visit.appraisal_after or "未评定"
        problems.append(Problem("grade", f"竣工后房屋安全性评定为 {grade}，不满足安全要求",
                                visit.id))
    return problems
