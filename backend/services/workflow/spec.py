"""A county's procedure (办理流程) as data: which stages it uses, in which order, their periods,
and which roles act at each. Files in `backend/workflows/{code}.json`, versioned like the
checklist templates; the engine (`engine.py`) gives each stage type its rules.

Pure Python: no Flask, no database.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend.services import versioned
from backend.services.reports.schedule import ReportDue, parse_schedule
from backend.services.subsidies.plan import DEFAULT as DEFAULT_PLAN
from backend.services.subsidies.plan import PaymentPlan, parse_plan
from backend.services.subsidies.rules import PolicyRule, parse_rules
from backend.vocabulary import ATTACHMENT_KINDS, DEPARTMENTS, FINAL_STATUSES, ROLES, STATUSES

DEFAULT_DIRECTORY = Path(__file__).resolve().parents[2] / "workflows"

# Each stage type and the actions it offers; `cancel` is offered at every open stage.
STAGE_ACTIONS = {
    "application": ("submit",),
    "review": ("pass", "return", "reject"),
    "publicity": ("post", "record_objection", "resolve_objection", "close"),
    "departments": ("record_reply", "conclude", "reject"),
    "approval": ("approve", "reject"),
    "agreement": ("sign",),
    "works_start": ("start", "urge", "defer"),
    "works": ("complete",),
    "acceptance": ("accept", "fail"),
    # Payments are recorded on their own (subsidies/payments.py); the case moves on when they
    # reach the approved subsidy, never by hand.
    "payment": (),
    "archive": ("archive",),
}
# Actions that stay open after the stage they belong to (the county's 备案 of an approval).
FILING = "file"


class WorkflowError(ValueError):
    def __init__(self, origin: str, errors: list[str]):
        self.origin = origin
        self.errors = errors
        super().__init__(f"invalid workflow {origin}:\n" + "\n".join(f"  - {e}" for e in errors))


@dataclass(frozen=True)
class StageSpec:
    code: str
    type: str
    label: str
    roles: dict[str, tuple[str, ...]]  # action → roles that may take it
    due_days: int | None = None  # from entering the stage
    working_days: bool = False
    min_days: int = 7  # publicity: the notice stays up at least this many days
    departments: tuple[str, ...] = ()
    reply_days: int = 10  # departments: working days to reply; silence then counts as passed
    start_within_months: int = 1  # works_start: then the village urges, the town may defer
    documents: tuple[str, ...] = ()  # attachments the stage's forward action needs
    cosign: tuple[str, ...] = ()  # acceptance: every one of these roles accepts before it moves
    # review: what the reviewer confirms before passing, (code, label) each
    checks: tuple[tuple[str, str], ...] = ()
    checks_source: str = ""
    source: str = ""

    def roles_for(self, action: str) -> tuple[str, ...]:
        return self.roles.get(action, ())


@dataclass(frozen=True)
class WorkflowSpec:
    code: str
    version: int
    name: str
    source: str
    counties: tuple[str, ...]
    stages: tuple[StageSpec, ...]
    cancel_roles: tuple[str, ...]
    filing_roles: tuple[str, ...] = ()  # who records the county's 备案 of an approval
    rules: tuple[PolicyRule, ...] = ()  # the county's policy rules (subsidies/rules.py)
    payments: PaymentPlan = DEFAULT_PLAN
    reports: tuple[ReportDue, ...] = ()  # when the county's periodic reports are due
    # 改造工期不合理: an 改造后 photo this few days after 开工 (PHOTO_MIN_WORKS_DAYS if None).
    min_works_days: int | None = None
    _index: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        self._index.update({s.code: i for i, s in enumerate(self.stages)})

    def stage(self, code: str) -> StageSpec | None:
        index = self._index.get(code)
        return None if index is None else self.stages[index]

    def next_after(self, code: str) -> str:
        index = self._index[code]
        return self.stages[index + 1].code if index + 1 < len(self.stages) else "archived"

    def first(self) -> str:
        return self.stages[0].code

    def works_stage(self) -> str:
        """Where a failed acceptance sends the case back (every procedure has one)."""
        return next(s.code for s in self.stages if s.type == "works")

    def comes_before(self, a: str, b: str) -> bool:
        return a in self._index and b in self._index and self._index[a] < self._index[b]


def parse_workflow(data: Any, *, origin: str = "<dict>") -> WorkflowSpec:
    """Build a workflow from its JSON form, naming every fault at once (WorkflowError)."""
    errors: list[str] = []
    if not isinstance(data, dict):
        raise WorkflowError(origin, ["the file must hold one JSON object"])
    for key in ("code", "version", "name", "stages"):
        if key not in data:
            errors.append(f"missing {key!r}")
    if errors:
        raise WorkflowError(origin, errors)
    stages = [_stage(s, f"stages[{i}]", errors) for i, s in enumerate(data["stages"])]
    codes = [s.code for s in stages if s]
    if len(set(codes)) != len(codes):
        errors.append("a stage code appears twice")
    if codes and STATUSES.get(codes[0]) is None:
        errors.append("the first stage is unknown")
    if stages and not any(s and s.type == "works" for s in stages):
        errors.append("no works stage: a failed acceptance would have nowhere to go")
    cancel_roles = _roles(data.get("cancel_roles", []), "cancel_roles", errors)
    filing_roles = _roles(data.get("filing_roles", []), "filing_roles", errors)
    rules = parse_rules(data.get("policy", []), "policy", errors)
    payments = parse_plan(data.get("payments"), "payments", errors)
    reports = parse_schedule(data.get("reports"), "reports", errors)
    min_works_days = _min_works_days(data.get("photos"), errors)
    if errors:
        raise WorkflowError(origin, errors)
    return WorkflowSpec(code=data["code"], version=int(data["version"]), name=data["name"],
                        source=data.get("source", ""), counties=tuple(data.get("counties", [])),
                        stages=tuple(stages), cancel_roles=cancel_roles,
                        filing_roles=filing_roles, rules=rules, payments=payments,
                        reports=reports, min_works_days=min_works_days)


def _min_works_days(photos: Any, errors: list[str]) -> int | None:
    """The county's own "photos": {"min_works_days": N}, a whole number of days (0-365)."""
    if photos is None:
        return None
    days = photos.get("min_works_days") if isinstance(photos, dict) else None
    if not isinstance(photos, dict) or set(photos) != {"min_works_days"} or \
            not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= 365:
        errors.append('photos: {"min_works_days": a whole number of days from 0 to 365}')
        return None
    return days


