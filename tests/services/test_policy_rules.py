"""The counties' policy rules, read from their workflow files, evaluated at their boundaries.

Pure: `rules.evaluate` on hand-made facts, no database. Each boundary is the seed's own number
(003 山阴 §五(二), 004 郯城 §三(一) and §四(二), 000 武乡), compared exactly.
"""

from decimal import Decimal

import pytest

from backend.services.subsidies.plan import parse_plan
from backend.services.subsidies.rules import Facts, evaluate, parse_rules
from backend.services.workflow.spec import WorkflowError, load_all, parse_workflow

SPECS = {spec.code: spec for spec, _ in load_all()}


def results(county: str, *, method="拆除重建", category="dibao", family_size=3, area=None,
            cost=None, subsidy=None, **more) -> dict:
    """Each rule of the county's file → its result on these numbers."""
    facts = Facts(method=method, category=category, family_size=family_size,
                  area_m2=Decimal(area) if area is not None else None,
                  cost_yuan=Decimal(cost) if cost is not None else None,
                  subsidy_yuan=Decimal(subsidy) if subsidy is not None else None, **more)
    found = evaluate(SPECS[county].rules, facts)
    assert [r.rule.code for r in found] == [r.code for r in SPECS[county].rules]  # every rule
    return {r.rule.code: r for r in found}


def result(county: str, code: str, **facts) -> str:
    return results(county, **facts)[code].result


# --- 山阴 003 §五(二) ---------------------------------------------------------------------------
def test_shanyin_rules_are_read_with_their_levels_and_citations():
    rules = {r.code: r for r in SPECS["shanyin"].rules}
    assert rules["per_person_area_cap"].level == "hard"  # 不得超过
    assert rules["per_person_area_floor"].level == "soft"  # 原则上
    assert rules["household_area_cap"].level == "soft"
    assert {rules["key_groups_average"].level, rules["ordinary_average"].level} == {"report"}
    assert all("003" in r.source for r in rules.values())


def test_shanyin_three_people_at_18_m2_each_pass_and_at_18_01_are_blocked():
    passed = results("shanyin", family_size=3, area="54.00")["per_person_area_cap"]
    assert passed.result == "passed" and "18.00 m²" in passed.detail
    failed = results("shanyin", family_size=3, area="54.03")["per_person_area_cap"]
    assert failed.result == "failed" and "18.01 m²" in failed.detail
    assert not failed.needs_justification  # a hard rule is not justified away
    # Exact: 54.01 m² is 18.003… m² per person, over the cap though it prints as 18.00.
    assert result("shanyin", "per_person_area_cap", family_size=3, area="54.01") == "failed"
    assert result("shanyin", "per_person_area_cap", family_size=5, area="90.00") == "passed"
    assert result("shanyin", "per_person_area_cap", family_size=5, area="90.01") == "failed"


def test_shanyin_a_household_of_two_is_not_under_the_18_m2_cap():
    found = results("shanyin", family_size=2, area="40.00")["per_person_area_cap"]  # 20 each
    assert found.result == "passed" and "不在本条范围" in found.detail
    assert result("shanyin", "per_person_area_cap", family_size=1, area="59.00") == "passed"


def test_shanyin_below_13_m2_per_person_warns():
    warned = results("shanyin", family_size=3, area="38.97")["per_person_area_floor"]
    assert warned.result == "warned" and warned.needs_justification
    assert "12.99 m²" in warned.detail and "13.00 m²" in warned.detail
    assert result("shanyin", "per_person_area_floor", family_size=3, area="39.00") == "passed"
    assert result("shanyin", "per_person_area_floor", family_size=1, area="12.99") == "warned"


def test_shanyin_at_most_60_m2_per_household_is_soft():
    assert result("shanyin", "household_area_cap", family_size=4, area="60.00") == "passed"
    over = results("shanyin", family_size=4, area="60.01")
    assert over["household_area_cap"].result == "warned"
    assert over["per_person_area_cap"].result == "passed"  # 15 m² each
    # Four people at 18 m² each: within the hard cap, over the soft household figure.
    four = results("shanyin", family_size=4, area="72.00")
    assert four["per_person_area_cap"].result == "passed"
    assert four["household_area_cap"].result == "warned"


