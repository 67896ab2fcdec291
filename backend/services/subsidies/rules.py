"""A county's policy rules (政策规定) as data, and their evaluation on one case's numbers.

Each rule sits in the county's workflow file with its level and the sentence it comes from, so
that a refusal or a warning cites it. The level follows the seed's wording: 不得/严禁 are hard
(they block the action), 原则上/一般 soft (they warn and need a written justification), and a
county-wide average is a report figure, never a per-case cap.

Pure Python: no Flask, no database. Numbers are `Decimal`; comparisons are exact, so a rule's
boundary (18.00 m² per person) is the boundary.
"""

from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

from backend.vocabulary import METHODS, POLICY_LEVELS, TARGET_CATEGORIES

# Every kind of rule and the parameters its entry in the file gives.
KINDS = {
    "area_min": ("min",),
    "area_max": ("max",),
    "area_range": ("min", "max", "family_max"),
    "area_per_person_min": ("min",),
    "area_per_person_max": ("max", "family_min"),
    "subsidy_min": ("amounts",),
    "subsidy_cap": ("groups",),
    "average_subsidy": ("average",),
    "no_repeat": (),
    "no_other_safe_house": (),
}
CENT = Decimal("0.01")


@dataclass(frozen=True)
class PolicyRule:
    code: str
    kind: str
    level: str
    text: str  # what the rule says, in the users' words
    source: str  # seed and section, with the sentence
    params: dict = field(default_factory=dict)
    methods: tuple[str, ...] = ()  # the rule holds for these methods only; empty: for all
    categories: str | None = None  # "target" | "ordinary": for these households only

    def applies(self, facts: "Facts") -> bool:
        if self.methods and facts.method not in self.methods:
            return False
        if self.categories == "target":
            return facts.category in TARGET_CATEGORIES
        if self.categories == "ordinary":
            return facts.category not in TARGET_CATEGORIES
        return True


@dataclass(frozen=True)
class Facts:
    """The numbers a case is checked on: the plan at approval, the built house at acceptance."""

    method: str
    category: str
    family_size: int | None
    area_m2: Decimal | None
    cost_yuan: Decimal | None
    subsidy_yuan: Decimal | None
    earlier_years: tuple[int, ...] = ()  # years of this household's earlier renovations
    redamaged_by_disaster: bool = False  # 004 §二(三) 小型自然灾害等原因又变成危房
    other_safe_house: bool = False  # 004 §二(二) 另有安全住房的不得纳入
    # average_subsidy: (cases, average) of the county's year, by rule code
    county_averages: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RuleResult:
    rule: PolicyRule
    result: str  # vocabulary.POLICY_RESULTS
    detail: str  # the numbers, in words

    @property
    def needs_justification(self) -> bool:
        return self.result == "warned"


class RuleError(ValueError):
    pass


# --- reading the file ----------------------------------------------------------------------
def parse_rules(items, path: str, errors: list[str]) -> tuple[PolicyRule, ...]:
    if not isinstance(items, list):
        errors.append(f"{path}: a list of rules")
        return ()
    rules = []
    for i, item in enumerate(items):
        try:
            rules.append(_rule(item))
        except (ValueError, InvalidOperation, TypeError, KeyError, AttributeError) as e:
            errors.append(f"{path}[{i}]: {e}")
    if len({r.code for r in rules}) != len(rules):
        errors.append(f"{path}: a rule code appears twice")
    return tuple(rules)


def _rule(data: dict) -> PolicyRule:
    kind, level = data.get("kind"), data.get("level")
    if kind not in KINDS:
        raise RuleError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    if level not in POLICY_LEVELS:
        raise RuleError(f"level {level!r} is not one of {', '.join(POLICY_LEVELS)}")
    for key in ("code", "text", "source"):
        if not data.get(key):
            raise RuleError(f"{key!r} is missing: every rule cites its seed")
    missing = [p for p in KINDS[kind] if p not in data]
    if missing:
        raise RuleError(f"{kind} needs {missing}")
    methods = tuple(data.get("methods", ()))
    if unknown := [m for m in methods if m not in METHODS]:
        raise RuleError(f"unknown methods {unknown}")
    if data.get("categories") not in (None, "target", "ordinary"):
        raise RuleError("categories is 'target' or 'ordinary'")
    return PolicyRule(code=data["code"], kind=kind, level=level, text=data["text"],
                      source=data["source"], params=_params(kind, data), methods=methods,
                      categories=data.get("categories"))


