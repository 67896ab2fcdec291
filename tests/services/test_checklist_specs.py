import copy
import json

import pytest

from backend.services.checklists.parser import (
    DEFAULT_DIRECTORY,
    load_all,
    load_template_file,
    parse_template,
)
from backend.services.checklists.rules import (
    RecordedItem,
    check_appraisal_after,
    check_outcome,
    check_result,
    missing_required_photos,
    missing_results,
    missing_signoffs,
)
from backend.services.checklists.specs import Condition, TemplateError, templates_for
from backend.vocabulary import (
    METHODS,
    OUTCOME_LABELS,
    PHASES,
    RESULT_LABELS,
    VISIT_KIND_LABELS,
)


@pytest.fixture(scope="module")
def templates():
    return {t.code: t for t in load_all()}


@pytest.fixture(scope="module")
def rebuild(templates):
    return templates["rebuild"]


def make_template(**overrides):
    """Return a small valid template in its JSON form."""
    data = {
        "code": "mini",
        "version": 1,
        "name": "测试表",
        "kind": ["construction"],
        "methods": ["拆除重建"],
        "source": "test",
        "nodes": [{
            "code": "foundation",
            "name": "基础",
            "phase": "during",
            "items": [
                {
                    "code": "foundation.depth", "name": "基础埋深", "criterion": "不小于500 mm",
                    "requires_photo": True, "photo_hint": "卷尺入镜",
                    "measure": {"name": "基础埋深", "unit": "mm", "min": 500, "max": None},
                    "applies_if": None, "source": "2018",
                },
                {
                    "code": "foundation.rail", "name": "楼梯栏杆", "criterion": "设栏杆",
                    "requires_photo": True, "photo_hint": "栏杆全貌", "measure": None,
                    "applies_if": {"storeys_min": 2}, "source": "福鼎",
                },
            ],
        }],
    }
    data.update(overrides)
    return data


def refused(data) -> str:
    with pytest.raises(TemplateError) as excinfo:
        parse_template(data, origin="mini.json")
    return str(excinfo.value)


# --- shipped templates ---------------------------------------------------------------------
def test_every_shipped_template_loads_and_validates(templates):
    assert set(templates) == {"rebuild", "repair", "completion", "routine_survey", "appraisal"}
    for spec in templates.values():
        assert spec.version >= 1
        assert spec.kinds and set(spec.kinds) <= set(VISIT_KIND_LABELS)
        assert set(spec.methods) <= set(METHODS)
        assert spec.source