def test_shanyin_averages_are_a_report_figure_never_a_cap():
    found = results("shanyin", subsidy="50000.00",
                    county_averages={"key_groups_average": (12, Decimal("15500.00"))})
    assert found["key_groups_average"].result == "info"
    assert "12 户" in found["key_groups_average"].detail
    assert "15,500.00 元" in found["key_groups_average"].detail
    assert found["ordinary_average"].detail == "不适用于本户"  # a target household
    assert result("shanyin", "ordinary_average", category="ordinary") == "pending"  # none yet


def test_numbers_not_yet_entered_leave_a_rule_pending():
    found = results("shanyin", family_size=3)
    assert {found[c].result for c in ("household_area_cap", "per_person_area_floor",
                                       "per_person_area_cap")} == {"pending"}
    assert found["per_person_area_cap"].detail == "待填写：面积"
    assert results("shanyin", family_size=None)["per_person_area_cap"].detail == \
        "待填写：面积、家庭人口"
    assert result("shanyin", "per_person_area_cap", family_size=None, area="54.00") == \
        "pending"
    assert result("tancheng", "rebuild_area_floor") == "pending"
    assert result("tancheng", "subsidy_floor", method="修缮加固") == "pending"
    assert result("wuxiang", "subsidy_standard", category="ordinary", subsidy="8000") == \
        "pending"  # 80 % of a cost not yet known
    assert result("wuxiang", "subsidy_standard", category="dibao") == "pending"
    assert not results("shanyin", family_size=3)["per_person_area_cap"].needs_justification


# --- 郯城 004 §三(一), §四(二) ------------------------------------------------------------------
@pytest.mark.parametrize("method", ["拆除重建", "选址新建", "统建"])
def test_tancheng_a_rebuilt_or_new_house_of_20_m2_passes_and_19_99_fails(method):
    assert result("tancheng", "rebuild_area_floor", method=method, area="20.00") == "passed"
    failed = results("tancheng", method=method, area="19.99")["rebuild_area_floor"]
    assert failed.result == "failed" and "004 §三(一)" in failed.rule.source


def test_tancheng_the_20_m2_floor_is_for_new_houses_only():
    found = results("tancheng", method="修缮加固", area="15.00")
    assert found["rebuild_area_floor"].result == "passed"
    assert found["rebuild_area_floor"].detail == "不适用于本户"
    assert found["small_household_area"].result == "passed"


def test_tancheng_one_to_three_people_build_40_to_60_m2_as_a_rule():
    for size in (1, 2, 3):
        assert result("tancheng", "small_household_area", family_size=size, area="39.99") == \
            "warned"
        assert result("tancheng", "small_household_area", family_size=size, area="40.00") == \
            "passed"
        assert result("tancheng", "small_household_area", family_size=size, area="60.00") == \
            "passed"
        assert result("tancheng", "small_household_area", family_size=size, area="60.01") == \
            "warned"
    bigger = results("tancheng", family_size=4, area="90.00")["small_household_area"]
    assert bigger.result == "passed" and "不在本条范围" in bigger.detail
    assert results("tancheng", family_size=3, area="30.00")["small_household_area"].rule.level \
        == "soft"


@pytest.mark.parametrize("method,floor", [
    ("修缮加固", "12000.00"), ("抗震改造", "12000.00"), ("拆除重建", "25000.00"),
    ("选址新建", "25000.00"), ("统建", "25000.00")])
def test_tancheng_subsidy_floor_per_method(method, floor):
    assert result("tancheng", "subsidy_floor", method=method, subsidy=floor) == "passed"
    below = Decimal(floor) - Decimal("0.01")
    warned = results("tancheng", method=method, subsidy=str(below))["subsidy_floor"]
    assert warned.result == "warned" and warned.needs_justification
    assert f"{Decimal(floor):,}" in warned.detail


def test_tancheng_an_actual_cost_below_the_floor_is_the_floor():
    lower = results("tancheng", method="修缮加固", cost="9000.00", subsidy="9000.00")
    assert lower["subsidy_floor"].result == "passed" and "按实际补助" in \
        lower["subsidy_floor"].detail
    assert result("tancheng", "subsidy_floor", method="修缮加固", cost="9000.00",
                  subsidy="8999.99") == "warned"
    # A cost above the floor leaves the floor as it is.
    assert result("tancheng", "subsidy_floor", method="拆除重建", cost="60000.00",
                  subsidy="24999.99") == "warned"
    assert result("tancheng", "subsidy_floor", method="拆除重建", cost="25000.00",
                  subsidy="25000.00") == "passed"


