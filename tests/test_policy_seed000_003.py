"""Seeds 000 (Zhumadian) and 003 (Ninghe, Tianjin): each rule on hand-built people.

Rules come from scenarios/zhumadian_basic_services.toml and scenarios/ninghe_allowances.toml, so these
tests pin the scenario files to the clauses they cite (docs/seed_clauses.md 000-4-1, 000-7-2, 000-14-1,
003-4-1, 003-6-4, 003-6-5, 003-6-6). Neither seed gives an amount: the amounts pinned here are the
scenarios' labelled assumptions, the age, income and ability conditions are the clauses'.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from agingsim.policy.dated import month_key
from agingsim.scenario import load_scenario
from agingsim.schemes.monthly import PersonSchemes
from agingsim.simulate import run_scenario
from tests.people_builder import entitle as entitle_at
from tests.people_builder import person

ROOT = Path(__file__).resolve().parents[1]
ZHUMADIAN = ROOT / "scenarios/zhumadian_basic_services.toml"
NINGHE = ROOT / "scenarios/ninghe_allowances.toml"
JAN_2025 = month_key(2025, 1)


@pytest.fixture(scope="module")
def zmd():
    return PersonSchemes(load_scenario(ZHUMADIAN))


@pytest.fixture(scope="module")
def nh():
    return PersonSchemes(load_scenario(NINGHE))


def entitle(schemes: PersonSchemes, scheme_id: str, people: list[dict], month: int = JAN_2025):
    return entitle_at(schemes, scheme_id, people, month)


def amount(schemes: PersonSchemes, scheme_id: str, who: dict, month: int = JAN_2025) -> float:
    [(a, _)] = entitle(schemes, scheme_id, [who], month)
    return a


def scheme_ids(path: Path) -> list[str]:
    with path.open("rb") as fh:
        return [s["id"] for s in tomllib.load(fh)["policy"]["schemes"]]


# ====================================================================== seed 000, Zhumadian


@pytest.mark.parametrize(
    ("econ", "expected"),
    [
        ("tekun_dispersed", 100),
        ("dibao", 100),
        ("near_dibao", 100),
        ("ordinary", 0),
        ("tekun_centralised", 0),  # care already in the 特困供养标准 (000-6-1)
    ],
)
def test_000_7_2_service_subsidy_goes_to_economically_difficult_elders(zmd, econ, expected):
    """000-7-2 经济困难老年人养老服务补贴: 经济困难 = dispersed 特困, 低保, 低保边缘; any ability."""
    assert amount(zmd, "hardship_service_subsidy", person(60, "intact", econ=econ)) == expected
    assert amount(zmd, "hardship_service_subsidy", person(85, "severe", econ=econ)) == expected


@pytest.mark.parametrize(
    ("ability", "expected"),
    [("intact", 0), ("mild", 100), ("moderate", 200), ("severe", 300), ("complete", 300)],
)
def test_000_7_2_nursing_subsidy_every_disabled_elder_by_level(zmd, ability, expected):
    """000-7-2 失能老年人护理补贴: every GB/T 42195 失能 grade (mild+), not limited to the poor."""
    for econ in ("ordinary", "dibao", "tekun_centralised"):
        assert amount(zmd, "disability_nursing_subsidy", person(60, ability, econ=econ)) == expected


@pytest.mark.parametrize(
    ("who", "paid"),
    [
        (person(60, family="alone"), True),  # 独居
        (person(60, family="empty_nest"), True),  # 空巢
        (person(60, family="left_behind", urban=False), True),  # 留守
        (person(60, "mild"), True),  # 失能
        (person(60, flags=("handicapped",)), True),  # 重残 (every 残疾人: an over-count)
        (person(60, flags=("fp_special",)), True),  # 计划生育特殊家庭
        (person(60, flags=("lost_only_child",)), True),
        (person(60), False),  # lives with family, intact, no flag
        (person(95, econ="dibao"), False),  # age and poverty are not 000-4-1 groups
        (person(70, flags=("veteran_family", "model_worker")), False),
    ],
)
def test_000_4_1_monthly_visit_for_each_named_group(zmd, who, paid):
    """000-4-1: 对独居、空巢、留守、失能、重残、计划生育特殊家庭等老年人…每月至少开展一次探访关爱服务."""
    assert amount(zmd, "visiting_care", who) == (30 if paid else 0)


@pytest.mark.parametrize(
    ("who", "paid"),
    [
        (person(60, "mild", econ="tekun_dispersed"), True),  # 失能
        (person(80, econ="tekun_dispersed"), True),  # 高龄 = 80+ (as 000-15-2)
        (person(79, econ="tekun_dispersed"), False),
        (person(65, econ="tekun_dispersed", flags=("handicapped",)), True),  # 残疾
        (person(90, "severe", econ="tekun_centralised"), False),  # only 分散特困
        (person(90, "severe", econ="dibao"), False),  # 000-14-2 dibao extension is optional, off
        (person(90, "severe"), False),
    ],
)
def test_000_14_1_home_adaptation_for_dispersed_tekun_households(zmd, who, paid):
    """000-14-1: 纳入分散特困供养范围的失能、高龄、残疾老年人家庭实施居家适老化改造 (one-off 3,000
    per household, paid once and within a yearly quota: tests/test_oneoff_quota.py)."""
    assert amount(zmd, "home_adaptation", who) == (3000 if paid else 0)


def test_000_schemes_are_in_force_from_january_2024(zmd):
    """000-1-1: county lists due by end-December 2023 → schemes assumed in force from 2024-01."""
    dispersed = person(85, "severe", econ="tekun_dispersed", family="alone")
    centralised = person(85, "severe", econ="tekun_centralised", family="alone")
    for sid in scheme_ids(ZHUMADIAN):
        who = centralised if sid == "public_home_running_costs" else dispersed
        assert amount(zmd, sid, who, month_key(2023, 12)) == 0, sid
        assert amount(zmd, sid, who, month_key(2024, 1)) > 0, sid


def test_000_has_no_advanced_age_allowance(zmd):
    """Seed 000 names no 高龄津贴 (80+ is only an admission priority, 000-15-2): a healthy 95-year-old
    of ordinary means living with family gets nothing."""
    who = person(95, "intact", econ="ordinary", family="with_family")
    assert all(amount(zmd, sid, who) == 0 for sid in scheme_ids(ZHUMADIAN))


# ====================================================================== seed 003, Ninghe


@pytest.mark.parametrize(
    ("age", "expected", "rule"),
    [
        (79, 0, None),
        (80, 100, "age_80_89"),
        (89, 100, "age_80_89"),
        (90, 200, "age_90_99"),
        (99, 200, "age_90_99"),
        (100, 0, None),  # centenarians: Tianjin's one published payment, booked as 003-6-6 below
        (104, 0, None),
    ],
)
def test_003_6_5_advanced_age_allowance_tiers_at_each_boundary(nh, age, expected, rule):
    """003-6-5: 为80周岁及以上老年人发放高龄津贴 (tiers 80/90 are the scenario's assumption; 100+ get the
    centenarian payment instead, so one published figure is not booked twice)."""
    [(got, got_rule)] = entitle(nh, "advanced_age_allowance", [person(age)])
    assert (got, got_rule) == (expected, rule)


def test_003_6_5_advanced_age_allowance_has_no_income_or_ability_condition(nh):
    people = [
        person(80, "intact", econ="ordinary"),
        person(80, "complete", econ="tekun_centralised"),
        person(80, "mild", econ="dibao", family="alone", urban=False),
    ]
    assert [a for a, _ in entitle(nh, "advanced_age_allowance", people)] == [100, 100, 100]


def test_003_6_5_one_tier_once_not_the_sum(nh):
    """A 95-year-old gets the 90-99 standard once, not 100 + 200."""
    assert amount(nh, "advanced_age_allowance", person(95)) == 200


@pytest.mark.parametrize(("age", "expected"), [(99, 0), (100, 500), (105, 500)])
def test_003_6_6_centenarian_nutrition_subsidy(nh, age, expected):
    """003-6-6: 继续做好百岁老人营养补贴发放工作 (100+, any means or ability)."""
    assert amount(nh, "centenarian_nutrition", person(age, "severe", econ="ordinary")) == expected


def test_003_6_5_and_6_6_the_centenarian_500_yuan_is_booked_once(nh):
    """Issue 16 defect 8: Tianjin's one published payment to people 100+ (500 CNY a month,
    calibration/data/tianjin_subsidy_standards.csv) was booked both as the nutrition subsidy (003-6-6)
    and beside a 300 CNY 高龄津贴 tier (003-6-5): a centenarian now costs 500 a month, not 800."""
    who = person(100)
    assert amount(nh, "advanced_age_allowance", who) + amount(nh, "centenarian_nutrition", who) == 500


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        (person(60, "mild", econ="dibao"), 200),
        (person(60, "moderate", econ="near_dibao"), 400),
        (person(60, "severe", econ="tekun_dispersed"), 600),
        (person(90, "complete", econ="dibao"), 600),
        (person(75, "intact", econ="dibao"), 0),  # needs a 失能 grade
        (person(75, "severe", econ="ordinary"), 0),  # needs to be 困难
        (person(75, "severe", econ="tekun_centralised"), 0),  # cared for in the support institution
    ],
)
def test_003_6_4_needy_elders_subsidy_by_econ_and_ability(nh, who, expected):
    """003-6-4 困难老年人养老服务(护理)补贴: needy (dispersed 特困, 低保, 低保边缘) and mild or worse,
    graded 200 / 400 / 600 (Tianjin 2017)."""
    assert amount(nh, "hardship_care_subsidy", who) == expected


@pytest.mark.parametrize(
    ("who", "paid"),
    [
        (person(60, econ="tekun_dispersed"), True),  # 孤寡 (proxy: no legal supporter)
        (person(60, family="left_behind", urban=False), True),  # 留守
        (person(60, family="empty_nest"), True),  # 空巢
        (person(60, family="alone"), True),  # 独居
        (person(60, "mild"), True),  # 失能
        (person(60, flags=("handicapped",)), True),  # 重残
        (person(60, flags=("fp_special",)), True),  # 计划生育特殊家庭
        (person(60, flags=("lost_only_child",)), True),
        (person(60), False),
        (person(99, econ="dibao"), False),
    ],
)
def test_003_4_1_visiting_care_for_special_difficulty_elders(nh, who, paid):
    """003-4-1: 孤寡、留守、空巢、独居、失能、重残、计划生育特殊家庭等老年人 (特殊困难老年人)."""
    assert amount(nh, "visiting_care", who) == (30 if paid else 0)


def test_003_payers_are_tianjin_and_the_district():
    """003-7-3: 市、区两级财政 — the municipality books as `city` (tianjin), the district as `county`."""
    scenario = load_scenario(NINGHE)
    assert scenario.region.city == "tianjin"
    assert scenario.region.province == "天津市"
    assert [c.id for c in scenario.region.counties] == ["ninghe"]


# ====================================================================== both scenarios run


@pytest.mark.parametrize("path", [ZHUMADIAN, NINGHE], ids=lambda p: p.stem)
def test_scenario_runs_one_year_with_ledger_rows_for_every_scheme(path):
    # 20,000 people: the rarest paid group (Ninghe's family beds for poor disabled elders, ~1 in 10,000
    # with the market-calibrated care margins) must be in the sample for its line to appear
    result = run_scenario(load_scenario(path).with_run(years=1, simulated_people=20000))
    led = result.ledger
    assert set(led.line_item) == set(scheme_ids(path))
    by_item = led.groupby("line_item")["amount_cny"].sum()
    assert (by_item > 0).all(), by_item
    assert set(led.year) == {2025}
