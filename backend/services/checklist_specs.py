"""Checklist templates (检查表模板) as versioned data: load them, validate them, apply their rules.

The templates are JSON files in `backend/checklists/{code}.json`, edited by hand. A visit keeps
`TemplateSpec.to_dict()` of the version it was filled against, so an old visit still reads
correctly after the file changes. Pure Python: no Flask, no database.
"""

import json
import math
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

DEFAULT_DIRECTORY = Path(__file__).resolve().parent.parent / "checklists"

RESULT_LABELS = {"pass": "合格", "fail": "不合格", "na": "不适用"}
PHASE_LABELS = {"before": "改造前", "during": "改造中", "after": "改造后"}
VISIT_KIND_LABELS = {
    "construction": "施工巡查/节点检查",
    "completion": "竣工验收",
    "appraisal": "鉴定",
    "routine_survey": "常规排查",
    "emergency_survey": "应急排查",
    "spot_check": "第三方核查/抽查",
}
OUTCOME_LABELS = {
    "safe": "安全",
    "suspected_danger": "疑似危房",
    "nobody_home": "无人在家（需复查）",
    "house_gone": "房屋已不存在",
    "new_found": "新发现",
}
GRADES = ("A", "B", "C", "D")
# Copies of backend.models.case.METHODS and backend.models.household.STRUCTURE_TYPES, so that
# this module loads without the database layer; a test keeps them equal.
METHODS = ("修缮加固", "拆除重建", "选址新建", "置换", "统建", "租赁/周转房", "抗震改造")
STRUCTURE_TYPES = ("砖混", "砖木", "土木", "石木", "窑洞", "木结构", "钢混", "彩钢/简易")

_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
_DOTTED = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


class TemplateError(ValueError):
    """A template file or stored copy that breaks the rules; `errors` lists every fault."""

    def __init__(self, origin: str, errors: list[str]):
        self.origin = origin
        self.errors = errors
        super().__init__(f"invalid checklist template {origin}:\n" + "\n".join(
            f"  - {e}" for e in errors))


# --- the template --------------------------------------------------------------------------
@dataclass(frozen=True)
class Condition:
    """When an item or a clause applies; every given limit must hold, and unknown facts pass."""

    storeys_min: int | None = None
    seismic_intensity_min: int | None = None
    structure_types: tuple[str, ...] | None = None

    def matches(self, house: Mapping[str, Any]) -> bool:
        storeys = house.get("storeys")
        intensity = house.get("seismic_intensity")
        structure = house.get("structure_type")
        if self.storeys_min is not None and storeys is not None and storeys < self.storeys_min:
            return False
        if (self.seismic_intensity_min is not None and intensity is not None
                and intensity < self.seismic_intensity_min):
            return False
        if self.structure_types is not None and structure and structure not in self.structure_types:
            return False
        return True

    def to_dict(self) -> dict:
        data: dict[str, Any] = {}
        if self.storeys_min is not None:
            data["storeys_min"] = self.storeys_min
        if self.seismic_intensity_min is not None:
            data["seismic_intensity_min"] = self.seismic_intensity_min
        if self.structure_types is not None:
            data["structure_types"] = list(self.structure_types)
        return data


@dataclass(frozen=True)
class ConditionalCriterion:
    """A part of an item's criterion that holds only for some houses (e.g. 8度及以上)."""

    applies_if: Condition
    criterion: str


@dataclass(frozen=True)
class MeasureSpec:
    name: str
    unit: str
    min: float | None
    max: float | None

    def contains(self, value: float) -> bool:
        return ((self.min is None or value >= self.min)
                and (self.max is None or value <= self.max))

    def describe(self) -> str:
        """Return the limit as a user reads it: "≥ 500 mm", "≤ 5 mm", "8–12 mm"."""
        if self.min is not None and self.max is not None:
            return f"{_num(self.min)}–{_num(self.max)} {self.unit}"
        if self.min is not None:
            return f"≥ {_num(self.min)} {self.unit}"
        return f"≤ {_num(self.max)} {self.unit}"


