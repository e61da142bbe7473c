"""Seed 004 三 (Yuquan, Hohhot): each eligible group and exclusion on hand-built people.

Rules come from scenarios/yuquan_home_services.toml, so these tests pin the scenario file to the
clauses it cites (docs/seed_clauses.md 004-三(一)-0..9, 004-三(二)-0..6).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agingsim.policy.dated import month_key
from agingsim.scenario import load_scenario
from agingsim.schemes.monthly import PersonSchemes
from tests.people_builder import entitle as entitle_at
from tests.people_builder import person

ROOT = Path(__file__).resolve().parents[1]
JULY_2024 = month_key(2024, 7)


@pytest.fixture(scope="module")
def yuquan():
    return PersonSchemes(load_scenario(ROOT / "scenarios/yuquan_home_services.toml"))


def entitle(schemes: PersonSchemes, scheme_id: str, people: list[dict], month: int = JULY_2024):
    return entitle_at(schemes, scheme_id, people, month)


@pytest.mark.parametrize(
    ("who", "rule"),
    [
        # 三(一)1: 65周岁以上城乡特困分散供养人员
        (person(65, "mild", econ="tekun_dispersed"), "g1_tekun_dispersed_65"),
        (person(64, "mild", econ="tekun_dispersed"), None),
        (person(70, "mild", econ="tekun_centralised"), None),  # centralised is not group 1
        # 三(一)2: 80周岁以上低保及低保边缘家庭中的老人
        (person(80, "mild", econ="dibao"), "g2_dibao_80"),
        (person(80, "mild", econ="near_dibao"), "g2_dibao_80"),
        (person(79, "mild", econ="dibao"), None),
        # 三(一)3: 低保及低保边缘家庭中的中度重度失能失智老人 (no extra age bar)
        (person(60, "moderate", econ="near_dibao"), "g3_dibao_moderate_severe"),
        (person(60, "severe", econ="dibao"), "g3_dibao_moderate_severe"),
        # 三(一)4: 70周岁及以上的计生特扶老人、独居老人
        (person(70, "mild", family="alone"), "g4_fp_or_alone_70"),
        (person(70, "mild", flags=("fp_special",)), "g4_fp_or_alone_70"),
        (person(69, "mild", family="alone"), None),
        # 三(一)5: 70周岁以上的劳动模范、因公致残、见义勇为伤残
        (person(70, "mild", flags=("model_worker",)), "g5_model_worker_70"),
        (person(69, "severe", flags=("model_worker",)), None),
        # 三(一)6: 90周岁以上
        (person(90, "mild"), "g6_age_90"),
        (person(89, "complete"), None),
        # 三(一)-0: every group requires 失能、半失能
        (person(95, "intact", econ="dibao", family="alone"), None),
        # 三(一)-9: long-term-care insurance recipients are excluded
        (person(90, "severe", flags=("ltc_insured",)), None),
        # 三(一)-8: moderately/severely disabled people in an institution or a family nursing bed are excluded
        (person(90, "moderate", setting="institution"), None),
        (person(90, "severe", setting="family_bed"), None),
        (person(90, "moderate", setting="day_care"), "g6_age_90"),  # day care is not excluded
        (person(90, "mild", setting="institution"), "g6_age_90"),  # the clause names moderate/severe only
        # … its recipients, not everyone enrolled: an insured mildly disabled 90-year-old still qualifies
        (person(90, "mild", flags=("ltc_insured",)), "g6_age_90"),
    ],
)
def test_home_service_groups(yuquan, who, rule):
    [(amount, got)] = entitle(yuquan, "home_services", [who])
    assert got == rule
    assert (amount > 0) == (rule is not None)


def test_amount_follows_the_ability_level(yuquan):
    levels = ["mild", "moderate", "severe", "complete"]
    got = entitle(yuquan, "home_services", [person(92, lv) for lv in levels])
    assert [a for a, _ in got] == [200, 400, 600, 600]


def test_several_conditions_give_the_highest_standard_once(yuquan):
    """三(一): 同时符合两个以上条件的老人,按最高标准执行,但不得重复享受."""
    multi = person(91, "severe", econ="dibao", family="alone", flags=("model_worker",))
    [(amount, rule)] = entitle(yuquan, "home_services", [multi])
    assert amount == 600  # one standard, not 5 × 600
    assert rule is not None


def test_highest_standard_wins_when_groups_differ(tiny_copy):
    """With different standards per group, the person gets the largest, booked under its rule."""
    policy = """
[policy]
[[policy.schemes]]
id = "svc"
name = "测试服务"
family = "demand"
payers = { city = 0.5, county = 0.5, source = "test" }
  [[policy.schemes.groups]]
  id = "low"
  when = "age >= 60"
  amount = { value = 100, assumption = "test" }
  [[policy.schemes.groups]]
  id = "high"
  when = "age >= 80"
  amount = { value = 300, assumption = "test" }
"""
    path = tiny_copy.scenario
    path.write_text(path.read_text() + policy)
    schemes = PersonSchemes(load_scenario(path))
    got = entitle(schemes, "svc", [person(70), person(85)], month_key(2024, 1))
    assert got == [(100.0, "low"), (300.0, "high")]


@pytest.mark.parametrize(
    ("who", "rule"),
    [
        (person(60, econ="tekun_centralised"), "m1_tekun"),  # 三(二)1: 特困 (either kind)
        (person(60, econ="tekun_dispersed"), "m1_tekun"),
        (person(60, "moderate"), "m2_moderate_severe"),  # 三(二)2
        (person(60, "mild"), None),  # mild alone is not a meal-service group
        (person(60, econ="near_dibao"), "m3_dibao"),  # 三(二)3
        (person(60, family="empty_nest"), "m4_empty_nest"),  # 三(二)4 空巢(留守)
        (person(60, family="left_behind", urban=False), "m4_empty_nest"),
        (person(60, flags=("lost_only_child", "fp_special")), "m5_lost_only_child"),  # 三(二)5
        (person(100), "m6_age_100"),  # 三(二)6
        (person(99), None),
        # 三(二)4 空巢(留守): living alone (独居) is the one-person form of an empty nest (issue 16)
        (person(75, family="alone"), "m4_empty_nest"),
        (person(60, family="with_family"), None),
    ],
)
def test_meal_service_groups(yuquan, who, rule):
    """三(二): no disability requirement; six groups."""
    [(amount, got)] = entitle(yuquan, "meal_service", [who])
    assert got == rule
    assert (amount > 0) == (rule is not None)


def test_nothing_is_paid_before_the_start_date(yuquan):
    """四(三): service delivery starts July 2024; June 2024 pays nothing."""
    who = [person(90, "severe"), person(60, family="empty_nest")]
    assert all(a == 0 for a, _ in entitle(yuquan, "home_services", who, month_key(2024, 6)))
    assert all(a == 0 for a, _ in entitle(yuquan, "meal_service", who, month_key(2024, 6)))


def test_004_san_er_4_a_75_year_old_living_alone_gets_the_meal_service(yuquan):
    """三(二)4 60周岁以上空巢(留守)老人: an elder living alone (独居) is in an empty nest (issue 16
    defect 6: the rule had read 空巢 as couples only, so a 75-year-old living alone got nothing)."""
    [(amount, rule)] = entitle(yuquan, "meal_service", [person(75, family="alone")])
    assert (amount, rule) == (90.0, "m4_empty_nest")