def test_tancheng_a_method_without_a_floor_passes():
    found = results("tancheng", method="置换", subsidy="100.00")["subsidy_floor"]
    assert found.result == "passed" and "无最低标准" in found.detail


# --- 武乡 000 ---------------------------------------------------------------------------------
def test_wuxiang_ordinary_households_get_at_most_80_percent_of_the_cost():
    assert result("wuxiang", "subsidy_standard", category="ordinary", cost="10000.00",
                  subsidy="8000.00") == "passed"
    failed = results("wuxiang", category="ordinary", cost="10000.00", subsidy="8000.01")
    assert failed["subsidy_standard"].result == "failed"
    assert "8,000.00 元" in failed["subsidy_standard"].detail


def test_wuxiang_80_percent_is_exact_to_the_cent():
    # 80 % of 12,345.67 is 9,876.536: 9,876.53 is within it, 9,876.54 is not.
    assert result("wuxiang", "subsidy_standard", category="ordinary", cost="12345.67",
                  subsidy="9876.53") == "passed"
    assert result("wuxiang", "subsidy_standard", category="ordinary", cost="12345.67",
                  subsidy="9876.54") == "failed"


def test_wuxiang_ordinary_households_are_capped_at_14000():
    assert result("wuxiang", "subsidy_standard", category="ordinary", cost="30000.00",
                  subsidy="14000.00") == "passed"
    assert result("wuxiang", "subsidy_standard", category="ordinary", cost="30000.00",
                  subsidy="14000.01") == "failed"
    assert result("wuxiang", "subsidy_standard", category="ordinary", cost="17500.00",
                  subsidy="14000.00") == "passed"  # 80 % is exactly the cap


@pytest.mark.parametrize("method", ["拆除重建", "选址新建", "统建"])
def test_wuxiang_target_groups_building_new_get_14000(method):
    for category in ("dibao", "tekun", "lifted_supported"):
        assert result("wuxiang", "subsidy_standard", method=method, category=category,
                      subsidy="14000.00") == "passed"  # no cost needed: a flat amount
        assert result("wuxiang", "subsidy_standard", method=method, category=category,
                      cost="9000.00", subsidy="14000.00") == "passed"
        assert result("wuxiang", "subsidy_standard", method=method, category=category,
                      subsidy="14000.01") == "failed"


def test_wuxiang_target_groups_repairing_get_the_actual_cost_up_to_14000():
    assert result("wuxiang", "subsidy_standard", method="修缮加固", cost="9000.00",
                  subsidy="9000.00") == "passed"
    assert result("wuxiang", "subsidy_standard", method="修缮加固", cost="9000.00",
                  subsidy="9000.01") == "failed"
    assert result("wuxiang", "subsidy_standard", method="修缮加固", cost="20000.00",
                  subsidy="14000.00") == "passed"
    assert result("wuxiang", "subsidy_standard", method="修缮加固", cost="20000.00",
                  subsidy="14000.01") == "failed"
    assert result("wuxiang", "subsidy_standard", method="修缮加固", subsidy="9000.00") == \
        "pending"


# --- every county: no repeat, no other safe house ------------------------------------------
@pytest.mark.parametrize("county", ["shanyin", "tancheng", "wuxiang", "default"])
def test_an_earlier_renovation_fails_unless_a_disaster_damaged_the_house_again(county):
    assert result(county, "not_repeated") == "passed"
    failed = results(county, earlier_years=(2019,))["not_repeated"]
    assert failed.result == "failed" and "2019 年已享受" in failed.detail
    again = results(county, earlier_years=(2019, 2021), redamaged_by_disaster=True)
    assert again["not_repeated"].result == "warned"  # the seed's own exception, justified
    assert again["not_repeated"].needs_justification
    assert "2019、2021" in again["not_repeated"].detail