@dataclass(frozen=True)
class ItemSpec:
    code: str
    name: str
    criterion: str
    requires_photo: bool
    photo_hint: str | None
    measure: MeasureSpec | None
    applies_if: Condition | None
    source: str
    conditional_criteria: tuple[ConditionalCriterion, ...] = ()

    def applies(self, house: Mapping[str, Any]) -> bool:
        """Return whether the item is checked on this house ({storeys, seismic_intensity, ...})."""
        return self.applies_if is None or self.applies_if.matches(house)

    def criterion_for(self, house: Mapping[str, Any]) -> str:
        """Return the criterion with the clauses that hold for this house appended."""
        extra = [c.criterion for c in self.conditional_criteria if c.applies_if.matches(house)]
        return "；".join([self.criterion, *extra])


@dataclass(frozen=True)
class NodeSpec:
    code: str
    name: str
    phase: str
    items: tuple[ItemSpec, ...]

    @property
    def phase_label(self) -> str:
        return PHASE_LABELS[self.phase]


@dataclass(frozen=True)
class SignoffSpec:
    role: str
    label: str


@dataclass(frozen=True)
class GradeOption:
    value: str
    label: str


@dataclass(frozen=True)
class AppraisalChoiceSpec:
    """A house safety grade (A–D) chosen on the form, kept in the visit's `appraisal_after`.

    At acceptance it is the grade after the works (改造后住房安全性评定); on an appraisal visit
    it is the appraisal's own overall grade (综合评定等级).
    """

    label: str
    required: bool
    options: tuple[GradeOption, ...]
    passing: tuple[str, ...]

    def passes(self, grade: str | None) -> bool:
        return grade in self.passing


@dataclass(frozen=True)
class OutcomeSpec:
    code: str
    label: str
    requires_danger_points: bool
    min_photos: int
    needs_revisit: bool
    photo_hint: str | None


@dataclass(frozen=True)
class DangerPointSpec:
    code: str
    component: str
    label: str


@dataclass(frozen=True)
class TemplateSpec:
    code: str
    version: int
    name: str
    kinds: tuple[str, ...]
    methods: tuple[str, ...]
    source: str
    nodes: tuple[NodeSpec, ...]
    signoffs: tuple[SignoffSpec, ...] = ()
    appraisal_after: AppraisalChoiceSpec | None = None
    outcomes: tuple[OutcomeSpec, ...] = ()
    danger_points: tuple[DangerPointSpec, ...] = ()
    _index: dict[str, tuple[NodeSpec, ItemSpec]] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        index = {item.code: (node, item) for node in self.nodes for item in node.items}
        object.__setattr__(self, "_index", index)

    def item(self, code: str) -> ItemSpec:
        """Return the item with this code; KeyError if the template has none."""
        return self._index[code][1]

    def node_of(self, item_code: str) -> NodeSpec:
        return self._index[item_code][0]

    def iter_items(self) -> Iterator[tuple[NodeSpec, ItemSpec]]:
        for node in self.nodes:
            for item in node.items:
                yield node, item

    @property
    def item_count(self) -> int:
        return len(self._index)

    def outcome(self, code: str) -> OutcomeSpec | None:
        return next((o for o in self.outcomes if o.code == code), None)

    def to_dict(self) -> dict:
        """Return the JSON form; `from_dict(spec.to_dict()) == spec`."""
        return _template_to_dict(self)

    @classmethod
    def from_dict(cls, data: Any, *, origin: str = "<dict>") -> "TemplateSpec":
        """Build a template from its JSON form, refusing it with TemplateError if it is invalid."""
        parser = _Parser()
        spec = parser.template(data)
        if parser.errors:
            raise TemplateError(origin, parser.errors)
        return spec


