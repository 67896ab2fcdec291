"""The parser of a checklist template's JSON form: it builds the specs and names every fault it
finds, with its path, so one run lists all that is wrong with a hand-edited file; and the
loading of the template files in `backend/checklists/`.
"""

import re
from pathlib import Path
from typing import Any

from backend.services import versioned
from backend.services.checklists.specs import (
    AppraisalChoiceSpec,
    Condition,
    ConditionalCriterion,
    DangerPointSpec,
    GradeOption,
    ItemSpec,
    MeasureSpec,
    NodeSpec,
    OutcomeSpec,
    SignoffSpec,
    TemplateError,
    TemplateSpec,
    is_number,
)
from backend.vocabulary import (
    GRADES,
    METHODS,
    OUTCOME_LABELS,
    PHASES,
    STRUCTURE_TYPES,
    VISIT_KIND_LABELS,
)

DEFAULT_DIRECTORY = Path(__file__).resolve().parents[2] / "checklists"

_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
_DOTTED = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
_TEMPLATE_KEYS = ("code", "version", "name", "kind", "methods", "source", "nodes")
_TEMPLATE_OPTIONAL = ("signoffs", "appraisal_after", "outcomes", "danger_points")
_ITEM_KEYS = ("code", "name", "criterion", "requires_photo", "photo_hint", "measure",
              "applies_if", "source")
_OUTCOME_KEYS = ("code", "label", "requires_danger_points", "min_photos", "needs_revisit",
                 "photo_hint")


class TemplateParser:
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
        if "phase" in data and phase not in PHASES:
            self.fail(_at(path, "phase"), f"{phase!r} is not one of {', '.join(PHASES)}")
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
            if value is not None and not is_number(value):
                self.fail(_at(path, key), "must be a number or null")
        low = low if is_number(low) else None
        high = high if is_number(high) else None
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


def parse_template(data: Any, *, origin: str = "<dict>") -> TemplateSpec:
    """Build a template from its JSON form, refusing it with TemplateError if it is invalid."""
    parser = TemplateParser()
    spec = parser.template(data)
    if parser.errors:
        raise TemplateError(origin, parser.errors)
    return spec


# --- loading -------------------------------------------------------------------------------
def load_template_file(path: str | Path) -> TemplateSpec:
    return versioned.read_file(path, parse_template, TemplateError)[0]


def load_all(directory: str | Path = DEFAULT_DIRECTORY) -> list[TemplateSpec]:
    """Load and validate every `*.json` template in the directory, ordered by code."""
    return [spec for spec, _ in versioned.read_directory(directory, parse_template,
                                                           TemplateError)]