@pytest.mark.parametrize("county", ["tancheng", "wuxiang", "default"])
def test_another_safe_house_declared_fails(county):
    assert result(county, "no_other_safe_house") == "passed"
    failed = results(county, other_safe_house=True)["no_other_safe_house"]
    assert failed.result == "failed" and "004 §二(二)" in failed.rule.source


# --- a file with a bad rule ---------------------------------------------------------------
RULE = {"code": "cap", "kind": "area_max", "level": "soft", "max": "60", "text": "上限",
        "source": "003 §五(二)"}


@pytest.mark.parametrize("changes,fault", [
    ({"kind": "area_magic"}, "area_magic"),
    ({"level": "mandatory"}, "mandatory"),
    ({"source": ""}, "'source' is missing"),
    ({"max": None}, "max"),
    ({"max": "sixty"}, "sixty"),
    ({"max": "NaN"}, "NaN"),
    ({"max": "Infinity"}, "Infinity"),
    ({"max": "-5"}, "-5"),
    ({"methods": ["盖高楼"]}, "盖高楼"),
    ({"categories": "rich"}, "categories"),
])
def test_a_bad_rule_names_its_fault(changes, fault):
    item = {**RULE, **changes}
    if changes.get("max") is None and "max" in changes:
        del item["max"]
    errors = []
    parse_rules([item], "policy", errors)
    assert len(errors) == 1 and errors[0].startswith("policy[0]") and fault in errors[0], errors


@pytest.mark.parametrize("item,fault", [
    ({"code": "r", "kind": "area_range", "level": "soft", "text": "t", "source": "s",
      "min": "40", "max": "60", "family_max": "three"}, "family_max"),
    ({"code": "r", "kind": "area_per_person_max", "level": "hard", "text": "t", "source": "s",
      "max": "18", "family_min": 0}, "family_min"),
    ({"code": "r", "kind": "subsidy_min", "level": "soft", "text": "t", "source": "s",
      "amounts": {"盖高楼": "1"}}, "盖高楼"),
    ({"code": "r", "kind": "subsidy_min", "level": "soft", "text": "t", "source": "s",
      "amounts": ["12000"]}, "policy[0]"),
    ({"code": "r", "kind": "subsidy_cap", "level": "hard", "text": "t", "source": "s",
      "groups": [{"share_of_cost": "1.5", "max": "14000"}]}, "share_of_cost"),
    ({"code": "r", "kind": "subsidy_cap", "level": "hard", "text": "t", "source": "s",
      "groups": [{"max": "NaN"}]}, "NaN"),
    ({"code": "r", "kind": "subsidy_cap", "level": "hard", "text": "t", "source": "s",
      "groups": ["14000"]}, "policy[0]"),
    ("not a rule", "policy[0]"),
])
def test_a_bad_parameter_is_named_and_never_crashes_the_reader(item, fault):
    errors = []
    assert parse_rules([item], "policy", errors) == ()
    assert len(errors) == 1 and fault in errors[0], errors


def test_a_workflow_file_with_bad_rules_and_plan_names_every_fault():
    data = {**SPECS_JSON["tancheng"]}
    data["policy"] = [RULE, {**RULE}, {**RULE, "code": "x", "kind": "nope"}]
    data["payments"] = {"roles": ["finance", "mayor"], "tranches": [
        {"code": "advance", "after": "started", "share": "NaN"},
        {"code": "balance", "after": "paid", "due_days": 0},
        {"code": "full", "after": "accepted", "due_days": 400}]}
    with pytest.raises(WorkflowError) as raised:
        parse_workflow(data)
    text = "\n".join(raised.value.errors)
    for fault in ("a rule code appears twice", "policy[2]", "nope", "tranches[0].share",
                  "tranches[1].after", "tranches[2].due_days", "payments.roles"):
        assert fault in text, (fault, text)


def test_a_plan_whose_last_tranche_has_a_share_is_refused():
    errors = []
    parse_plan({"roles": ["finance"], "tranches": [
        {"code": "advance", "after": "started", "share": "0.5"}]}, "payments", errors)
    assert errors == ["payments: the last tranche pays the rest (no share)"]
    errors = []
    plan = parse_plan(None, "payments", errors)
    assert errors == [] and [t.code for t in plan.tranches] == ["full"]


SPECS_JSON = {spec.code: data for spec, data in load_all()}