# --- loading -------------------------------------------------------------------------------
def load_template_file(path: str | Path) -> TemplateSpec:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TemplateError(path.name, [f"cannot read the file: {exc}"]) from exc
    spec = TemplateSpec.from_dict(data, origin=path.name)
    if spec.code != path.stem:
        raise TemplateError(path.name, [f"code {spec.code!r} differs from the file name"])
    return spec


def load_all(directory: str | Path = DEFAULT_DIRECTORY) -> list[TemplateSpec]:
    """Load and validate every `*.json` template in the directory, ordered by code."""
    return [load_template_file(p) for p in sorted(Path(directory).glob("*.json"))]


def templates_for(
    templates: Collection[TemplateSpec], kind: str, method: str | None = None
) -> list[TemplateSpec]:
    """Return the templates usable for a visit of this kind on a case with this method.

    A template with no methods suits any case (and visits without one, such as surveys).
    """
    return [
        t for t in templates
        if kind in t.kinds and (method is None or not t.methods or method in t.methods)
    ]


# --- rules ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    item_code: str | None = None


class RecordedItem(NamedTuple):
    """What a visit holds for one item, as far as the photo rules care."""

    result: str | None
    photo_count: int


def check_result(
    item: ItemSpec, result: str, value: float | None, note: str | None, photo_count: int
) -> list[Problem]:
    """Return what is wrong with one item's recorded result (empty when it can be saved)."""
    name = f"「{item.name}」"
    if result not in RESULT_LABELS:
        return [Problem("result_invalid", f"{name}的检查结果只能是合格、不合格或不适用", item.code)]
    problems = []
    invalid = value is not None and not _is_number(value)
    if invalid:
        problems.append(Problem("value_invalid", f"{name}的实测值不是有效数字", item.code))
    if result == "fail":
        if photo_count < 1:
            problems.append(Problem("fail_needs_photo", f"{name}判为不合格，须至少拍摄1张照片",
                                    item.code))
        if not (note or "").strip():
            problems.append(Problem("fail_needs_note", f"{name}判为不合格，须填写问题说明",
                                    item.code))
    measure = item.measure
    if result == "pass" and measure is not None and not invalid:
        if value is None:
            problems.append(Problem(
                "value_required", f"{name}判为合格须填写实测值（{measure.name}，{measure.unit}）",
                item.code))
        elif not measure.contains(value):
            problems.append(Problem(
                "value_out_of_range",
                f"{name}实测值 {_num(value)} {measure.unit} "
                f"不满足 {measure.describe()}，不能判为合格", item.code))
    return problems


def missing_required_photos(
    template: TemplateSpec,
    results_by_item: Mapping[str, RecordedItem | tuple[str | None, int] | int],
    house: Mapping[str, Any] | None = None,
) -> list[tuple[str, str]]:
    """Return (node_code, item_code) of the items that need a photo and have none.

    `results_by_item` maps an item code to (result, photo_count), or to a bare photo count.
    Items marked `na`, and items that do not apply to `house` when it is given, need none.
    """
    missing = []
    for node, item in template.iter_items():
        if not item.requires_photo or (house is not None and not item.applies(house)):
            continue
        entry = results_by_item.get(item.code, 0)
        result, photos = (None, entry) if isinstance(entry, int) else entry
        if result != "na" and photos < 1:
            missing.append((node.code, item.code))
    return missing


def missing_results(
    template: TemplateSpec, recorded: Collection[str], house: Mapping[str, Any] | None = None
) -> list[tuple[str, str]]:
    """Return (node_code, item_code) of the applicable items with no recorded result."""
    return [
        (node.code, item.code) for node, item in template.iter_items()
        if item.code not in recorded and (house is None or item.applies(house))
    ]


