"""Everything a household's archive holds, gathered in one read from the services that already
know it: the case's evidence (`cases.dossier`: photos by phase and node, with their distance
from the house and flags), its procedure (`workflow.engine.workflow_state`), its money
(`subsidies.ledger.case_money`) and its documents.

The record form (003 附件2 农户纸质档案表) is printed field by field; a field the system holds
no value for reads 未登记, never a guess. Personal data is masked by `display` for callers
without the PII right.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select

from backend import display
from backend.models import Case, Household, User
from backend.services import checklists, policy
from backend.services.accounts import users_by_id
from backend.services.archive.completeness import Entry, completeness
from backend.services.cases import dossier
from backend.services.errors import NotFound
from backend.services.photos import flags as photo_flags
from backend.services.policy import Actor
from backend.services.subsidies import ledger
from backend.services.workflow import engine
from backend.vocabulary import CATEGORIES, FUND_LEVELS, GRADES

UNREGISTERED = "未登记"


@dataclass(frozen=True)
class Field:
    label: str
    value: str


@dataclass(frozen=True)
class FormSection:
    title: str
    fields: list[Field]


@dataclass
class HouseholdArchive:
    household: Household
    case: Case | None
    id_number: str  # as the caller may read it
    form: list[FormSection]
    completeness: list[Entry]
    members: list[dict] = field(default_factory=list)  # the application's, ID numbers masked
    evidence: dossier.CaseDossier | None = None
    workflow: engine.WorkflowState | None = None
    money: ledger.CaseMoney | None = None
    users: dict[int, User] = field(default_factory=dict)
    refs: dict = field(default_factory=dict)  # the other photos flags point at, by id

    @property
    def documents(self) -> list:
        return self.workflow.documents if self.workflow else []

    @property
    def photos(self) -> list:
        return self.evidence.photos if self.evidence else []

    @property
    def appraisal(self):
        if self.case is not None and self.case.appraisal is not None:
            return self.case.appraisal
        return self.household.appraisals[-1] if self.household.appraisals else None

    @property
    def acceptances(self) -> list:
        """The acceptance sign-offs and refusals, in order (each unit's, when co-signed)."""
        return [s for s in self.workflow.history if s.action in ("accept", "fail")] \
            if self.workflow else []

    @property
    def completion_visits(self) -> list:
        return [v for v in self.evidence.timeline.visits if v.kind == "completion"] \
            if self.evidence else []

    @property
    def complete(self) -> bool:
        return all(e.present for e in self.completeness)

    @staticmethod
    def signoffs(visit) -> list[tuple[str, str, datetime | None]]:
        """A completion visit's sign-offs as (the party, as its checklist names it, name, when)."""
        labels = {s.role: s.label for s in checklists.spec_of(visit.template).signoffs}
        return [(labels.get(s.get("role"), s.get("role")), s.get("name") or "",
                 datetime.fromisoformat(s["signed_at"]) if s.get("signed_at") else None)
                for s in visit.signoffs or []]


def household_archive(session, actor: Actor, household_id: int, *, year: int | None,
                      today: date) -> HouseholdArchive:
    """One household's archive for its case of `year` (default: its latest case)."""
    household = policy.get_in_scope(session, Household, household_id, actor)
    case = _case_of(session, household, year)
    members = [{**m, "id_number": display.id_number(m.get("id_number"), actor)}
               for m in (case.application or {}).get("members", [])] if case else []
    archive = HouseholdArchive(household, case, display.id_number(household.id_number, actor),
                               [], [], members)
    if case is not None:
        archive.evidence = dossier.case_dossier(session, actor, case.id)
        archive.workflow = engine.workflow_state(session, actor, case.id, today)
        archive.money = ledger.case_money(session, actor, case.id)
        archive.users = _users(session, archive)
        archive.refs = photo_flags.photo_refs(session, actor, [
            f for v in archive.photos for f in v.flags])
    visits = archive.evidence.timeline.visits if archive.evidence else []
    archive.completeness = completeness(
        case, archive.documents, visits,
        no_house=bool(case and (case.application or {}).get("no_house")))
    archive.form = record_form(archive, actor)
    return archive


def _case_of(session, household: Household, year: int | None) -> Case | None:
    if year is None:
        return household.current_case
    case = session.scalar(select(Case).where(Case.household_id == household.id,
                                             Case.year == year))
    if case is None:
        raise NotFound(f"该户没有 {year} 年的改造项目")
    return case


def _users(session, archive: HouseholdArchive) -> dict[int, User]:
    wf, money = archive.workflow, archive.money
    wanted = {s.actor_id for s in wf.history} | {d.uploaded_by for d in wf.documents}
    wanted |= {o.recorded_by for o in wf.objections} | {o.resolved_by for o in wf.objections}
    wanted |= {d.entered_by for d in wf.department_checks} | {p.posted_by for p in wf.publicities}
    wanted |= {p.recorded_by for p in money.payments}
    known = archive.evidence.users
    return {**known, **users_by_id(session, wanted - set(known))}


# --- 003 附件2 农户纸质档案表 ----------------------------------------------------------------
def record_form(archive: HouseholdArchive, actor: Actor) -> list[FormSection]:
    """The form's four sections, every field in the form's order."""
    h, c = archive.household, archive.case
    application = (c.application or {}) if c else {}
    house = application.get("house") or {}
    regions = _regions(h)
    appraisal = archive.appraisal
    approved = [s.effective_on for s in (c.history if c else []) if s.action == "approve"]
    return [
        FormSection("地址情况", [
            Field("省（自治区、直辖市）", _text(regions.get("province"))),
            Field("地区（市、州、盟）", _text(regions.get("prefecture"))),
            Field("县（市、区、旗）", _text(regions.get("county"))),
            Field("乡（镇）", _text(regions.get("town"))),
            Field("村民委员会", _text(regions.get("village"))),
            Field("村民小组", _text(h.group_name)),
            Field("是否边境一线", UNREGISTERED),
        ]),
        FormSection("农户情况", [
            Field("户主姓名", h.name),
            Field("身份证号", archive.id_number),
            Field("是否贫困残疾人家庭", _yes_no(application.get("disabled_family"))),
            Field("家庭人数", _text(h.family_size, " 人")),
            Field("民族", UNREGISTERED),
            Field("农户贫困类型", "、".join(CATEGORIES.get(code, code)
                                          for code in (h.identities or [h.category]))
                  or CATEGORIES["ordinary"]),
            Field("上年家庭年纯收入", UNREGISTERED),
            Field("旧住房建造年代", _text(h.year_built or house.get("year_built"), " 年")),
            Field("旧住房建筑面积", _area(h.floor_area_m2 or house.get("area_m2"))),
            Field("旧住房结构类型", _text(h.structure_type or house.get("structure_type"))),
            Field("农户联系电话", _text(display.phone(h.phone, actor))),
        ]),
        FormSection("改造情况", [
            Field("改造原因", _reason(application, appraisal)),
            Field("改造方式", _text(c and c.method)),
            Field("建设方式", _text(c and c.build_mode)),
            Field("改造后房屋结构类型", UNREGISTERED),
            Field("改造后房屋面积", _area(c and c.area_after_m2)),
            Field("改造后房屋产权", UNREGISTERED),
            Field("列入计划的年度", _text(c and c.year, " 年")),
            Field("批准日期", _text(approved[-1] if approved else None)),
            Field("开工日期", _text(c and c.started_on)),
            Field("竣工日期", _text(c and c.completed_on)),
            Field("是否已验收", UNREGISTERED if c is None else
                  (f"是（{c.accepted_on}）" if c.accepted_on else "否")),
        ]),
        FormSection("资金情况", [
            Field("享受补助资金类型", _fund_types(c)),
            Field("总投资", _money(c and c.total_investment_yuan)),
            Field("各级政府补助资金", _subsidy(c)),
            Field("农户危房改造贷款", _money(c and c.loan_yuan)),
            Field("农户其它自筹资金", _money(c and c.own_funds_yuan)),
            Field("是否建筑节能示范户", UNREGISTERED),
            Field("建筑节能示范内容", UNREGISTERED),
            Field("建筑节能增加的投资", UNREGISTERED),
        ]),
    ]


def _regions(h: Household) -> dict[str, str]:
    """Level → name, from the village up to the province."""
    names, region = {}, h.village
    while region is not None:
        names[region.level] = region.name
        region = region.parent
    return names


def _text(value, unit: str = "") -> str:
    if value is None or value == "":
        return UNREGISTERED
    return f"{value}{unit}"


def _yes_no(value) -> str:
    return UNREGISTERED if value is None else ("是" if value else "否")


def _area(value) -> str:
    return UNREGISTERED if value is None else f"{Decimal(str(value)):.2f} 平方米"


def _money(value) -> str:
    return UNREGISTERED if value is None else f"{display.yuan(value)} 元"


def _reason(application: dict, appraisal) -> str:
    """The applicant's stated reason, else what the appraisal or the application shows."""
    if application.get("reason"):
        return application["reason"]
    if application.get("no_house"):
        return "无房户"
    if appraisal is not None:
        return f"住房安全性鉴定为{GRADES[appraisal.grade]}"
    return UNREGISTERED


def _fund_types(case: Case | None) -> str:
    if case is None or case.subsidy_yuan is None:
        return UNREGISTERED
    levels = [FUND_LEVELS[k] for k, v in case.subsidy_split.items() if v]
    return "、".join(levels) + "补助资金" if levels else "无"


def _subsidy(case: Case | None) -> str:
    if case is None or case.subsidy_yuan is None:
        return UNREGISTERED
    parts = "，".join(f"{FUND_LEVELS[k]} {display.yuan(v)}"
                     for k, v in case.subsidy_split.items() if v)
    return f"{display.yuan(case.subsidy_yuan)} 元" + (f"（{parts}）" if parts else "")