def _stage(data: Any, path: str, errors: list[str]) -> StageSpec | None:
    if not isinstance(data, dict):
        errors.append(f"{path}: a stage must be an object")
        return None
    code, kind = data.get("code"), data.get("type")
    if code not in STATUSES or code in FINAL_STATUSES:
        errors.append(f"{path}.code: {code!r} is not a stage a case can wait at")
    if kind not in STAGE_ACTIONS:
        errors.append(f"{path}.type: {kind!r} is not one of {', '.join(STAGE_ACTIONS)}")
        return None
    roles = {}
    stated = dict(data.get("roles") or {})
    if kind == "payment":  # version 1 files named the manual `pay` that payments replaced
        stated.pop("pay", None)
    for action, names in stated.items():
        if action not in STAGE_ACTIONS[kind]:
            errors.append(f"{path}.roles: {action!r} is not an action of a {kind} stage")
        roles[action] = _roles(names, f"{path}.roles.{action}", errors)
    for action in STAGE_ACTIONS[kind]:
        if action not in roles:
            errors.append(f"{path}.roles: who takes {action!r} is not said")
    departments = tuple(data.get("departments", ()))
    if unknown := [d for d in departments if d not in DEPARTMENTS]:
        errors.append(f"{path}.departments: unknown {unknown}")
    if kind == "departments" and not departments:
        errors.append(f"{path}.departments: a departments stage names its departments")
    documents = tuple(data.get("documents", ()))
    if unknown := [d for d in documents if d not in ATTACHMENT_KINDS]:
        errors.append(f"{path}.documents: unknown {unknown}")
    numbers = {}
    for key in ("due_days", "min_days", "reply_days", "start_within_months"):
        value = data.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                  or not 0 < value <= 366):
            errors.append(f"{path}.{key}: a whole number of days from 1 to 366")
        elif value is not None:
            numbers[key] = value
    return StageSpec(code=code, type=kind, label=data.get("label") or STATUSES.get(code, code),
                     roles=roles, working_days=bool(data.get("working_days", False)),
                     departments=departments, documents=documents,
                     cosign=_roles(data.get("cosign", []), f"{path}.cosign", errors),
                     checks=_checks(data.get("checks", []), f"{path}.checks", errors),
                     checks_source=data.get("checks_source", ""),
                     source=data.get("source", ""), **numbers)


def _checks(items: Any, path: str, errors: list[str]) -> tuple[tuple[str, str], ...]:
    if not isinstance(items, list) or not all(
            isinstance(i, dict) and i.get("code") and i.get("label") for i in items):
        errors.append(f"{path}: a list of {{code, label}}")
        return ()
    return tuple((i["code"], i["label"]) for i in items)


def _roles(names: Any, path: str, errors: list[str]) -> tuple[str, ...]:
    if not isinstance(names, list) or any(n not in ROLES for n in names):
        unknown = [n for n in names if n not in ROLES] if isinstance(names, list) else names
        errors.append(f"{path}: {unknown!r} — a list of roles from {', '.join(ROLES)}")
        return ()
    return tuple(names)


def load_all(directory: str | Path = DEFAULT_DIRECTORY) -> list[tuple[WorkflowSpec, dict]]:
    """Every workflow file of the directory, parsed, with its JSON as read."""
    return versioned.read_directory(directory, parse_workflow, WorkflowError)
