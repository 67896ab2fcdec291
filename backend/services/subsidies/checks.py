"""The county's policy rules applied to one case: at approval on the plan (planned area,
estimated cost, approved subsidy), at the acceptance that releases the money on the house as
built (built area, actual cost), and on request (GET /cases/{id}/policy-check).

A hard rule that fails blocks the action (`policy_violation`); a soft rule that is exceeded
needs a written justification, recorded on the step with the numbers it justified.
"""

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select

from backend.models import Case, Household
from backend.services import policy
from backend.services.errors import JustificationRequired, PolicyViolation, WorkflowBlocked
from backend.services.policy import Actor
from backend.services.subsidies.rules import Facts, RuleResult, evaluate
from backend.services.workflow.spec import WorkflowSpec
from backend.services.workflow.templates import workflow_of
from backend.vocabulary import EXIT_STATUSES, STATUS_PHASES, TARGET_CATEGORIES

# Stages past the start of works: a case entered here late (系统外办理) has no start date,
# yet its household has been renovated.
WORKS_BEGUN = tuple(s for s, phase in STATUS_PHASES.items() if phase in ("during", "after"))


@dataclass
class PolicyCheck:
    basis: str  # approval | acceptance
    results: list[RuleResult]
    justifications: dict[str, str]  # rule code → the justification recorded for it

    @property
    def failed(self) -> list[RuleResult]:
        return [r for r in self.results if r.result == "failed"]

    @property
    def unjustified(self) -> list[RuleResult]:
        return [r for r in self.results
                if r.needs_justification and r.rule.code not in self.justifications]


def basis_of(case: Case) -> str:
    """What the numbers are: the plan until the house is built and measured."""
    built = case.area_after_m2 is not None or case.cost_yuan is not None
    return "acceptance" if built or case.accepted_on else "approval"


def facts_of(session, case: Case, spec: WorkflowSpec, basis: str) -> Facts:
    household = case.household
    earlier = sorted(session.scalars(
        select(Case.year).where(Case.household_id == case.household_id, Case.id != case.id,
                                Case.started_on.is_not(None) | Case.status.in_(WORKS_BEGUN),
                                Case.status.not_in(EXIT_STATUSES))))
    # The application lists the family by relation to the head (与户主关系); the head is
    # counted too unless listed among them.
    members = case.application.get("members") or []
    listed_head = any(m.get("relation") in ("户主", "本人") for m in members)
    return Facts(
        method=case.method, category=household.category,
        family_size=household.family_size or (len(members) + (0 if listed_head else 1)
                                              if members else None),
        area_m2=case.area_after_m2 if basis == "acceptance" else case.planned_area_m2,
        cost_yuan=case.cost_yuan if basis == "acceptance" else case.estimated_cost_yuan,
        subsidy_yuan=case.subsidy_yuan, earlier_years=tuple(earlier),
        redamaged_by_disaster=bool(case.application.get("redamaged_by_disaster")),
        other_safe_house=bool(case.application.get("other_safe_house")),
        county_averages=_averages(session, case, spec))


def _averages(session, case: Case, spec: WorkflowSpec) -> dict[str, tuple[int, Decimal]]:
    """average_subsidy rules: the county's approved subsidies this year, per rule's group."""
    rules = [r for r in spec.rules if r.kind == "average_subsidy"]
    if not rules:
        return {}
    county = case.village_code[:6]
    target = Household.category.in_(TARGET_CATEGORIES)
    rows = session.execute(
        select(target.label("target"), func.count(), func.sum(Case.subsidy_yuan))
        .join(Household, Household.id == Case.household_id)
        .where(Case.village_code.like(county + "%"), Case.year == case.year,
               Case.subsidy_yuan.is_not(None), Case.status.not_in(EXIT_STATUSES))
        .group_by(target)).all()
    by_group = {bool(t): (n, Decimal(total)) for t, n, total in rows}
    figures = {}
    for rule in rules:
        count, total = by_group.get(rule.categories == "target", (0, Decimal(0)))
        if count:
            figures[rule.code] = (count, (total / count).quantize(Decimal("0.01")))
    return figures


def check(session, case: Case, spec: WorkflowSpec, basis: str | None = None) -> PolicyCheck:
    basis = basis or basis_of(case)
    results = evaluate(spec.rules, facts_of(session, case, spec, basis))
    return PolicyCheck(basis, results, _justified(case, basis, results))


def _justified(case: Case, basis: str, results: list[RuleResult]) -> dict[str, str]:
    """Justifications already recorded for these very numbers (a co-signer need not repeat
    one; changed numbers need a new one)."""
    details = {r.rule.code: r.detail for r in results}
    found = {}
    for step in case.history:
        for item in step.data.get("policy", []) if isinstance(step.data, dict) else []:
            if item.get("basis") == basis and item.get("justification") \
                    and details.get(item.get("rule")) == item.get("detail"):
                found[item["rule"]] = item["justification"]
    return found


def approval_blocker(case: Case) -> WorkflowBlocked | None:
    if case.subsidy_yuan is None or case.planned_area_m2 is None:
        return WorkflowBlocked("请先核定补助", reasons=[
            "请先在“补助资金”中核定补助金额（按资金级次）和计划建筑面积"])
    return None


def hard_problem(result: PolicyCheck) -> PolicyViolation | None:
    """A hard rule failed, or one that cannot be checked yet (the numbers come first)."""
    unknown = [r for r in result.results if r.result == "pending" and r.rule.level == "hard"]
    if unknown:
        return PolicyViolation("政策核查所需数据未填写",
                               reasons=[f"{r.rule.text}：{r.detail}" for r in unknown])
    if result.failed:
        return PolicyViolation(reasons=[f"{r.rule.text}：{r.detail}（{r.rule.source}）"
                                        for r in result.failed])
    return None


def enforce(session, case: Case, spec: WorkflowSpec, basis: str,
            justifications: dict[str, str]) -> list[dict]:
    """Refuse the action if a hard rule fails or a soft one is exceeded without a written
    justification; return what the step records (each rule's result, numbers and reason)."""
    result = check(session, case, spec, basis)
    if problem := hard_problem(result):
        raise problem
    given = {code: text.strip() for code, text in justifications.items() if text and text.strip()}
    missing = [r for r in result.unjustified if r.rule.code not in given]
    if missing:
        raise JustificationRequired(
            reasons=[f"{r.rule.text}：{r.detail}" for r in missing],
            fields={f"justifications.{r.rule.code}": f"请说明理由：{r.rule.text}（{r.detail}）"
                    for r in missing})
    return [{"rule": r.rule.code, "result": r.result, "detail": r.detail, "basis": basis,
             **({"justification": given.get(r.rule.code) or result.justifications[r.rule.code]}
                if r.needs_justification else {})}
            for r in result.results if r.result != "passed"]


def policy_check(session, actor: Actor, case_id: int) -> PolicyCheck:
    """GET /cases/{id}/policy-check: every rule of the case's county on its current numbers."""
    case = policy.get_in_scope(session, Case, case_id, actor)
    _, spec = workflow_of(session, case)
    return check(session, case, spec)