def check_outcome(
    template: TemplateSpec, outcome: str | None, danger_points: Collection[str], photo_count: int
) -> list[Problem]:
    """Return what is wrong with a survey's outcome (常规排查/应急排查 结果)."""
    if not template.outcomes:
        raise ValueError(f"template {template.code!r} records no survey outcome")
    if not outcome:
        return [Problem("outcome_required", "请选择排查结果")]
    spec = template.outcome(outcome)
    if spec is None:
        return [Problem("outcome_invalid", f"排查结果“{outcome}”不在可选范围内")]
    problems = []
    known = {d.code for d in template.danger_points}
    unknown = sorted(set(danger_points) - known)
    if unknown:
        problems.append(Problem("danger_point_invalid", f"未知的危险点：{'、'.join(unknown)}"))
    if spec.requires_danger_points and not danger_points:
        problems.append(Problem("danger_points_required", f"{spec.label}须至少选择一处危险点"))
    if photo_count < spec.min_photos:
        problems.append(Problem("outcome_needs_photo",
                                f"{spec.label}须至少拍摄{spec.min_photos}张照片"))
    return problems


def check_appraisal_after(template: TemplateSpec, grade: str | None) -> list[Problem]:
    """Return what is wrong with the safety grade (A/B/C/D) recorded on the form."""
    choice = template.appraisal_after
    if choice is None:
        if grade:
            return [Problem("appraisal_invalid", "该检查表不记录安全性评定等级")]
        return []
    if not grade:
        if choice.required:
            return [Problem("appraisal_required", f"请选择{choice.label}")]
        return []
    if grade not in {o.value for o in choice.options}:
        return [Problem("appraisal_invalid", f"{choice.label}只能是A、B、C、D级之一")]
    return []


def missing_signoffs(template: TemplateSpec, signed_roles: Collection[str]) -> list[SignoffSpec]:
    """Return the parties who still have to sign (乡镇、农户、施工方)."""
    return [s for s in template.signoffs if s.role not in signed_roles]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _num(value: float) -> str:
    return f"{value:g}"


# --- parsing -------------------------------------------------------------------------------
_TEMPLATE_KEYS = ("code", "version", "name", "kind", "methods", "source", "nodes")
_TEMPLATE_OPTIONAL = ("signoffs", "appraisal_after", "outcomes", "danger_points")
_ITEM_KEYS = ("code", "name", "criterion", "requires_photo", "photo_hint", "measure",
              "applies_if", "source")
_OUTCOME_KEYS = ("code", "label", "requires_danger_points", "min_photos", "needs_revisit",
                 "photo_hint")


