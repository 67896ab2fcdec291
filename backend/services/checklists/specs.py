"""Checklist templates (检查表模板) as versioned data: their specs, loaded from the files and kept
in the JSON form a visit stores.

The templates are JSON files in `backend/checklists/{code}.json`, edited by hand. A visit keeps
`TemplateSpec.to_dict()` of the version it was filled against, so an old visit still reads
correctly after the file changes. Pure Python: no Flask, no database. The parser that validates
the JSON form and loads the files is `parser`, the rules a template sets for a visit `rules`.
"""

import math
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from backend.vocabulary import PHASES


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
            return f"{format_number(self.min)}–{format_number(self.max)} {self.unit}"
        if self.min is not None:
            return f"≥ {format_number(self.min)} {self.unit}"
        return f"≤ {format_number(self.max)} {self.unit}"


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
        return PHASES[self.phase]


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
        """Return the JSON form; `parse_template(spec.to_dict()) == spec`."""
        return _template_to_dict(self)


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


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def format_number(value: float) -> str:
    return f"{value:g}"


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