def _params(kind: str, data: dict) -> dict:
    params = {}
    for key in KINDS[kind]:
        value = data[key]
        if key == "amounts":
            params[key] = {m: _number(v, f"amounts.{m}") for m, v in value.items()}
            if unknown := [m for m in params[key] if m not in METHODS]:
                raise RuleError(f"unknown methods {unknown}")
        elif key == "groups":
            params[key] = tuple(_group(g) for g in value)
        elif key in ("family_max", "family_min"):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise RuleError(f"{key}: {value!r} is not a whole number of people")
            params[key] = value
        else:
            params[key] = _number(value, key)
    if kind == "area_range" and params["min"] > params["max"]:
        raise RuleError("min is above max")
    return params


def _number(value, key: str) -> Decimal:
    """A figure of the file: a finite number, not negative (an area, an amount, a share)."""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise RuleError(f"{key}: {value!r} is not a number") from None
    if not number.is_finite() or number < 0:
        raise RuleError(f"{key}: {value!r} is not a finite number of 0 or more")
    return number


def _group(data: dict) -> dict:
    """subsidy_cap: for which households and methods, a share of the cost and a maximum."""
    if data.get("categories") not in (None, "target", "ordinary"):
        raise RuleError("a group's categories is 'target' or 'ordinary'")
    share = data.get("share_of_cost")
    if share is not None:
        share = _number(share, "share_of_cost")
        if not 0 < share <= 1:
            raise RuleError(f"share_of_cost: {data['share_of_cost']!r} is not above 0 and "
                            "at most 1")
    methods = tuple(data.get("methods", ()))
    if unknown := [m for m in methods if m not in METHODS]:
        raise RuleError(f"unknown methods {unknown}")
    return {"categories": data.get("categories"), "methods": methods,
            "share_of_cost": share, "max": _number(data["max"], "max")}


# --- evaluating ---------------------------------------------------------------------------
def evaluate(rules: tuple[PolicyRule, ...], facts: Facts) -> list[RuleResult]:
    """Every rule of the county with its result on these facts."""
    return [_evaluate(rule, facts) for rule in rules]


def _evaluate(rule: PolicyRule, facts: Facts) -> RuleResult:
    if not rule.applies(facts):
        return RuleResult(rule, "passed", "不适用于本户")
    if rule.kind == "average_subsidy":
        outcome = _average_subsidy(rule.params, facts.county_averages.get(rule.code))
    else:
        outcome = CHECKS[rule.kind](rule.params, facts)
    if outcome is None:
        missing = [label for name, label in NEEDS.get(rule.kind, ())
                   if getattr(facts, name) in (None, 0)]
        return RuleResult(rule, "pending", f"待填写：{'、'.join(missing) or '本县同类补助'}")
    held, detail = outcome
    if rule.level == "report":
        return RuleResult(rule, "info", detail)
    if held is True:
        return RuleResult(rule, "passed", detail)
    if held == "exception":  # allowed by the seed's own exception, with a justification
        return RuleResult(rule, "warned", detail)
    return RuleResult(rule, "failed" if rule.level == "hard" else "warned", detail)


def _m2(value: Decimal) -> str:
    return f"{value.quantize(CENT, ROUND_HALF_UP)} m²"


def _yuan(value: Decimal) -> str:
    return f"{value.quantize(CENT, ROUND_HALF_UP):,} 元"


def _area_min(p, f):
    if f.area_m2 is None:
        return None
    return f.area_m2 >= p["min"], f"面积 {_m2(f.area_m2)}，下限 {_m2(p['min'])}"


def _area_max(p, f):
    if f.area_m2 is None:
        return None
    return f.area_m2 <= p["max"], f"面积 {_m2(f.area_m2)}，上限 {_m2(p['max'])}"


def _area_range(p, f):
    if f.area_m2 is None or not f.family_size:
        return None
    if f.family_size > p["family_max"]:
        return True, f"{f.family_size} 人户，不在本条范围"
    return (p["min"] <= f.area_m2 <= p["max"],
            f"{f.family_size} 人户，面积 {_m2(f.area_m2)}，应在 {p['min']}—{_m2(p['max'])}")