class _Parser:
    """Turn the JSON form into specs, collecting every fault with its path instead of stopping."""

    def __init__(self):
        self.errors: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}" if path else message)

    def obj(self, value, path, required, optional=()) -> dict | None:
        if not isinstance(value, dict):
            self.fail(path, "must be an object")
            return None
        for key in required:
            if key not in value:
                self.fail(path, f"missing key {key!r}")
        for key in value:
            if key not in required and key not in optional:
                self.fail(path, f"unknown key {key!r}")
        return value

    def text(self, data, key, path, *, nullable=False) -> str | None:
        value = data.get(key)
        if value is None and nullable:
            return None
        if not isinstance(value, str) or not value.strip():
            if key in data:
                self.fail(_at(path, key), "must be a non-empty string")
            return None if nullable else ""
        return value

    def code(self, data, key, path, pattern=_CODE) -> str:
        value = self.text(data, key, path)
        if value and not pattern.match(value):
            self.fail(_at(path, key), f"{value!r} is not a valid code (lower-case ASCII"
                      f"{', as node.item' if pattern is _DOTTED else ''})")
        return value or ""

    def flag(self, data, key, path) -> bool:
        value = data.get(key)
        if not isinstance(value, bool):
            if key in data:
                self.fail(_at(path, key), "must be true or false")
            return False
        return value

    def integer(self, data, key, path, low, high=None) -> int | None:
        value = data.get(key)
        if value is None and key not in data:
            return None
        if (not isinstance(value, int) or isinstance(value, bool) or value < low
                or (high is not None and value > high)):
            limits = f"from {low} to {high}" if high is not None else f"≥ {low}"
            self.fail(_at(path, key), f"must be an integer {limits}")
            return None
        return value

    def array(self, data, key, path, *, allow_empty=True) -> list:
        value = data.get(key, [])
        if not isinstance(value, list):
            self.fail(_at(path, key), "must be a list")
            return []
        if not value and not allow_empty and key in data:
            self.fail(_at(path, key), "must not be empty")
        return value

    def choices(self, data, key, path, allowed, *, allow_empty=True) -> tuple[str, ...]:
        values = self.array(data, key, path, allow_empty=allow_empty)
        for i, value in enumerate(values):
            if value not in allowed:
                self.fail(f"{_at(path, key)}[{i}]", f"{value!r} is not one of {', '.join(allowed)}")
        if len(set(map(str, values))) != len(values):
            self.fail(_at(path, key), "has duplicates")
        return tuple(values)

    def unique(self, codes: list[tuple[str, str]], what: str) -> None:
        seen: dict[str, str] = {}
        for code, path in codes:
            if code in seen:
                self.fail(path, f"duplicate {what} code {code!r} (first at {seen[code]})")
            elif code:
                seen[code] = path

    # --- the parts, outermost first ---
    def template(self, data) -> "TemplateSpec | None":
        data = self.obj(data, "", _TEMPLATE_KEYS, _TEMPLATE_OPTIONAL)
        if data is None:
            return None
        outcomes = tuple(self.outcome(o, f"outcomes[{i}]")
                         for i, o in enumerate(self.array(data, "outcomes", "", allow_empty=False)))
        danger_points = tuple(
            self.danger_point(d, f"danger_points[{i}]")
            for i, d in enumerate(self.array(data, "danger_points", "", allow_empty=False)))
        nodes = tuple(self.node(n, f"nodes[{i}]", survey=bool(outcomes))
                      for i, n in enumerate(self.array(data, "nodes", "", allow_empty=False)))
        signoffs = tuple(self.signoff(s, f"signoffs[{i}]")
                         for i, s in enumerate(self.array(data, "signoffs", "", allow_empty=False)))
        self.unique([(n.code, f"nodes[{i}]") for i, n in enumerate(nodes)], "node")
        self.unique([(it.code, f"nodes[{i}].items[{j}]")
                     for i, n in enumerate(nodes) for j, it in enumerate(n.items)], "item")
        self.unique([(o.code, f"outcomes[{i}]") for i, o in enumerate(outcomes)], "outcome")
        self.unique([(d.code, f"danger_points[{i}]") for i, d in enumerate(danger_points)],
                    "danger point")
        self.unique([(s.role, f"signoffs[{i}]") for i, s in enumerate(signoffs)], "signoff role")
        if any(o.requires_danger_points for o in outcomes) and not danger_points:
            self.fail("danger_points", "an outcome requires danger points, so list them")
        if "danger_points" in data and not outcomes:
            self.fail("danger_points", "only a survey template (with outcomes) lists danger points")
        version = self.integer(data, "version", "", 1)
        appraisal = data.get("appraisal_after")
        # An appraisal visit exists to grade the house: its form must ask for the grade.
        kinds = data.get("kind")
        if (isinstance(kinds, list) and "appraisal" in kinds
                and not (isinstance(appraisal, dict) and appraisal.get("required") is True)):
            self.fail("appraisal_after", "an appraisal template must require the grade")
        return TemplateSpec(
            code=self.code(data, "code", ""),
            version=version or 0,
            name=self.text(data, "name", ""),
            kinds=self.choices(data, "kind", "", tuple(VISIT_KIND_LABELS), allow_empty=False),
            methods=self.choices(data, "methods", "", METHODS),
            source=self.text(data, "source", ""),
            nodes=nodes,
            signoffs=signoffs,
            appraisal_after=None if appraisal is None else self.appraisal(appraisal),
            outcomes=outcomes,
            danger_points=danger_points,
        )

    def node(self, data, path, *, survey: bool) -> NodeSpec:
        data = self.obj(data, path, ("code", "name", "phase", "items")) or {}
        code = self.code(data, "code", path)
        phase = data.get("phase")
        if "phase" in data and phase not in PHASE_LABELS:
            self.fail(_at(path, "phase"), f"{phase!r} is not one of {', '.join(PHASE_LABELS)}")
        raw_items = self.array(data, "items", path, allow_empty=survey)
        items = tuple(self.item(it, f"{path}.items[{j}]", code) for j, it in enumerate(raw_items))
        return NodeSpec(code=code, name=self.text(data, "name", path), phase=phase or "",
                        items=items)

    def item(self, data, path, node_code) -> ItemSpec:
        data = self.obj(data, path, _ITEM_KEYS, ("conditional_criteria",)) or {}
        code = self.code(data, "code", path, _DOTTED)
        if code and node_code and not code.startswith(node_code + "."):
            self.fail(_at(path, "code"), f"{code!r} must start with its node code {node_code!r}.")
        requires_photo = self.flag(data, "requires_photo", path)
        photo_hint = self.text(data, "photo_hint", path, nullable=True)
        if requires_photo and photo_hint is None and "photo_hint" in data:
            self.fail(_at(path, "photo_hint"), "say what the photo must show")
        measure, applies_if = data.get("measure"), data.get("applies_if")
        clauses = tuple(
            self.clause(c, f"{path}.conditional_criteria[{k}]")
            for k, c in enumerate(self.array(data, "conditional_criteria", path,
                                             allow_empty=False)))
        return ItemSpec(
            code=code,
            name=self.text(data, "name", path),
            criterion=self.text(data, "criterion", path),
            requires_photo=requires_photo,
            photo_hint=photo_hint,
            measure=None if measure is None else self.measure(measure, _at(path, "measure")),
            applies_if=None if applies_if is None else self.condition(
                applies_if, _at(path, "applies_if")),
            source=self.text(data, "source", path),
            conditional_criteria=clauses,
        )

    def measure(self, data, path) -> MeasureSpec:
        data = self.obj(data, path, ("name", "unit", "min", "max")) or {}
        low, high = data.get("min"), data.get("max")
        for key, value in (("min", low), ("max", high)):
            if value is not None and not _is_number(value):
                self.fail(_at(path, key), "must be a number or null")
        low = low if _is_number(low) else None
        high = high if _is_number(high) else None
        if low is None and high is None and "min" in data and "max" in data:
            self.fail(path, "needs min, max or both")
        if low is not None and high is not None and low > high:
            self.fail(path, f"min {low} is greater than max {high}")
        return MeasureSpec(name=self.text(data, "name", path), unit=self.text(data, "unit", path),
                           min=low, max=high)

    def condition(self, data, path) -> Condition:
        keys = ("storeys_min", "seismic_intensity_min", "structure_types")
        data = self.obj(data, path, (), keys)
        if data == {}:
            self.fail(path, "is empty; use null for an item that always applies")
        data = data or {}
        structures = None
        if "structure_types" in data:
            structures = self.choices(data, "structure_types", path, STRUCTURE_TYPES,
                                      allow_empty=False)
        return Condition(
            storeys_min=self.integer(data, "storeys_min", path, 1, 10),
            seismic_intensity_min=self.integer(data, "seismic_intensity_min", path, 6, 9),
            structure_types=structures,
        )

    def clause(self, data, path) -> ConditionalCriterion:
        data = self.obj(data, path, ("applies_if", "criterion")) or {}
        return ConditionalCriterion(
            applies_if=self.condition(data.get("applies_if"), _at(path, "applies_if")),
            criterion=self.text(data, "criterion", path),
        )

    def signoff(self, data, path) -> SignoffSpec:
        data = self.obj(data, path, ("role", "label")) or {}
        return SignoffSpec(role=self.code(data, "role", path), label=self.text(data, "label", path))

    def appraisal(self, data) -> AppraisalChoiceSpec:
        path = "appraisal_after"
        data = self.obj(data, path, ("label", "required", "options", "passing")) or {}
        options = []
        for i, raw in enumerate(self.array(data, "options", path, allow_empty=False)):
            opt = self.obj(raw, f"{path}.options[{i}]", ("value", "label")) or {}
            if "value" in opt and opt["value"] not in GRADES:
                self.fail(f"{path}.options[{i}].value", f"{opt['value']!r} is not a grade A–D")
            options.append(GradeOption(value=str(opt.get("value", "")),
                                       label=self.text(opt, "label", f"{path}.options[{i}]")))
        values = tuple(o.value for o in options)
        self.unique([(v, f"{path}.options[{i}]") for i, v in enumerate(values)], "grade")
        return AppraisalChoiceSpec(
            label=self.text(data, "label", path),
            required=self.flag(data, "required", path),
            options=tuple(options),
            passing=self.choices(data, "passing", path, values, allow_empty=False),
        )

    def outcome(self, data, path) -> OutcomeSpec:
        data = self.obj(data, path, _OUTCOME_KEYS) or {}
        code = self.text(data, "code", path)
        if code and code not in OUTCOME_LABELS:
            self.fail(_at(path, "code"), f"{code!r} is not one of {', '.join(OUTCOME_LABELS)}")
        return OutcomeSpec(
            code=code,
            label=self.text(data, "label", path),
            requires_danger_points=self.flag(data, "requires_danger_points", path),
            min_photos=self.integer(data, "min_photos", path, 0) or 0,
            needs_revisit=self.flag(data, "needs_revisit", path),
            photo_hint=self.text(data, "photo_hint", path, nullable=True),
        )

    def danger_point(self, data, path) -> DangerPointSpec:
        data = self.obj(data, path, ("code", "component", "label")) or {}
        return DangerPointSpec(code=self.code(data, "code", path, _DOTTED),
                               component=self.text(data, "component", path),
                               label=self.text(data, "label", path))


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# --- serialising ---------------------------------------------------------------------------
def _template_to_dict(t: TemplateSpec) -> dict:
    data: dict[str, Any] = {
        "code": t.code,
        "version": t.version,
        "name": t.name,
        "kind": list(t.kinds),
        "methods": list(t.methods),
        "source": t.source,
    }
    if t.signoffs:
        data["signoffs"] = [{"role": s.role, "label": s.label} for s in t.signoffs]
    if t.appraisal_after is not None:
        a = t.appraisal_after
        data["appraisal_after"] = {
            "label": a.label,
            "required": a.required,
            "options": [{"value": o.value, "label": o.label} for o in a.options],
            "passing": list(a.passing),
        }
    if t.outcomes:
        data["outcomes"] = [
            {"code": o.code, "label": o.label, "requires_danger_points": o.requires_danger_points,
             "min_photos": o.min_photos, "needs_revisit": o.needs_revisit,
             "photo_hint": o.photo_hint}
            for o in t.outcomes
        ]
    if t.danger_points:
        data["danger_points"] = [
            {"code": d.code, "component": d.component, "label": d.label} for d in t.danger_points
        ]
    data["nodes"] = [
        {"code": n.code, "name": n.name, "phase": n.phase,
         "items": [_item_to_dict(i) for i in n.items]}
        for n in t.nodes
    ]
    return data


def _item_to_dict(item: ItemSpec) -> dict:
    m = item.measure
    data: dict[str, Any] = {
        "code": item.code,
        "name": item.name,
        "criterion": item.criterion,
        "requires_photo": item.requires_photo,
        "photo_hint": item.photo_hint,
        "measure": None if m is None else {"name": m.name, "unit": m.unit, "min": m.min,
                                           "max": m.max},
        "applies_if": None if item.applies_if is None else item.applies_if.to_dict(),
        "source": item.source,
    }
    if item.conditional_criteria:
        data["conditional_criteria"] = [
            {"applies_if": c.applies_if.to_dict(), "criterion": c.criterion}
            for c in item.conditional_criteria
        ]
    return data