def test_shipped_files_are_in_canonical_form(templates):
    for path in sorted(DEFAULT_DIRECTORY.glob("*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        assert templates[path.stem].to_dict() == raw, path.name


def test_rebuild_has_the_27_items_in_11_nodes(rebuild):
    assert rebuild.item_count == 27
    assert [n.name for n in rebuild.nodes] == [
        "选址放线", "基槽/地基", "基础", "承重墙体", "构造柱", "圈梁", "门窗洞口", "楼(屋)盖",
        "屋架/屋面", "墙面/勒脚", "竣工",
    ]
    assert [len(n.items) for n in rebuild.nodes] == [2, 1, 3, 5, 4, 2, 2, 2, 2, 1, 3]
    assert rebuild.nodes[0].phase == "before" and rebuild.nodes[-1].phase == "after"
    assert not rebuild.item("wall.materials").requires_photo
    assert not rebuild.item("final.clear_height").requires_photo


@pytest.mark.parametrize(("code", "unit", "low", "high"), [
    ("foundation.depth", "mm", 500, None),
    ("wall.mortar_joints", "%", 80, 100),
    ("tie_column.toothing", "mm", 60, None),
    ("tie_column.ties", "mm", 600, None),
    ("tie_column.section", "mm", 180, None),
    ("ring_beam.section", "mm", 120, None),
    ("opening.size", "mm", 0, 5),
    ("opening.lintel", "mm", 240, None),
    ("finish.plinth", "mm", 600, None),
    ("final.clear_height", "mm", 2400, None),
])
def test_rebuild_measures(rebuild, code, unit, low, high):
    measure = rebuild.item(code).measure
    assert (measure.unit, measure.min, measure.max) == (unit, low, high)


def test_rebuild_item_codes_are_stable_ascii(rebuild):
    for node, item in rebuild.iter_items():
        assert item.code.isascii() and item.code.startswith(node.code + ".")
        assert rebuild.node_of(item.code) is node
    with pytest.raises(KeyError):
        rebuild.item("foundation.nope")


def test_repair_completion_and_survey_shapes(templates):
    repair, completion, survey = (templates[c] for c in ("repair", "completion", "routine_survey"))
    assert set(repair.methods) == {"修缮加固", "抗震改造"}
    assert repair.item("reappraisal.grade").name == "复评等级"
    assert [s.role for s in completion.signoffs] == ["town", "household", "builder"]
    assert completion.appraisal_after.required
    assert [o.value for o in completion.appraisal_after.options] == ["A", "B", "C", "D"]
    assert completion.appraisal_after.passes("B") and not completion.appraisal_after.passes("C")
    assert [o.code for o in survey.outcomes] == list(OUTCOME_LABELS)
    assert survey.outcome("nobody_home").needs_revisit
    assert {d.component for d in survey.danger_points} >= {"地基基础", "承重墙体", "屋面", "围护墙"}
    assert set(survey.kinds) == {"routine_survey", "emergency_survey"}


def test_templates_for_picks_by_kind_and_method(templates):
    specs = list(templates.values())
    assert [t.code for t in templates_for(specs, "construction", "拆除重建")] == ["rebuild"]
    assert [t.code for t in templates_for(specs, "construction", "修缮加固")] == ["repair"]
    assert [t.code for t in templates_for(specs, "completion", "修缮加固")] == ["completion"]
    assert [t.code for t in templates_for(specs, "emergency_survey")] == ["routine_survey"]
    assert [t.code for t in templates_for(specs, "appraisal")] == ["appraisal"]
    assert [t.code for t in templates_for(specs, "appraisal", "修缮加固")] == ["appraisal"]


def test_labels():
    assert RESULT_LABELS == {"pass": "合格", "fail": "不合格", "na": "不适用"}
    assert PHASES == {"before": "改造前", "during": "改造中", "after": "改造后"}
    assert set(VISIT_KIND_LABELS) == {
        "construction", "completion", "appraisal", "routine_survey", "emergency_survey",
        "spot_check",
    }
    assert OUTCOME_LABELS["suspected_danger"] == "疑似危房"


def test_appraisal_follows_the_2019_components_and_asks_for_the_grade(templates):
    appraisal = templates["appraisal"]
    assert appraisal.kinds == ("appraisal",) and appraisal.methods == ()
    assert [n.name for n in appraisal.nodes] == [
        "场地安全", "地基基础", "承重墙体", "梁、柱", "楼屋盖、屋架", "构造措施（圈梁、构造柱）",
        "其他"]
    assert {n.phase for n in appraisal.nodes} == {"before"}
    assert all(item.measure is None for _, item in appraisal.iter_items())
    assert [i.code for _, i in appraisal.iter_items() if i.requires_photo] == ["siting.hazard"]
    grade = appraisal.appraisal_after
    assert grade.label.startswith("综合评定等级") and "最严重的组成部分" in grade.label
    assert grade.required and [o.value for o in grade.options] == ["A", "B", "C", "D"]
    assert grade.passes("B") and not grade.passes("C")
    assert [p.code for p in check_appraisal_after(appraisal, None)] == ["appraisal_required"]
    assert check_appraisal_after(appraisal, "D") == []
    cracks = appraisal.item("bearing_wall.cracks")
    assert "2 mm" in cracks.criterion
    assert [p.code for p in check_result(cracks, "fail", None, "东山墙竖向裂缝", 0)] == [
        "fail_needs_photo"]
    assert check_result(cracks, "fail", None, "东山墙竖向裂缝", 1) == []


@pytest.mark.parametrize("appraisal_after", [
    None,
    {"label": "综合评定等级", "required": False, "passing": ["A"],
     "options": [{"value": "A", "label": "A级"}]},
])
def test_an_appraisal_template_must_require_the_grade(appraisal_after):
    data = make_template(kind=["appraisal"], methods=[])
    if appraisal_after is not None:
        data["appraisal_after"] = appraisal_after
    assert "appraisal_after: an appraisal template must require the grade" in refused(data)
    data["appraisal_after"] = {**(appraisal_after or {"label": "综合评定等级", "passing": ["A"],
                                                      "options": [{"value": "A", "label": "A级"}]}),
                               "required": True}
    assert parse_template(data).appraisal_after.required


# --- applies_if ----------------------------------------------------------------------------
def test_applies_if_uses_house_facts_and_missing_facts_apply(templates):
    rail = templates["completion"].item("function.stair_rail")
    assert rail.applies({"storeys": 2})
    assert not rail.applies({"storeys": 1})
    assert rail.applies({})
    assert rail.applies({"storeys": None})
    assert templates["completion"].item("function.zones").applies({"storeys": 1})


def test_condition_combines_every_limit():
    condition = Condition(storeys_min=2, seismic_intensity_min=8, structure_types=("砖混",))
    assert condition.matches({"storeys": 2, "seismic_intensity": 8, "structure_type": "砖混"})
    assert not condition.matches({"storeys": 2, "seismic_intensity": 7, "structure_type": "砖混"})
    assert not condition.matches({"storeys": 2, "seismic_intensity": 9, "structure_type": "土木"})
    assert condition.matches({"seismic_intensity": 9})


def test_conditional_criteria_join_only_when_they_hold(rebuild):
    slab = rebuild.item("floor.slab_type")
    assert "空心板、槽型板" in slab.criterion_for({"seismic_intensity": 8})
    assert "8度及以上" not in slab.criterion_for({"seismic_intensity": 7})
    assert "8度及以上" in slab.criterion_for({})
    services = rebuild.item("final.services")
    assert "栏杆" in services.criterion_for({"storeys": 2})
    assert "栏杆" not in services.criterion_for({"storeys": 1})
    assert services.applies({"storeys": 1})


# --- check_result --------------------------------------------------------------------------
def test_fail_without_photo_or_note_is_refused(rebuild):
    item = rebuild.item("wall.bond")
    problems = check_result(item, "fail", None, "  ", 0)
    assert [p.code for p in problems] == ["fail_needs_photo", "fail_needs_note"]
    assert all(p.item_code == "wall.bond" for p in problems)
    assert "错缝搭砌" in problems[0].message and "照片" in problems[0].message
    assert [p.code for p in check_result(item, "fail", None, "有通缝", 0)] == ["fail_needs_photo"]
    assert [p.code for p in check_result(item, "fail", None, "", 1)] == ["fail_needs_note"]
    assert check_result(item, "fail", None, "有通缝", 1) == []


def test_pass_outside_the_range_is_refused(rebuild):
    depth = rebuild.item("foundation.depth")
    problems = check_result(depth, "pass", 450, "", 1)
    assert [p.code for p in problems] == ["value_out_of_range"]
    assert "450 mm" in problems[0].message and "≥ 500 mm" in problems[0].message
    joints = rebuild.item("wall.mortar_joints")
    assert [p.code for p in check_result(joints, "pass", 100.5, "", 1)] == ["value_out_of_range"]
    assert check_result(depth, "pass", 500, "", 1) == []
    assert check_result(depth, "fail", 450, "埋深不足", 1) == []


def test_pass_without_a_required_measure_is_refused(rebuild):
    problems = check_result(rebuild.item("tie_column.ties"), "pass", None, "", 1)
    assert [p.code for p in problems] == ["value_required"]
    assert check_result(rebuild.item("wall.bond"), "pass", None, "", 0) == []


def test_na_needs_nothing_and_bad_input_is_named(rebuild):
    depth = rebuild.item("foundation.depth")
    assert check_result(depth, "na", None, "", 0) == []
    assert [p.code for p in check_result(depth, "ok", None, "", 0)] == ["result_invalid"]
    assert [p.code for p in check_result(depth, "pass", float("nan"), "", 1)] == ["value_invalid"]


# --- photos and completeness ---------------------------------------------------------------
def test_missing_required_photos(rebuild):
    results = {code: RecordedItem("pass", 1) for _, item in rebuild.iter_items()
               for code in [item.code]}
    assert missing_required_photos(rebuild, results) == []
    results["foundation.depth"] = RecordedItem("pass", 0)
    results["wall.bond"] = ("na", 0)
    results["wall.materials"] = RecordedItem("pass", 0)  # needs no photo
    del results["roof.truss"]
    assert missing_required_photos(rebuild, results) == [
        ("foundation", "foundation.depth"), ("roof", "roof.truss"),
    ]


def test_missing_required_photos_takes_bare_counts_and_skips_items_not_applying(templates):
    completion = templates["completion"]
    counts = {item.code: 1 for _, item in completion.iter_items()}
    counts["function.stair_rail"] = 0
    assert missing_required_photos(completion, counts) == [("function", "function.stair_rail")]
    assert missing_required_photos(completion, counts, house={"storeys": 1}) == []


def test_missing_results(templates):
    completion = templates["completion"]
    recorded = {item.code for _, item in completion.iter_items()} - {"function.stair_rail"}
    assert missing_results(completion, recorded) == [("function", "function.stair_rail")]
    assert missing_results(completion, recorded, house={"storeys": 1}) == []


# --- surveys, grade after works, signatures ------------------------------------------------
def test_survey_outcome_rules(templates):
    survey = templates["routine_survey"]
    assert check_outcome(survey, "safe", [], 0) == []
    problems = check_outcome(survey, "suspected_danger", [], 0)
    assert [p.code for p in problems] == ["danger_points_required", "outcome_needs_photo"]
    assert check_outcome(survey, "suspected_danger", ["wall.crack"], 1) == []
    assert [p.code for p in check_outcome(survey, "suspected_danger", ["wall.nope"], 1)] == [
        "danger_point_invalid"]
    assert [p.code for p in check_outcome(survey, None, [], 0)] == ["outcome_required"]
    assert [p.code for p in check_outcome(survey, "fine", [], 0)] == ["outcome_invalid"]
    with pytest.raises(ValueError):
        check_outcome(templates["rebuild"], "safe", [], 0)


def test_appraisal_after_and_signoffs(templates):
    completion = templates["completion"]
    assert check_appraisal_after(completion, "A") == []
    assert check_appraisal_after(completion, "C") == []  # recorded; the acceptance fails
    assert [p.code for p in check_appraisal_after(completion, None)] == ["appraisal_required"]
    assert [p.code for p in check_appraisal_after(completion, "E")] == ["appraisal_invalid"]
    assert check_appraisal_after(templates["rebuild"], None) == []
    assert [s.role for s in missing_signoffs(completion, {"town"})] == ["household", "builder"]


# --- round trip ----------------------------------------------------------------------------
def test_to_dict_from_dict_round_trip(templates):
    for spec in templates.values():
        stored = json.loads(json.dumps(spec.to_dict(), ensure_ascii=False))
        again = parse_template(stored)
        assert again == spec
        assert again.to_dict() == spec.to_dict()


def test_a_frozen_copy_survives_a_change_to_the_file(rebuild):
    stored = rebuild.to_dict()
    newer = copy.deepcopy(stored)
    newer["version"] = 2
    newer["nodes"][2]["items"][0]["measure"]["min"] = 600
    assert parse_template(stored).item("foundation.depth").measure.min == 500
    assert parse_template(newer).item("foundation.depth").measure.min == 600


# --- broken templates ----------------------------------------------------------------------
def test_duplicate_item_code_is_refused():
    data = make_template()
    data["nodes"][0]["items"][1]["code"] = "foundation.depth"
    message = refused(data)
    assert "mini.json" in message
    assert "nodes[0].items[1]: duplicate item code 'foundation.depth'" in message


def test_bad_phase_is_refused():
    data = make_template()
    data["nodes"][0]["phase"] = "later"
    assert "nodes[0].phase: 'later' is not one of before, during, after" in refused(data)


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: d["nodes"][0]["items"][0]["measure"].update(min=20, max=10),
     "measure: min 20 is greater than max 10"),
    (lambda d: d["nodes"][0]["items"][0].update(colour="red"), "unknown key 'colour'"),
    (lambda d: d["nodes"][0]["items"][0].pop("source"), "missing key 'source'"),
    (lambda d: d["nodes"][0]["items"][0].update(code="wall.depth"),
     "must start with its node code 'foundation'"),
    (lambda d: d["nodes"][0]["items"][0].update(photo_hint=None), "say what the photo must show"),
    (lambda d: d["nodes"][0]["items"][0].update(requires_photo="yes"), "must be true or false"),
    (lambda d: d["nodes"][0]["items"][1].update(applies_if={}), "applies_if: is empty"),
    (lambda d: d["nodes"][0]["items"][1].update(applies_if={"structure_types": ["茅草房"]}),
     "'茅草房' is not one of"),
    (lambda d: d.update(methods=["翻新"]), "methods[0]: '翻新' is not one of"),
    (lambda d: d.update(kind=[]), "kind: must not be empty"),
    (lambda d: d.update(version=0), "version: must be an integer ≥ 1"),
    (lambda d: d["nodes"].append(copy.deepcopy(d["nodes"][0])),
     "nodes[1]: duplicate node code 'foundation'"),
    (lambda d: d["nodes"][0].update(items=[]), "nodes[0].items: must not be empty"),
])
def test_broken_templates_are_refused_with_the_place_named(change, expected):
    data = make_template()
    change(data)
    assert expected in refused(data)


def test_every_fault_is_reported_at_once():
    data = make_template(version="one")
    data["nodes"][0]["phase"] = "later"
    error = pytest.raises(TemplateError, parse_template, data).value
    assert len(error.errors) == 2


def test_file_name_must_match_the_code(tmp_path):
    path = tmp_path / "other.json"
    path.write_text(json.dumps(make_template()), encoding="utf-8")
    with pytest.raises(TemplateError, match="differs from the file name"):
        load_template_file(path)


def test_unreadable_file_is_refused(tmp_path):
    (tmp_path / "mini.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(TemplateError, match="mini.json"):
        load_all(tmp_path)


def test_load_all_reads_a_directory(tmp_path):
    (tmp_path / "mini.json").write_text(json.dumps(make_template(), ensure_ascii=False),
                                        encoding="utf-8")
    [spec] = load_all(tmp_path)
    assert spec.item("foundation.rail").applies_if == Condition(storeys_min=2)