def _per_person(f) -> Decimal:
    return f.area_m2 / f.family_size


def _area_per_person_min(p, f):
    if f.area_m2 is None or not f.family_size:
        return None
    # area ≥ min × people, exactly: no rounding of the per-person figure decides the result
    return (f.area_m2 >= p["min"] * f.family_size,
            f"{f.family_size} 人，人均 {_m2(_per_person(f))}，下限 {_m2(p['min'])}")


def _area_per_person_max(p, f):
    if f.area_m2 is None or not f.family_size:
        return None
    if f.family_size < p["family_min"]:
        return True, f"{f.family_size} 人户，不在本条范围（{p['family_min']} 人以上）"
    return (f.area_m2 <= p["max"] * f.family_size,
            f"{f.family_size} 人，人均 {_m2(_per_person(f))}，上限 {_m2(p['max'])}")


def _subsidy_min(p, f):
    floor = p["amounts"].get(f.method)
    if floor is None:
        return True, f"{f.method}无最低标准"
    if f.subsidy_yuan is None:
        return None
    if f.cost_yuan is not None and f.cost_yuan < floor:
        floor = f.cost_yuan  # 实际改造费用不足一般补助标准的，按实际补助
        return f.subsidy_yuan >= floor, \
            f"补助 {_yuan(f.subsidy_yuan)}，实际费用 {_yuan(f.cost_yuan)} 低于标准，按实际补助"
    return f.subsidy_yuan >= floor, f"补助 {_yuan(f.subsidy_yuan)}，一般不低于 {_yuan(floor)}"


def _subsidy_cap(p, f):
    target = f.category in TARGET_CATEGORIES
    for group in p["groups"]:
        if group["categories"] == "target" and not target \
                or group["categories"] == "ordinary" and target \
                or group["methods"] and f.method not in group["methods"]:
            continue
        if f.subsidy_yuan is None:
            return None
        cap, basis = group["max"], f"上限 {_yuan(group['max'])}"
        if group["share_of_cost"] is not None:
            if f.cost_yuan is None:
                return None
            # "at most 80 %": the most whole cents within the share, never rounded up
            share = (f.cost_yuan * group["share_of_cost"]).quantize(CENT, ROUND_DOWN)
            basis = f"实际费用 {_yuan(f.cost_yuan)} 的 {group['share_of_cost'] * 100:.0f}% 为 " \
                    f"{_yuan(share)}，{basis}"
            cap = min(cap, share)
        return f.subsidy_yuan <= cap, f"补助 {_yuan(f.subsidy_yuan)}；{basis}"
    return True, "不在本条分类范围"


def _average_subsidy(p, figures):
    if not figures:
        return None
    count, average = figures
    return True, f"本县本年度同类 {count} 户，户均 {_yuan(average)}；要求户均 {_yuan(p['average'])}"


def _no_repeat(p, f):
    if not f.earlier_years:
        return True, "无此前改造记录"
    years = "、".join(str(y) for y in f.earlier_years)
    if f.redamaged_by_disaster:
        return "exception", f"{years} 年已改造；申请称因小型自然灾害又成危房"
    return False, f"{years} 年已享受危房改造"


def _no_other_safe_house(p, f):
    if f.other_safe_house:
        return False, "申请中申报另有安全住房"
    return True, "未申报其他安全住房"


# The facts each kind of rule reads, named for the user when one is missing.
AREA, PEOPLE = ("area_m2", "面积"), ("family_size", "家庭人口")
SUBSIDY, COST = ("subsidy_yuan", "核定补助"), ("cost_yuan", "造价")
NEEDS = {"area_min": (AREA,), "area_max": (AREA,), "area_range": (AREA, PEOPLE),
         "area_per_person_min": (AREA, PEOPLE), "area_per_person_max": (AREA, PEOPLE),
         "subsidy_min": (SUBSIDY,), "subsidy_cap": (SUBSIDY, COST)}

CHECKS = {
    "area_min": _area_min, "area_max": _area_max, "area_range": _area_range,
    "area_per_person_min": _area_per_person_min, "area_per_person_max": _area_per_person_max,
    "subsidy_min": _subsidy_min, "subsidy_cap": _subsidy_cap,
    "no_repeat": _no_repeat,
    "no_other_safe_house": _no_other_safe_house,
}
