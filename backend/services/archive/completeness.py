"""Whether a household's archive holds what 004 §五(四) asks of it, item by item.

004 §五(四) 加强档案管理：农户申请、身份证明、县乡村三级审核评议及公示资料、住房等级鉴定表、
三方服务协议、质量安全巡查记录、竣工验收表、资金拨付凭证等应齐全有效。

Each item is met by documents on the case (附件, by kind) or, for the inspections, by the
visits recorded in this system; the list says what was found and what is missing.
"""

from dataclasses import dataclass, field

from backend.vocabulary import ATTACHMENT_KINDS, PHASES


@dataclass(frozen=True)
class Requirement:
    code: str
    label: str
    # Each part is (what it is, the attachment kinds any one of which meets it).
    parts: tuple[tuple[str, tuple[str, ...]], ...]


# 004 §五(四), in its order. 三级审核评议及公示: 村评议, 乡镇审核, 县审批, and the notices.
REQUIREMENTS = (
    Requirement("application", "农户申请", (("申请书", ("application_form",)),)),
    Requirement("identity", "身份证明", (("户口簿及身份证明", ("household_register",)),)),
    Requirement("reviews", "县乡村三级审核评议及公示资料", (
        ("村级评议会议纪要", ("meeting_minutes",)),
        ("乡镇审核表", ("review_form",)),
        ("县级审批文件", ("approval_document",)),
        ("公示照片", ("publicity_photo",)),
    )),
    Requirement("appraisal", "住房等级鉴定表", (("鉴定报告", ("appraisal_report",)),)),
    Requirement("agreement", "三方服务协议", (("改造协议书", ("agreement",)),)),
    Requirement("inspections", "质量安全巡查记录", ()),  # the visits, not a document
    Requirement("acceptance", "竣工验收表", (("竣工验收表", ("acceptance_form",)),)),
    Requirement("vouchers", "资金拨付凭证", (("拨付凭证", ("payment_voucher",)),)),
)


@dataclass
class Entry:
    code: str
    label: str
    present: bool
    found: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    note: str | None = None


def completeness(case, documents: list, visits: list, *, no_house: bool = False
                 ) -> list[Entry]:
    """Each item of 004 §五(四) with what the archive holds of it; `documents` are the case's
    attachments, `visits` its visits (empty for a household without a case)."""
    by_kind: dict[str, list] = {}
    for doc in documents:
        by_kind.setdefault(doc.kind, []).append(doc)
    entries = []
    for requirement in REQUIREMENTS:
        if requirement.code == "inspections":
            entries.append(_inspections(visits))
            continue
        entry = Entry(requirement.code, requirement.label, False)
        for name, kinds in requirement.parts:
            docs = [d for kind in kinds for d in by_kind.get(kind, [])]
            if docs:
                entry.found += [f"{ATTACHMENT_KINDS[d.kind]}：{d.filename}" for d in docs]
            else:
                entry.missing.append(name)
        entry.present = not entry.missing
        if requirement.code == "appraisal" and no_house and not entry.present:
            # 003 §四(五)3(2): a household with no house of its own is not appraised.
            entry.present, entry.missing = True, []
            entry.note = "无房户，不需住房安全性鉴定（003 §四(五)3(2)）"
        if case is None:
            entry.note = "该户没有改造项目"
        entries.append(entry)
    return entries


def _inspections(visits: list) -> Entry:
    works = [v for v in visits if v.kind == "construction"]
    entry = Entry("inspections", "质量安全巡查记录", bool(works))
    if works:
        phases = "、".join(PHASES[p] for p in PHASES if any(v.phase == p for v in works))
        entry.found.append(f"施工巡查记录 {len(works)} 次（{phases}）")
    else:
        entry.missing.append("施工巡查记录")
    return entry


def missing_labels(entries: list[Entry]) -> list[str]:
    """What the archive lacks, in words: 身份证明（户口簿及身份证明）."""
    return [f"{e.label}（{'、'.join(e.missing)}）" if e.missing != [e.label] else e.label
            for e in entries if not e.present]
