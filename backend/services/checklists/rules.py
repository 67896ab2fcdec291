"""The rules a checklist template sets for a visit: each item's result and measured value, the
photos and results still missing, a survey's outcome, the safety grade and the sign-offs.

Each says what is wrong or still missing, and returns an empty list when the visit can be saved.
Pure Python: no Flask, no database.
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from backend.services.checklists.specs import (
    ItemSpec,
    SignoffSpec,
    TemplateSpec,
    format_number,
    is_number,
)
from backend.vocabulary import RESULT_LABELS


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
    invalid = value is not None and not is_number(value)
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
                f"{name}实测值 {format_number(value)} {measure.unit} "
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
